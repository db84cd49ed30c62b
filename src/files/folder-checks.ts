import { randomUUID } from 'node:crypto';
import { mkdir, open, rm, stat, statfs } from 'node:fs/promises';
import path from 'node:path';
import { InvalidRequestError } from '../errors/errors.js';
import { prepareGeneration } from '../generate.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import { TEMPORARY_FILE_PREFIX } from './files.js';

/** Error codes that mean the disk, not the request, is the problem: no later write will do better. */
const FILE_SYSTEM_FAULTS = new Set(['ENOSPC', 'EDQUOT', 'EROFS', 'EACCES', 'EPERM', 'EIO', 'EFBIG', 'ENOTDIR']);

/** Whether an error is a file system failure that will repeat for every write (disk full, read-only, no permission). */
export function isFileSystemFault(error: unknown): error is NodeJS.ErrnoException {
  const code = (error as { code?: unknown } | null)?.code;
  return error instanceof Error && typeof code === 'string' && FILE_SYSTEM_FAULTS.has(code);
}

/** A file system error in a sentence: `ENOSPC (no space left on device) writing out/a.png`. */
export function describeFileSystemFault(error: NodeJS.ErrnoException): string {
  const reason = /^[A-Z]+: ([^,]+)/.exec(error.message)?.[1] ?? error.message;
  return `${error.code} (${reason})${error.path === undefined ? '' : ` writing ${error.path}`}`;
}

/**
 * Makes sure a folder exists, can be written and has room for `bytesNeeded` more bytes, before
 * anything is sent: a probe file is created, flushed and removed, and the free space is read from
 * the file system. Throws `InvalidRequestError` naming `field`, the folder and what is wrong.
 */
export async function checkWritableFolder({ folder, bytesNeeded, field }: { folder: string; bytesNeeded: number; field: string }): Promise<void> {
  const fail = (message: string): never => {
    throw new InvalidRequestError({ issues: [{ field, value: folder, message }], context: 'output folder' });
  };
  const existing = await stat(folder).catch(() => undefined);
  if (existing !== undefined && !existing.isDirectory()) return fail('is a file, not a folder');
  try {
    await mkdir(folder, { recursive: true });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOTDIR' || code === 'EEXIST') return fail('cannot be created: part of the path is a file, not a folder');
    return fail(`cannot be created: ${describe(error)}`);
  }
  const probe = path.join(folder, `${TEMPORARY_FILE_PREFIX}${process.pid}-${randomUUID()}`);
  try {
    const handle = await open(probe, 'wx');
    try {
      await handle.write(new Uint8Array(1));
      await handle.sync();
    } finally {
      await handle.close();
    }
  } catch (error) {
    return fail(`is not writable: ${describe(error)}`);
  } finally {
    await rm(probe, { force: true }).catch(() => undefined);
  }
  const stats = await statfs(folder).catch(() => undefined);
  if (stats !== undefined) {
    const free = Number(stats.bavail) * Number(stats.bsize);
    if (free < bytesNeeded) fail(`has ${formatBytes(free)} free; one image needs about ${formatBytes(bytesNeeded)}`);
  }
}

/**
 * The one "can we keep it" check, run by every door before a paid call (the CLI's generate, batch
 * and compare, the MCP server, an app's tool through `canKeepImages`): `folder` is a folder, or can
 * be made one, can be written, and has room for the largest image of `requests`. Throws
 * `InvalidRequestError` naming `field`, the folder and what is wrong.
 */
export async function checkCanKeep({
  folder,
  requests,
  field,
  providers,
}: {
  folder: string;
  requests: readonly GenerateRequest[];
  field: string;
  providers?: ProvidersOption | undefined;
}): Promise<void> {
  await checkWritableFolder({ folder, bytesNeeded: await bytesForRequests(requests, providers), field });
}

/** About what one image and its sidecar take on disk at most: raw RGB, which no PNG or JPEG exceeds by much. */
export function bytesForImage(width: number, height: number): number {
  return width * height * 3 + 64 * 1024;
}

export function formatBytes(bytes: number): string {
  if (bytes >= 1024 * 1024) return `${(bytes / 1024 / 1024).toFixed(1)} MB`;
  if (bytes >= 1024) return `${Math.round(bytes / 1024)} KB`;
  return `${bytes} bytes`;
}

function describe(error: unknown): string {
  if (error instanceof Error && typeof (error as NodeJS.ErrnoException).code === 'string') {
    const code = (error as NodeJS.ErrnoException).code!;
    const reason = /^[A-Z]+: ([^,]+)/.exec(error.message)?.[1];
    return reason === undefined ? code : `${code}, ${reason}`;
  }
  return error instanceof Error ? error.message : String(error);
}

/**
 * Room the largest image of these requests needs. Only sizes are planned (reference images are
 * not read); requests that do not plan count as small, their errors are validation's to report.
 */
export async function bytesForRequests(requests: readonly GenerateRequest[], providers?: ProvidersOption): Promise<number> {
  let largest = bytesForImage(256, 256);
  const seen = new Set<string>();
  for (const request of requests) {
    const shape = `${request.model}|${request.size}|${request.aspectRatio}`;
    if (seen.has(shape)) continue;
    seen.add(shape);
    try {
      const { plan } = await prepareGeneration({ ...request, referenceImages: undefined }, { ...(providers === undefined ? {} : { providers }), checkKey: false });
      largest = Math.max(largest, bytesForImage(plan.width, plan.height));
    } catch {
      // Reported by validation, not here.
    }
  }
  return largest;
}
