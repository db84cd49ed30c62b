import { listModels, registerLiveModels, type LiveModel, type LiveModelList, type ModelCapabilities } from './catalog.js';
import { findAdapter } from '../providers/index.js';

/**
 * A catalog that keeps itself current: the provider's live list of image models, set against the
 * release's catalog. Uses only `fetch`, so it runs in edge runtimes; the on-disk cache with a
 * time-to-live is in the Node entry (`refreshModelListCached`). Nothing is fetched unless asked.
 */

export type FetchLiveModelsOptions = {
  /** @default "togetherai" (the only built-in provider with a live list today) */
  provider?: string;
  /** @default the provider's environment variable */
  apiKey?: string;
  /** @default the provider's base URL variable (`TOGETHER_BASE_URL`), else its public API */
  baseURL?: string;
  fetch?: typeof globalThis.fetch;
  abortSignal?: AbortSignal;
  /** Clock for `fetchedAt`, for tests. @default () => new Date() */
  now?: () => Date;
};

/** What a live list says about the catalog. */
export type CatalogComparison = {
  provider: string;
  fetchedAt: string;
  /** Listed by the provider, unknown to this release: they run with generic capabilities, unchecked. */
  newModels: LiveModel[];
  /** In the catalog, no longer listed by the provider (deprecated or removed). */
  unlistedModels: ModelCapabilities[];
  /** In the catalog and listed. */
  listedModels: ModelCapabilities[];
};

/** Reads the provider's live list of image models (Together: `GET /v1/models`, `type: "image"`). */
export async function fetchLiveModels(options: FetchLiveModelsOptions = {}): Promise<LiveModelList> {
  const provider = options.provider ?? 'togetherai';
  const adapter = findAdapter(provider);
  if (adapter?.listModels === undefined) {
    throw new Error(`${provider} has no live model list the toolkit can read; providers with one: ${['togetherai'].join(', ')}`);
  }
  const models = await adapter.listModels({
    fetch: options.fetch ?? globalThis.fetch,
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    abortSignal: options.abortSignal,
  });
  return { provider, fetchedAt: (options.now?.() ?? new Date()).toISOString(), models };
}

/** The live list set against the catalog: new models, and catalog models no longer listed. */
export function compareWithCatalog(list: LiveModelList): CatalogComparison {
  const catalog = listModels({ provider: list.provider });
  const catalogIds = new Set(catalog.map((model) => model.modelId));
  const liveIds = new Set(list.models.map((model) => model.id));
  return {
    provider: list.provider,
    fetchedAt: list.fetchedAt,
    newModels: list.models.filter((model) => !catalogIds.has(model.id)),
    unlistedModels: catalog.filter((model) => !liveIds.has(model.modelId)),
    listedModels: catalog.filter((model) => liveIds.has(model.modelId)),
  };
}

/**
 * Fetches the live list, records it (its ids are then not taken for typos, and run with generic
 * capabilities and a warning naming the list), and compares it with the catalog.
 * @example const { newModels, unlistedModels } = await refreshModelList();
 */
export async function refreshModelList(options: FetchLiveModelsOptions = {}): Promise<CatalogComparison & { list: LiveModelList }> {
  const list = await fetchLiveModels(options);
  registerLiveModels(list);
  return { ...compareWithCatalog(list), list };
}
