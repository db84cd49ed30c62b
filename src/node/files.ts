import { randomUUID } from 'node:crypto';
import { mkdir, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import path from 'node:path';
import { downloadImage } from '../download.js';
import { redactSecrets } from '../errors.js';
import type { GeneratedImage, GeneratedImageMetadata } from '../image.js';
import type { ImagegenWarning } from '../plan.js';

/** What a `.json` sidecar next to an image holds: enough to reproduce and to audit it. */
export type Sidecar = GeneratedImageMetadata & {
  file: string;
  model: string;
  warnings: ImagegenWarning[];
  durationMs: number;
  estimatedCostUsd: number | undefined;
  createdAt: string;
  generator: 'ai-imagegen';
};

export type SavedImage = { path: string; sidecarPath: string; image: GeneratedImage };

/**
 * A file-name slug from a prompt: lowercase ASCII letters, digits and dashes only, so no prompt can
 * make a name that leaves the output folder, hides itself or breaks a shell.
 */
export function slugify(text: string, maxLength = 48): string {
  const slug = text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '')
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
  const temporary = path.join(path.dirname(filePath), `${TEMPORARY_FILE_PREFIX}${process.pid}-${randomUUID()}`);
  try {
    const handle = await open(temporary, 'wx');
    try {
      await handle.writeFile(data);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temporary, filePath);
  } catch (error) {
    await rm(temporary, { force: true });
    throw error;
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
 * the call: when two images would share a name (same seed), the index is appended.
 */
export async function saveImages({
  images,
  outDir,
  warnings = [],
  durationMs = 0,
  estimatedCostUsd,
  date = new Date(),
  name,
}: {
  images: readonly GeneratedImage[];
  outDir: string;
  warnings?: readonly ImagegenWarning[];
  durationMs?: number;
  estimatedCostUsd?: number | undefined;
  date?: Date;
  /** Overrides the file name (without extension) per image. */
  name?: (image: GeneratedImage) => string;
}): Promise<SavedImage[]> {
  await mkdir(outDir, { recursive: true });
  // Images kept as URLs are downloaded now, with a User-Agent (Together's CDN refuses none).
  images = await Promise.all(
    images.map((image) => image.withBytes((url) => downloadImage(url, { provider: image.provider, modelId: image.modelId }))),
  );
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
    const imagePath = pathInside(outDir, `${unique}.${image.extension}`);
    const sidecarPath = pathInside(outDir, `${unique}.json`);
    const sidecar: Sidecar = {
      file: path.basename(imagePath),
      ...image.toJSON(),
      model: `${image.provider}:${image.modelId}`,
      warnings: [...warnings],
      durationMs,
      estimatedCostUsd: estimatedCostUsd === undefined ? undefined : estimatedCostUsd / Math.max(1, images.length),
      createdAt: date.toISOString(),
      generator: 'ai-imagegen',
    };
    await writeFileAtomically(imagePath, image.bytes);
    await writeFileAtomically(sidecarPath, `${redactSecrets(JSON.stringify(sidecar, null, 2))}\n`);
    saved.push({ path: imagePath, sidecarPath, image });
  }
  return saved;
}

/** Reads a reference image from disk (the Node entry's `readFile` for `generateImages`). */
export async function readImageFile(filePath: string): Promise<Uint8Array> {
  return new Uint8Array(await readFile(filePath));
}
