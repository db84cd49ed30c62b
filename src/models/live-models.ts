import { listModels, registerLiveModels, type LiveModel, type LiveModelList, type ModelCapabilities } from './catalog.js';
import { findAdapter } from '../providers/index.js';
import { DEFAULT_DOWNLOAD_LIMITS, guardedFetch } from '../util/download.js';
import { hasControlCharacters, plainText } from '../util/plain-text.js';

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
  /** The longest the whole fetch may take, body included. @default 30_000 */
  timeoutMs?: number;
  /** The largest list body read; a larger one is an error, not a truncated list. @default 8 MB */
  maxBytes?: number;
};

/** The deadline and size cap of a live list fetch: Together's whole list is about 300 KB. */
export const LIVE_LIST_LIMITS = { timeoutMs: 30_000, maxBytes: 8 * 1024 * 1024 } as const;

/** Longest model id kept from a live list; longer ones are not ids and are dropped. */
const MAX_ID_LENGTH = 200;
/** Longest display name or organization kept; longer ones are cut. */
const MAX_NAME_LENGTH = 120;

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
  const limits = {
    ...DEFAULT_DOWNLOAD_LIMITS,
    timeoutMs: options.timeoutMs ?? LIVE_LIST_LIMITS.timeoutMs,
    maxBytes: options.maxBytes ?? LIVE_LIST_LIMITS.maxBytes,
    what: `${provider}'s model list`,
  };
  const models = await adapter.listModels({
    fetch: guardedFetch(limits, options.fetch ?? globalThis.fetch),
    apiKey: options.apiKey,
    baseURL: options.baseURL,
    abortSignal: options.abortSignal,
  });
  return { provider, fetchedAt: (options.now?.() ?? new Date()).toISOString(), models: checkedLiveModels(models) };
}

/**
 * A live list as the toolkit keeps it, whoever wrote it (the provider, or a cache file on disk):
 * ids that are strings of at most 200 printable characters without spaces, each once; names and
 * organizations without control characters, at most 120 characters. Everything else is dropped,
 * so nothing a server sends reaches a terminal raw.
 */
export function checkedLiveModels(models: readonly unknown[]): LiveModel[] {
  const seen = new Set<string>();
  const checked: LiveModel[] = [];
  for (const item of models) {
    const model = item as { id?: unknown; displayName?: unknown; organization?: unknown } | null;
    const id = model?.id;
    if (typeof id !== 'string' || id.length === 0 || id.length > MAX_ID_LENGTH || /\s/.test(id) || hasControlCharacters(id) || seen.has(id)) continue;
    seen.add(id);
    checked.push({
      id,
      ...(typeof model!.displayName === 'string' ? { displayName: plainText(model!.displayName, MAX_NAME_LENGTH) } : {}),
      ...(typeof model!.organization === 'string' ? { organization: plainText(model!.organization, MAX_NAME_LENGTH) } : {}),
    });
  }
  return checked;
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
