import transliteratedSlug from '@sindresorhus/slugify';
import { randomUUID } from 'node:crypto';
import { constants } from 'node:fs';
import { copyFile, link, mkdir, open, readdir, realpath, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { DEFAULT_MAX_INPUT_IMAGE_BYTES } from '../shared/capabilities.js';
import { redactSecrets } from '../errors/errors.js';
import type { GeneratedImage, GeneratedImageMetadata } from '../image.js';
import { roundUsd } from '../pipeline/cost.js';
import type { ImagegenWarning } from '../pipeline/plan.js';

/**
 * One image as every output reports it: `generate --json`, the `.json` sidecars, `batch --json`
 * and compare rows (schema/result.schema.json). Absent values are `null`, never left out.
 */
export type ImageResult = {
  /** The image file, relative to the output folder (`--out`). */
  file: string;
  /** `"provider:modelId"`, e.g. `"togetherai:black-forest-labs/FLUX.1-schnell"`. */
  model: string;
  provider: string;
  modelId: string;
  seed: number | null;
  width: number;
  height: number;
  mediaType: string;
  /** Position among the images of its request, from 0. */
  index: number;
  /** Wall time of the provider call that made it; `null` when it came from the cache. */
  latencyMs: number | null;
  /** Served from the cache of seeded requests: no call, no cost. */
  cached: boolean;
  /** Its share of the request's estimated cost; `null` when the price is unknown. */
  estimatedCostUsd: number | null;
  /**
   * Its share of what the provider reported the request cost (Black Forest Labs, xAI, OpenAI's
   * tokens priced); `null` when the provider reports nothing. `0` when cached.
   */
  actualCostUsd: number | null;
  warnings: ImagegenWarning[];
};

/** What a `.json` sidecar next to an image holds: the shared result, and enough to reproduce and audit it. */
export type Sidecar = ImageResult &
  Omit<GeneratedImageMetadata, 'seed'> & {
    /** Wall time of the whole request, queue and retries included. */
    durationMs: number;
    createdAt: string;
    generator: 'ai-imagegen';
  };

export type SavedImage = { path: string; sidecarPath: string; image: GeneratedImage; result: ImageResult };

/**
 * A file-name slug from a prompt: lowercase ASCII letters, digits and dashes only, so no prompt can
 * make a name that leaves the output folder, hides itself or breaks a shell.
 */
export function slugify(text: string, maxLength = 48): string {
  // Transliterated, not stripped: "Straße" is strasse, "Łódź" lodz, Cyrillic reads in Latin letters.
  const slug = transliteratedSlug(text, { decamelize: false })
    // The guarantee above is ours to keep, whatever the library's options become.
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+/, '')
    .slice(0, maxLength)
    .replace(/-+$/, '');
  return slug || 'image';
}

/** `yyyymmdd-hhmmss` in UTC. */
export function timestamp(date: Date): string {
  return date.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/** `<yyyymmdd-hhmmss>-<prompt-slug>-<seed or index>.<ext>`; the index is added when seeds repeat. */
export function imageFileName({
  date,
  prompt,
  seed,
  index,
  extension,
}: {
  date: Date;
  prompt: string;
  seed: number | undefined;
  index: number;
  extension: string;
}): string {
  const suffix = seed === undefined ? `${index}` : `${seed}`;
  return `${timestamp(date)}-${slugify(prompt)}-${suffix}.${extension}`;
}

/** `path.join(folder, name)`, refusing any name that would land outside `folder`. */
export function pathInside(folder: string, name: string): string {
  const root = path.resolve(folder);
  const target = path.resolve(root, name);
  if (path.dirname(target) !== root) throw new Error(`refusing to write outside ${root}: ${name}`);
  return target;
}

/** Temporary files start with this, so a run after a crash can recognise and remove them. */
export const TEMPORARY_FILE_PREFIX = '.imagegen-tmp-';

/**
 * Writes to a hidden temporary file in the same folder, flushes it to disk, then renames it over
 * the target: readers see the old file or the whole new one, never a part.
 */
export async function writeFileAtomically(filePath: string, data: Uint8Array | string): Promise<void> {
  const temporary = temporaryPathBeside(filePath);
  try {
    await writeFlushed(temporary, data);
    await rename(temporary, filePath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
  }
}

/**
 * Writes a new file and never replaces one: flushed under a temporary name, then hard-linked to
 * `filePath`, which fails with `EEXIST` when something is there (atomic, unlike a check first).
 * Resolves `false` when the name is taken. File systems without hard links get an exclusive copy.
 */
export async function writeNewFile(filePath: string, data: Uint8Array | string): Promise<boolean> {
  const temporary = temporaryPathBeside(filePath);
  try {
    await writeFlushed(temporary, data);
    try {
      await link(temporary, filePath);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw error;
      try {
        await copyFile(temporary, filePath, constants.COPYFILE_EXCL);
      } catch (copyError) {
        if ((copyError as NodeJS.ErrnoException).code === 'EEXIST') return false;
        throw copyError;
      }
    }
    return true;
  } finally {
    await rm(temporary, { force: true });
  }
}

/** A temporary name in the file's own folder (so a rename or link stays on one file system), named for this process. */
function temporaryPathBeside(filePath: string): string {
  return path.join(path.dirname(filePath), `${TEMPORARY_FILE_PREFIX}${process.pid}-${randomUUID()}`);
}

/** Creates `filePath` (it must not exist) with `data`, flushed to disk before it resolves. */
async function writeFlushed(filePath: string, data: Uint8Array | string): Promise<void> {
  const handle = await open(filePath, 'wx');
  try {
    await handle.writeFile(data);
    await handle.sync();
  } finally {
    await handle.close();
  }
}

/**
 * Removes temporary files a killed process left in `folder`. Each is named for the process that
 * writes it (`.imagegen-tmp-<pid>-…`): those of a process still running are its own and stay.
 */
export async function removeTemporaryFiles(folder: string): Promise<number> {
  const names = await readdir(folder).catch(() => [] as string[]);
  const stale = names.filter((name) => {
    if (!name.startsWith(TEMPORARY_FILE_PREFIX)) return false;
    const pid = Number(/^(\d+)-/.exec(name.slice(TEMPORARY_FILE_PREFIX.length))?.[1]);
    return !Number.isInteger(pid) || !processIsAlive(pid);
  });
  await Promise.all(stale.map((name) => rm(path.join(folder, name), { force: true })));
  return stale.length;
}

/** Whether a process with this id runs on this machine (signal 0 checks without sending anything). */
export function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: it exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Saves images and their sidecars into `outDir`, each written atomically. Names are unique within
 * the call: when two images would share a name (same seed), the index is appended. Without a
 * `name`, an existing file is never replaced: a taken name (the same prompt and seed in the same
 * second, say on another model) gets `-2`, `-3`, … With a `name`, the caller owns the names
 * (batch runs rewrite their own files on resume).
 */
export async function saveImages({
  images,
  outDir,
  warnings = [],
  durationMs = 0,
  latencyMs = durationMs,
  estimatedCostUsd,
  actualCostUsd,
  date = new Date(),
  name,
  cached = false,
}: {
  images: readonly GeneratedImage[];
  outDir: string;
  warnings?: readonly ImagegenWarning[];
  /** The whole request, queue and retries included. */
  durationMs?: number;
  /** The provider call. @default durationMs */
  latencyMs?: number;
  estimatedCostUsd?: number | undefined;
  /** What the provider reported the request cost, shared out over its images like the estimate. */
  actualCostUsd?: number | undefined;
  date?: Date;
  /** Overrides the file name (without extension) per image. */
  name?: (image: GeneratedImage) => string;
  /** Served from the cache: no call made (`latencyMs` null) and nothing spent. */
  cached?: boolean;
}): Promise<SavedImage[]> {
  await mkdir(outDir, { recursive: true });
  const seeds = images.map((image) => image.seed);
  const repeated = new Set(seeds.filter((seed, position) => seed !== undefined && seeds.indexOf(seed) !== position));
  const saved: SavedImage[] = [];
  for (const image of images) {
    const base = name
      ? name(image)
      : imageFileName({
          date,
          prompt: image.request.prompt,
          seed: image.seed,
          index: image.index,
          extension: image.extension,
        }).replace(/\.[a-z]+$/, '');
    const unique = !name && image.seed !== undefined && repeated.has(image.seed) ? `${base}-${image.index}` : base;
    const resultOf = (imagePath: string): ImageResult => ({
      file: path.basename(imagePath),
      model: `${image.provider}:${image.modelId}`,
      provider: image.provider,
      modelId: image.modelId,
      seed: image.seed ?? null,
      width: image.width,
      height: image.height,
      mediaType: image.mediaType,
      index: image.index,
      latencyMs: cached ? null : latencyMs,
      cached,
      estimatedCostUsd: cached ? 0 : estimatedCostUsd === undefined ? null : estimatedCostUsd / Math.max(1, images.length),
      actualCostUsd: cached ? 0 : actualCostUsd === undefined ? null : roundUsd(actualCostUsd / Math.max(1, images.length)),
      warnings: [...warnings],
    });
    const sidecarOf = (imagePath: string): string => {
      const { seed: _seed, ...metadata } = image.toJSON();
      const sidecar: Sidecar = {
        ...metadata,
        ...resultOf(imagePath),
        durationMs,
        createdAt: date.toISOString(),
        generator: 'ai-imagegen',
      };
      return `${redactSecrets(JSON.stringify(sidecar, null, 2))}\n`;
    };
    if (name) {
      const imagePath = pathInside(outDir, `${unique}.${image.extension}`);
      const sidecarPath = pathInside(outDir, `${unique}.json`);
      await writeFileAtomically(imagePath, image.uint8Array);
      await writeFileAtomically(sidecarPath, sidecarOf(imagePath));
      saved.push({ path: imagePath, sidecarPath, image, result: resultOf(imagePath) });
      continue;
    }
    for (let attempt = 1; ; attempt++) {
      const candidate = attempt === 1 ? unique : `${unique}-${attempt}`;
      const imagePath = pathInside(outDir, `${candidate}.${image.extension}`);
      const sidecarPath = pathInside(outDir, `${candidate}.json`);
      if (!(await writeNewFile(imagePath, image.uint8Array))) continue;
      // The sidecar's name can be taken by an image of another format (`x.png` beside `x.jpg`).
      if (!(await writeNewFile(sidecarPath, sidecarOf(imagePath)))) {
        await rm(imagePath, { force: true });
        continue;
      }
      saved.push({ path: imagePath, sidecarPath, image, result: resultOf(imagePath) });
      break;
    }
  }
  return saved;
}

/** What reference images may weigh when the provider names no limit of its own. */
export const MAX_REFERENCE_IMAGE_BYTES = DEFAULT_MAX_INPUT_IMAGE_BYTES;

/** A reference image file that cannot be used as one (not a regular file, too large); nothing was sent. */
export class ReferenceFileError extends Error {
  override name = 'ReferenceFileError';
}

/**
 * Reads a reference image from disk (the Node entry's `readFile` for `generateImages`): regular
 * files only (a FIFO or device would block or never end), at most `maxBytes`, checked from the
 * file's size before a byte is read, and cancelled by `signal`.
 */
export async function readImageFile(
  filePath: string,
  { maxBytes = MAX_REFERENCE_IMAGE_BYTES, signal }: { maxBytes?: number; signal?: AbortSignal | undefined } = {},
): Promise<Uint8Array> {
  // Non-blocking, so opening a FIFO with no writer returns at once instead of waiting for one.
  const handle = await open(filePath, constants.O_RDONLY | constants.O_NONBLOCK);
  try {
    const stats = await handle.stat();
    if (!stats.isFile()) {
      const kind = stats.isFIFO() ? 'a FIFO' : stats.isDirectory() ? 'a folder' : stats.isSocket() ? 'a socket' : 'a device';
      throw new ReferenceFileError(`is ${kind}, not a regular file; nothing was read or sent`);
    }
    if (stats.size > maxBytes) {
      throw new ReferenceFileError(`is ${formatSize(stats.size)}, over the ${formatSize(maxBytes)} limit for reference images; nothing was read or sent`);
    }
    const data = await handle.readFile(signal === undefined ? {} : { signal });
    if (data.length > maxBytes) throw new ReferenceFileError(`grew past the ${formatSize(maxBytes)} limit for reference images while it was read`);
    return new Uint8Array(data.buffer, data.byteOffset, data.byteLength);
  } finally {
    await handle.close();
  }
}

/**
 * `readImageFile` for paths inside `folders` only (an MCP client's or a language model's paths):
 * every path outside, a link inside that leads outside, and a missing file get the same error, so
 * the answers cannot tell which files exist elsewhere. Relative paths are taken from the working directory.
 */
export function confinedImageReader(folders: readonly string[]): (filePath: string, options?: { maxBytes?: number; signal?: AbortSignal | undefined }) => Promise<Uint8Array> {
  const roots = folders.map((folder) => path.resolve(folder));
  const realRoots = Promise.all(roots.map((root) => realpath(root).catch(() => root)));
  const inside = (target: string, candidates: readonly string[]) =>
    candidates.some((root) => target === root || target.startsWith(root.endsWith(path.sep) ? root : `${root}${path.sep}`));
  // One message for outside and missing: a link inside that leads outside must not tell either.
  const outside = () => new ReferenceFileError(`is not a file in a folder this server may read (${roots.join(', ')}); nothing was read or sent`);
  return async (filePath, options) => {
    const target = path.resolve(filePath);
    if (!inside(target, roots)) throw outside();
    const real = await realpath(target).catch(() => undefined);
    if (real === undefined || !inside(real, await realRoots)) throw outside();
    return readImageFile(real, options);
  };
}

function formatSize(bytes: number): string {
  return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
}
