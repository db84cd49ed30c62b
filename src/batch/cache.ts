import { mkdir, readdir, readFile, rm, stat, utimes } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically } from '../files/files.js';
import type { Plan } from '../pipeline/plan.js';
import type { ReferenceImage } from '../pipeline/load.js';
import { StorageImageCache, type KeyValueStorage } from '../sharing/image-cache.js';
import { canonicalJson, sha256 } from './input.js';

export type { CachedImage, PruneResult, SeededImageCache } from '../sharing/image-cache.js';

/**
 * The seeded-request cache in a folder: `objects/<sha256>.<ext>` and `requests/<key>.json`, each
 * file written atomically. The same cache as `StorageImageCache` over any other storage (Redis, S3...),
 * with this folder as its storage.
 */
export class ImageCache extends StorageImageCache {
  readonly dir: string;

  constructor(dir: string, { maxBytes }: { maxBytes?: number | undefined } = {}) {
    super({ storage: folderStorage(dir), maxBytes, sha256 });
    this.dir = dir;
  }

  /**
   * The cache key of a planned request (synchronous; the same as `imageCacheKey`), or `undefined`
   * when it is not reproducible (not seeded by the caller). Reference images and the mask count by
   * content, so an edited file is not served stale.
   */
  static keyOf(plan: Pick<Plan, 'resolved' | 'referenceImages' | 'mask'>, seeded: boolean): string | undefined {
    if (!seeded || plan.resolved.seed === undefined) return undefined;
    const content = (image: ReferenceImage) => (image.kind === 'bytes' ? `sha256:${sha256(image.data)}` : image.url);
    const references = plan.referenceImages.map(content);
    // Only a plan with a mask has the key: the keys of every other plan stay as they were.
    return sha256(canonicalJson({ request: plan.resolved, references, ...(plan.mask === undefined ? {} : { mask: content(plan.mask) }) }));
  }
}

/** A folder as a key-value storage: `a:b` is the file `a/b`; every write atomic. */
export function folderStorage(dir: string): KeyValueStorage {
  const file = (key: string) => path.join(dir, ...key.split(':'));
  const read = (key: string) => readFile(file(key)).catch((error: NodeJS.ErrnoException) => (error.code === 'ENOENT' ? undefined : Promise.reject(error)));
  const write = async (key: string, value: string | Uint8Array) => {
    await mkdir(path.dirname(file(key)), { recursive: true });
    await writeFileAtomically(file(key), value);
  };
  return {
    getItem: async (key) => (await read(key))?.toString('utf8'),
    setItem: write,
    getItemRaw: async (key) => {
      const bytes = await read(key);
      return bytes === undefined ? undefined : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    },
    setItemRaw: write,
    removeItem: (key) => rm(file(key), { force: true }),
    getKeys: async (base = '') => {
      const names = await readdir(file(base)).catch(() => [] as string[]);
      // A killed write's temporary file is no entry.
      return names.filter((name) => !name.startsWith('.')).map((name) => (base === '' ? name : `${base}:${name}`));
    },
    getMeta: async (key) => ({ mtime: (await stat(file(key))).mtime }),
    touch: async (key) => {
      const now = new Date();
      await utimes(file(key), now, now);
    },
  };
}
