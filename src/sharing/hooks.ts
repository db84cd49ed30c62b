// The shared cache around one `generateImages` request (edge-safe).
import type { GenerateImagesResult } from '../pipeline/collect.js';
import { collectResult } from '../pipeline/collect.js';
import type { Plan } from '../shared/plan.js';
import type { ImagegenWarning } from '../shared/plan.js';
import { imageCacheKey, imageOfCached, type SeededImageCache } from './image-cache.js';

type Prepared = { readonly plan: Plan; readonly warnings: readonly ImagegenWarning[] };

/**
 * A seeded request's images from the shared cache, as a result with no call made; or the key to
 * store them under once generated. A cache that fails to answer is a miss: it only costs a request.
 */
export async function fromSharedCache({
  cache,
  prepared,
  seeded,
  started,
}: {
  cache: SeededImageCache | undefined;
  prepared: Prepared;
  seeded: boolean;
  started: number;
}): Promise<{ result?: GenerateImagesResult; key?: string }> {
  if (cache === undefined) return {};
  const key = await imageCacheKey(prepared.plan, seeded);
  if (key === undefined) return {};
  const hit = await cache.get(key).catch(() => undefined);
  if (hit === undefined) return { key };
  const images = hit.map(imageOfCached);
  // Served with no provider call: no responses, calls or usage, and nothing spent.
  return { result: { ...collectResult(prepared, [], started), image: images[0]!, images, estimatedCostUsd: 0, actualCostUsd: 0 } };
}

/** Keeps a complete result's images for the other processes; a partial one (a call failed) is not kept. */
export async function toSharedCache({ cache, key, result }: { cache: SeededImageCache | undefined; key: string | undefined; result: GenerateImagesResult }): Promise<void> {
  if (cache === undefined || key === undefined || result.errors.length > 0 || result.images.length === 0) return;
  await cache.put(key, result.images).catch(() => undefined);
}
