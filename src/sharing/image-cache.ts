// The seeded-image cache over any key-value storage: edge-safe (Web Crypto, no Node modules).
import { GeneratedImage, type GeneratedImageMetadata } from '../image.js';
import type { Plan, ReferenceImage } from '../shared/plan.js';
import { bytesToHex, canonicalJsonOf } from '../util/canonical-json.js';

/**
 * The few methods of a key-value storage the cache uses: `unstorage`'s `Storage` has them (over fs,
 * Redis, S3, Vercel Blob, Cloudflare KV...), and so does a `Map`-backed object in a test.
 * Keys use `:` as separator.
 */
export type KeyValueStorage = {
  getItem(key: string): Promise<unknown>;
  setItem(key: string, value: string): Promise<void>;
  getItemRaw(key: string): Promise<unknown>;
  setItemRaw(key: string, value: Uint8Array): Promise<void>;
  removeItem(key: string): Promise<void>;
  getKeys(base?: string): Promise<string[]>;
  /** When the item was last written or touched (`unstorage`'s `getMeta`); only some stores know. */
  getMeta?(key: string): Promise<{ mtime?: Date | undefined }>;
  /** Marks an item used now without rewriting it (a folder's `utimes`); else the record is rewritten. */
  touch?(key: string): Promise<void>;
};

/** What the cache keeps for one request: its images' metadata, each pointing at a stored object. */
type CacheRecord = {
  images: (GeneratedImageMetadata & { object: string; extension: string })[];
  /** Bytes of its objects, for the size cap. */
  bytes?: number;
  /** Last written or served (ms since 1970): pruning drops the least recently used first. */
  usedAt?: number;
};

/** How old an object listed by no record must be before a prune removes it: 10 minutes. */
export const ORPHAN_GRACE_MS = 10 * 60 * 1000;

/** A cached image: its bytes (checked against their hash) and what describes it. */
export type CachedImage = { bytes: Uint8Array; extension: string; metadata: GeneratedImageMetadata };

/** A seeded-request cache: what `runBatch`, the workers and `generateImages` read and fill. */
export type SeededImageCache = {
  get(key: string): Promise<CachedImage[] | undefined>;
  put(key: string, images: readonly GeneratedImage[]): Promise<void>;
};

export type PruneResult = { removedRequests: number; removedObjects: number; bytesBefore: number; bytesAfter: number };

export type StorageImageCacheOptions = {
  storage: KeyValueStorage;
  /**
   * SHA-256 of bytes, hex. @default Web Crypto's (edge-safe, asynchronous). Node's synchronous
   * `createHash` is faster for small images: Web Crypto waits for the thread pool, behind file writes.
   */
  sha256?: ((data: Uint8Array) => string | Promise<string>) | undefined;
  /**
   * Size cap in bytes of the images kept: past it, the least recently used requests are dropped.
   * The size is measured once (the first put), then counted on with each put; other processes'
   * puts are seen at the next prune (`imagegen cache prune` runs one on demand). @default no cap
   */
  maxBytes?: number | undefined;
};

/**
 * A content-addressed cache for seeded requests on any key-value storage: the same resolved
 * request and seed give the same image, so it is served from the storage and no request is sent.
 * Image bytes are stored once under their SHA-256 (`objects:<hash>.<ext>`) and checked against it
 * when read; each request's record (`requests:<key>`) lists the objects it made.
 *
 * @example
 * import { createStorage } from 'unstorage';
 * import redisDriver from 'unstorage/drivers/redis';
 * const cache = new StorageImageCache({ storage: createStorage({ driver: redisDriver({ url: process.env.REDIS_URL }) }), maxBytes: 2e9 });
 * await generateImages({ prompt: 'a fox', seed: 1 }, { cache });
 */
export class StorageImageCache implements SeededImageCache {
  readonly storage: KeyValueStorage;
  readonly maxBytes: number | undefined;
  /** The cache's size as this process knows it: measured by the last prune, plus its own puts since. */
  #knownBytes: number | undefined;
  readonly #sha256: (data: Uint8Array) => string | Promise<string>;

  constructor({ storage, maxBytes, sha256 = sha256Hex }: StorageImageCacheOptions) {
    if (maxBytes !== undefined && !(Number.isFinite(maxBytes) && maxBytes >= 0)) {
      throw new RangeError(`maxBytes: must be a number of bytes from 0 up (got ${String(maxBytes)})`);
    }
    this.storage = storage;
    this.maxBytes = maxBytes;
    this.#sha256 = sha256;
  }

  /**
   * The images cached for a key, or `undefined` when there are none, or when any of them is missing
   * or does not match its hash (truncated or edited): that record is dropped, so the request is
   * generated again and cached afresh.
   */
  async get(key: string): Promise<CachedImage[] | undefined> {
    const record = parseRecord(await this.storage.getItem(recordKey(key)).catch(() => undefined));
    if (record === undefined) return undefined;
    const images: CachedImage[] = [];
    for (const { object, extension, ...metadata } of record.images) {
      const bytes = toBytes(await this.storage.getItemRaw(objectKey(object, extension)).catch(() => undefined));
      if (bytes === undefined || (await this.#sha256(bytes)) !== object) {
        if (bytes !== undefined) await this.storage.removeItem(objectKey(object, extension));
        await this.storage.removeItem(recordKey(key));
        return undefined;
      }
      images.push({ bytes, extension, metadata });
    }
    if (images.length === 0) return undefined;
    // Recently used: kept longest by the size cap. Not waited for (the images are here already); a
    // failed touch only makes the entry look older.
    const touched = this.storage.touch ? this.storage.touch(recordKey(key)) : this.storage.setItem(recordKey(key), JSON.stringify({ ...record, usedAt: Date.now() }));
    void touched.catch(() => undefined);
    return images;
  }

  async put(key: string, images: readonly GeneratedImage[]): Promise<void> {
    const record: CacheRecord = { images: [], bytes: 0, usedAt: Date.now() };
    for (const image of images) {
      const object = await this.#sha256(image.uint8Array);
      await this.storage.setItemRaw(objectKey(object, image.extension), image.uint8Array);
      record.images.push({ ...image.toJSON(), object, extension: image.extension });
      record.bytes! += image.uint8Array.length;
    }
    // The record last: a reader never finds a record whose objects are not written yet.
    await this.storage.setItem(recordKey(key), JSON.stringify(record));
    if (this.maxBytes === undefined) return;
    if (this.#knownBytes !== undefined) this.#knownBytes += record.bytes!;
    if (this.#knownBytes === undefined || this.#knownBytes > this.maxBytes) this.#knownBytes = (await this.prune()).bytesAfter;
  }

  /**
   * Keeps the cache under `maxBytes` (given here or to the constructor): drops the least recently
   * used requests, then every object no request still lists (a torn put's, or a dropped one's).
   */
  async prune({
    maxBytes = this.maxBytes,
    orphanGraceMs = ORPHAN_GRACE_MS,
  }: {
    maxBytes?: number | undefined;
    /** An object no request lists is removed only once it is this old: a put in flight writes its objects before its record. */
    orphanGraceMs?: number;
  } = {}): Promise<PruneResult> {
    const requestKeys = await this.storage.getKeys('requests');
    const records: { key: string; record: CacheRecord }[] = [];
    for (const key of requestKeys) {
      const record = parseRecord(await this.storage.getItem(key).catch(() => undefined));
      if (record === undefined) {
        await this.storage.removeItem(key);
        continue;
      }
      const touched = (await this.storage.getMeta?.(key).catch(() => undefined))?.mtime?.getTime() ?? 0;
      records.push({ key, record: { ...record, usedAt: Math.max(record.usedAt ?? 0, touched) } });
    }
    const objectKeys = await this.storage.getKeys('objects');
    // Each object once, however many requests list it; dropped with the last of them.
    const objects = new Map<string, { bytes: number; listedBy: number }>();
    const objectsOf = (record: CacheRecord) => record.images.map((image) => objectKey(image.object, image.extension));
    let total = 0;
    for (const { record } of records) {
      for (const key of objectsOf(record)) {
        const known = objects.get(key);
        if (known !== undefined) known.listedBy++;
        else {
          const bytes = (record.bytes ?? 0) / record.images.length;
          objects.set(key, { bytes, listedBy: 1 });
          total += bytes;
        }
      }
    }
    const bytesBefore = total;
    let removedRequests = 0;
    const freed = new Set<string>();
    if (maxBytes !== undefined && total > maxBytes) {
      records.sort((left, right) => (left.record.usedAt ?? 0) - (right.record.usedAt ?? 0));
      // Down to 90% of the cap, so a busy cache is not pruned after every few puts.
      for (const { key, record } of records) {
        if (total <= maxBytes * 0.9) break;
        await this.storage.removeItem(key);
        removedRequests++;
        for (const object of objectsOf(record)) {
          const known = objects.get(object)!;
          if (--known.listedBy === 0) {
            objects.delete(object);
            freed.add(object);
            total -= known.bytes;
          }
        }
      }
    }
    let removedObjects = 0;
    for (const key of objectKeys) {
      if (objects.has(normalizeKey(key))) continue;
      // Listed by no record: freed above, or a torn put's once it is old enough. A younger one may
      // be a put in flight here or in another process, whose record is not written yet.
      if (!freed.has(normalizeKey(key)) && orphanGraceMs > 0) {
        const mtime = (await this.storage.getMeta?.(key).catch(() => undefined))?.mtime;
        const written = mtime === undefined ? undefined : new Date(mtime).getTime();
        if (written === undefined || Date.now() - written < orphanGraceMs) continue;
      }
      await this.storage.removeItem(key);
      removedObjects++;
    }
    return { removedRequests, removedObjects, bytesBefore: Math.round(bytesBefore), bytesAfter: Math.round(total) };
  }
}

/**
 * The cache key of a planned request, or `undefined` when it is not reproducible (not seeded by
 * the caller). Reference images count by content, so an edited file is not served stale. The same
 * key on every machine, and the same as `ImageCache.keyOf` (Node), so a worker and an app share entries.
 */
export async function imageCacheKey(plan: Pick<Plan, 'resolved' | 'referenceImages' | 'mask'>, seeded: boolean): Promise<string | undefined> {
  if (!seeded || plan.resolved.seed === undefined) return undefined;
  const content = async (image: ReferenceImage) => (image.kind === 'bytes' ? `sha256:${await sha256Hex(image.data)}` : image.url);
  const references = await Promise.all(plan.referenceImages.map(content));
  // Only a plan with a mask has the key: the keys of every other plan stay as they were.
  const mask = plan.mask === undefined ? {} : { mask: await content(plan.mask) };
  // `resolved` holds no bytes (references are listed apart), so no hash is needed inside it.
  const text = canonicalJsonOf({ request: plan.resolved, references, ...mask }, { hashBytes: () => { throw new Error('unexpected bytes in a resolved request'); } });
  return sha256Hex(new TextEncoder().encode(text));
}

/** A cached image as the `GeneratedImage` it was. */
export function imageOfCached({ bytes, metadata: { width: _width, height: _height, mediaType: _mediaType, ...fields } }: CachedImage): GeneratedImage {
  return new GeneratedImage({ ...fields, uint8Array: bytes });
}

export async function sha256Hex(data: Uint8Array): Promise<string> {
  return bytesToHex(new Uint8Array(await crypto.subtle.digest('SHA-256', data as Uint8Array<ArrayBuffer>)));
}

function recordKey(key: string): string {
  return `requests:${key}.json`;
}

function objectKey(object: string, extension: string): string {
  return `objects:${object}.${extension}`;
}

/** `unstorage` lists keys with `:` separators whatever the driver: `objects/x` comes back as `objects:x`. */
function normalizeKey(key: string): string {
  return key.replaceAll('/', ':');
}

function parseRecord(value: unknown): CacheRecord | undefined {
  try {
    const record = (typeof value === 'string' ? JSON.parse(value) : value) as CacheRecord | null | undefined;
    return record !== null && typeof record === 'object' && Array.isArray(record.images) ? record : undefined;
  } catch {
    return undefined;
  }
}

/** What a storage's `getItemRaw` returns, as bytes: a Buffer, a Uint8Array, an ArrayBuffer. */
function toBytes(value: unknown): Uint8Array | undefined {
  if (value instanceof Uint8Array) return new Uint8Array(value.buffer, value.byteOffset, value.byteLength);
  if (value instanceof ArrayBuffer) return new Uint8Array(value);
  return undefined;
}
