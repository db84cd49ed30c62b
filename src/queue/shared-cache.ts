// Node-only: the seeded cache a run's workers share, from its setting (a folder, or Redis through unstorage).
import { ImageCache } from '../batch/cache.js';
import { sha256 } from '../batch/input.js';
import { StorageImageCache, type KeyValueStorage } from '../sharing/image-cache.js';
import { missingPackage, parseRedisUrl } from './connection.js';
import type { SharedCacheSetting } from './settings.js';

/** Keys of the cache in Redis: beside the queues, apart from them. */
export const REDIS_CACHE_BASE = 'imagegen:cache';

/**
 * The cache for a setting: a folder (on a shared filesystem, for workers on several machines), or
 * Redis through `unstorage`'s redis driver (chosen over a client of our own: one interface over
 * Redis, fs, S3, Vercel Blob, Cloudflare KV, so an app passes whichever store it has).
 */
export async function openSharedCache(setting: SharedCacheSetting): Promise<{ cache: ImageCache | StorageImageCache; close: () => Promise<void> } | undefined> {
  if (setting === false) return undefined;
  if (setting.kind === 'dir') return { cache: new ImageCache(setting.dir, { maxBytes: setting.maxBytes }), close: async () => {} };
  const storage = await redisStorage(setting.url);
  return { cache: new StorageImageCache({ storage, maxBytes: setting.maxBytes, sha256 }), close: () => storage.dispose() };
}

/** An `unstorage` storage on Redis (URL checked first, as the `--cache` flag). */
export async function redisStorage(url: string, field = '--cache'): Promise<KeyValueStorage & { dispose(): Promise<void> }> {
  const target = parseRedisUrl(url, field);
  const feature = 'a Redis cache';
  const [{ createStorage }, { default: redisDriver }] = await Promise.all([import('unstorage'), import('unstorage/drivers/redis')]).catch((error: unknown) => {
    throw missingPackage(error, feature, 'unstorage ioredis');
  });
  return createStorage({
    driver: redisDriver({
      host: target.host,
      port: target.port,
      db: target.db,
      ...(target.username === undefined ? {} : { username: target.username }),
      ...(target.password === undefined ? {} : { password: target.password }),
      ...(target.tls ? { tls: {} } : {}),
      base: REDIS_CACHE_BASE,
      // Reads wait for a lost connection to come back, as the queue's do.
      maxRetriesPerRequest: null,
    }),
  }) as unknown as KeyValueStorage & { dispose(): Promise<void> };
}
