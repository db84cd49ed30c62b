import { mkdir, open } from 'node:fs/promises';
import path from 'node:path';
import { defaultCacheDir } from './cache-dir.js';
import { registerLiveModels, type LiveModelList } from '../models/catalog.js';
import { checkedLiveModels, compareWithCatalog, fetchLiveModels, type CatalogComparison, type FetchLiveModelsOptions } from '../models/live-models.js';
import { writeFileAtomically } from './files.js';

/** How long a fetched model list is trusted before `--refresh` fetches again. */
export const DEFAULT_MODEL_LIST_MAX_AGE_MS = 24 * 60 * 60 * 1000;

export type CachedModelListOptions = FetchLiveModelsOptions & {
  /** @default defaultCacheDir() (`IMAGEGEN_CACHE_DIR`, else `~/.cache/ai-imagegen`) */
  cacheDir?: string;
  /** A cached list younger than this is used without fetching; `0` always fetches. @default 24 hours */
  maxAgeMs?: number;
};

/** The largest cache file read; a list within the fetch cap, as kept, is far smaller. */
const MAX_CACHE_BYTES = 8 * 1024 * 1024;

/** The file's text, or a throw when it is larger than `maxBytes` (read no further than that). */
async function readSmallFile(file: string, maxBytes: number): Promise<string> {
  const handle = await open(file, 'r');
  try {
    const { size } = await handle.stat();
    if (size > maxBytes) throw new RangeError(`${file} is ${size} bytes, over ${maxBytes}`);
    return await handle.readFile('utf8');
  } finally {
    await handle.close();
  }
}

/** Where a provider's list is cached. */
export function modelListCachePath(provider: string, cacheDir = defaultCacheDir()): string {
  return path.join(cacheDir, 'models', `${provider.replace(/[^a-z0-9.-]/gi, '_')}.json`);
}

/**
 * The cached live list of a provider, recorded in the catalog (so its ids are not taken for
 * typos), or `undefined` when none was ever fetched. Reads the disk only; never fetches.
 */
export async function loadCachedModelList({
  provider = 'togetherai',
  cacheDir,
}: { provider?: string; cacheDir?: string | undefined } = {}): Promise<LiveModelList | undefined> {
  let text: string;
  try {
    text = await readSmallFile(modelListCachePath(provider, cacheDir), MAX_CACHE_BYTES);
  } catch {
    return undefined; // None, or over the cap: a planted 50 MB file is not re-read by every command.
  }
  try {
    const list = JSON.parse(text) as LiveModelList;
    if (list.provider !== provider || typeof list.fetchedAt !== 'string' || !Array.isArray(list.models)) return undefined;
    // A planted or hand-edited cache is held to what a fetched list is: no control characters, no huge fields.
    const checked = { provider, fetchedAt: list.fetchedAt, models: checkedLiveModels(list.models) };
    registerLiveModels(checked);
    return checked;
  } catch {
    return undefined; // A damaged cache is as good as none: the next refresh rewrites it.
  }
}

/**
 * `refreshModelList` with an on-disk cache: a list younger than `maxAgeMs` is read from disk,
 * otherwise the provider is asked and the cache rewritten (atomically).
 */
export async function refreshModelListCached(
  options: CachedModelListOptions = {},
): Promise<CatalogComparison & { list: LiveModelList; fromCache: boolean; ageMs: number }> {
  const provider = options.provider ?? 'togetherai';
  const now = options.now ?? (() => new Date());
  const maxAgeMs = options.maxAgeMs ?? DEFAULT_MODEL_LIST_MAX_AGE_MS;
  const cached = await loadCachedModelList({ provider, cacheDir: options.cacheDir });
  const ageMs = cached === undefined ? Infinity : now().getTime() - Date.parse(cached.fetchedAt);
  if (cached !== undefined && ageMs >= 0 && ageMs < maxAgeMs) {
    return { ...compareWithCatalog(cached), list: cached, fromCache: true, ageMs };
  }
  const list = await fetchLiveModels({ ...options, provider, now });
  const file = modelListCachePath(provider, options.cacheDir);
  await mkdir(path.dirname(file), { recursive: true });
  await writeFileAtomically(file, `${JSON.stringify(list)}\n`);
  registerLiveModels(list);
  return { ...compareWithCatalog(list), list, fromCache: false, ageMs: 0 };
}
