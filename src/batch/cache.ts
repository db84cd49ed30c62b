import { copyFile, mkdir, readFile, rename, rm } from 'node:fs/promises';
import { homedir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import type { GeneratedImage, GeneratedImageMetadata } from '../image.js';
import { TEMPORARY_FILE_PREFIX, writeFileAtomically } from '../node/files.js';
import type { Plan } from '../plan.js';
import { canonicalJson, sha256 } from './input.js';

/** What the cache keeps for one request: its images' metadata, each pointing at a stored object. */
type CacheRecord = { images: (GeneratedImageMetadata & { object: string; extension: string })[] };

/** A cached image: where its bytes are and what describes it. */
export type CachedImage = { objectPath: string; extension: string; metadata: GeneratedImageMetadata };

/** `$IMAGEGEN_CACHE_DIR`, else `$XDG_CACHE_HOME/ai-imagegen`, else `~/.cache/ai-imagegen`. */
export function defaultCacheDir(env: Record<string, string | undefined> = process.env): string {
  return env.IMAGEGEN_CACHE_DIR || path.join(env.XDG_CACHE_HOME || path.join(homedir(), '.cache'), 'ai-imagegen');
}

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
   * the caller). Reference images count by content, so an edited file is not served stale.
   */
  static keyOf(plan: Pick<Plan, 'resolved' | 'referenceImages'>, seeded: boolean): string | undefined {
    if (!seeded || plan.resolved.seed === undefined) return undefined;
    const references = plan.referenceImages.map((image) => (image.data ? `sha256:${sha256(image.data)}` : image.url));
    return sha256(canonicalJson({ request: plan.resolved, references }));
  }

  async get(key: string): Promise<CachedImage[] | undefined> {
    try {
      const record = JSON.parse(await readFile(this.#recordPath(key), 'utf8')) as CacheRecord;
      return record.images.map(({ object, extension, ...metadata }) => ({
        objectPath: this.#objectPath(object, extension),
        extension,
        metadata,
      }));
    } catch {
      return undefined;
    }
  }

  async put(key: string, images: readonly GeneratedImage[]): Promise<void> {
    await mkdir(path.join(this.dir, 'objects'), { recursive: true });
    await mkdir(path.join(this.dir, 'requests'), { recursive: true });
    const record: CacheRecord = { images: [] };
    for (const image of images) {
      const object = sha256(image.bytes);
      await writeFileAtomically(this.#objectPath(object, image.extension), image.bytes);
      record.images.push({ ...image.toJSON(), object, extension: image.extension });
    }
    await writeFileAtomically(this.#recordPath(key), JSON.stringify(record));
  }

  /** Copies a cached object to `target` atomically (copy to a temporary name, then rename). */
  static async copyOut(objectPath: string, target: string): Promise<void> {
    const temporary = path.join(path.dirname(target), `${TEMPORARY_FILE_PREFIX}${process.pid}-${randomUUID()}`);
    try {
      await copyFile(objectPath, temporary);
      await rename(temporary, target);
    } catch (error) {
      await rm(temporary, { force: true });
      throw error;
    }
  }

  #recordPath(key: string): string {
    return path.join(this.dir, 'requests', `${key}.json`);
  }

  #objectPath(object: string, extension: string): string {
    return path.join(this.dir, 'objects', `${object}.${extension}`);
  }
}
