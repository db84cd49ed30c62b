import { mkdir, readFile, rm } from 'node:fs/promises';
import path from 'node:path';
import type { GeneratedImage, GeneratedImageMetadata } from '../image.js';
import { writeFileAtomically } from '../files/files.js';
import type { Plan } from '../pipeline/plan.js';
import type { ReferenceImage } from '../pipeline/load.js';
import { canonicalJson, sha256 } from './input.js';

/** What the cache keeps for one request: its images' metadata, each pointing at a stored object. */
type CacheRecord = { images: (GeneratedImageMetadata & { object: string; extension: string })[] };

/** A cached image: its bytes (checked against their hash) and what describes it. */
export type CachedImage = { bytes: Uint8Array; extension: string; metadata: GeneratedImageMetadata };

/**
 * A content-addressed image cache for seeded requests: the same resolved request and seed give the
 * same image, so it is served from disk and no request is sent. Image bytes are stored once under
 * their SHA-256; each request's record lists the objects it made.
 */
export class ImageCache {
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
  }

  /**
   * The cache key of a planned request, or `undefined` when it is not reproducible (not seeded by
   * the caller). Reference images and the mask count by content, so an edited file is not served stale.
   */
  static keyOf(plan: Pick<Plan, 'resolved' | 'referenceImages' | 'mask'>, seeded: boolean): string | undefined {
    if (!seeded || plan.resolved.seed === undefined) return undefined;
    const content = (image: ReferenceImage) => (image.kind === 'bytes' ? `sha256:${sha256(image.data)}` : image.url);
    const references = plan.referenceImages.map(content);
    // Only a plan with a mask has the key: the keys of every other plan stay as they were.
    return sha256(canonicalJson({ request: plan.resolved, references, ...(plan.mask === undefined ? {} : { mask: content(plan.mask) }) }));
  }

  /**
   * The images cached for a key, or `undefined` when there are none, or when any of them is missing
   * or does not match its hash (a truncated or edited object): that record is dropped, so the
   * request is generated again and cached afresh.
   */
  async get(key: string): Promise<CachedImage[] | undefined> {
    let record: CacheRecord;
    try {
      record = JSON.parse(await readFile(this.#recordPath(key), 'utf8')) as CacheRecord;
    } catch {
      return undefined;
    }
    const images: CachedImage[] = [];
    for (const { object, extension, ...metadata } of record.images ?? []) {
      const objectPath = this.#objectPath(object, extension);
      const bytes = await readFile(objectPath).catch(() => undefined);
      if (bytes === undefined || sha256(bytes) !== object) {
        if (bytes !== undefined) await rm(objectPath, { force: true });
        await rm(this.#recordPath(key), { force: true });
        return undefined;
      }
      images.push({ bytes: new Uint8Array(bytes), extension, metadata });
    }
    return images.length > 0 ? images : undefined;
  }

  async put(key: string, images: readonly GeneratedImage[]): Promise<void> {
    await mkdir(path.join(this.dir, 'objects'), { recursive: true });
    await mkdir(path.join(this.dir, 'requests'), { recursive: true });
    const record: CacheRecord = { images: [] };
    for (const image of images) {
      const object = sha256(image.uint8Array);
      await writeFileAtomically(this.#objectPath(object, image.extension), image.uint8Array);
      record.images.push({ ...image.toJSON(), object, extension: image.extension });
    }
    await writeFileAtomically(this.#recordPath(key), JSON.stringify(record));
  }

  #recordPath(key: string): string {
    return path.join(this.dir, 'requests', `${key}.json`);
  }

  #objectPath(object: string, extension: string): string {
    return path.join(this.dir, 'objects', `${object}.${extension}`);
  }
}
