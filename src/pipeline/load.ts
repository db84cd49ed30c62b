import { imageSize } from 'image-size';
import { base64ToBytes } from '../util/base64.js';
import type { RequestIssue } from '../errors/errors.js';
import { DEFAULT_MAX_INPUT_IMAGE_BYTES, type ModelCapabilities } from '../shared/capabilities.js';

/**
 * Stage 2, load: reads the reference images a request names. The only I/O before anything is
 * sent; everything after it works on what it returns.
 */

export type { ReferenceImage } from '../shared/plan.js';
import type { ReferenceImage } from '../shared/plan.js';

/** Reads a reference image file, refusing one over `maxBytes` (the Node entry supplies it). */
export type ReadFile = (path: string, options: { maxBytes: number }) => Promise<Uint8Array>;

/**
 * Loads each input: http(s) URLs as they are; files (through `readFile`), data URLs and bytes
 * checked to be images no larger than `maxBytes`. Problems are returned, one per input, with the
 * images that loaded.
 */
export async function loadReferenceImages(
  inputs: readonly (string | Uint8Array)[],
  {
    readFile,
    maxBytes,
    displayName,
    field: name = 'referenceImages',
  }: { readFile: ReadFile | undefined; maxBytes: number; displayName: string; /** @default "referenceImages" */ field?: string },
): Promise<{ images: ReferenceImage[]; issues: RequestIssue[] }> {
  const images: ReferenceImage[] = [];
  const issues: RequestIssue[] = [];
  for (const [index, input] of inputs.entries()) {
    const field = inputs.length > 1 ? `${name}.${index}` : name;
    const source = describeReference(input);
    if (typeof input === 'string' && /^https?:\/\//i.test(input)) {
      images.push({ kind: 'url', source, url: input });
      continue;
    }
    const loaded = await readBytes(input, { readFile, maxBytes });
    if (typeof loaded === 'string') {
      issues.push({ field, value: source, message: loaded });
      continue;
    }
    if (loaded.length > maxBytes) {
      issues.push({ field, value: source, message: `is ${megabytes(loaded.length)}, over the ${megabytes(maxBytes)} ${displayName} takes for an input image` });
      continue;
    }
    const mediaType = sniffImage(loaded);
    if (mediaType === undefined) {
      issues.push({ field, value: source, message: 'is not an image (PNG, JPEG, WebP or GIF expected)' });
      continue;
    }
    images.push({ kind: 'bytes', source, data: loaded, mediaType });
  }
  return { images, issues };
}

/**
 * Loads a request's mask like a reference image, for a model that takes one (the plan refuses it
 * for the others, unread). Bytes must be a PNG or JPEG, the forms a provider's mapping can convert.
 */
export async function loadMask(
  input: string | Uint8Array | undefined,
  model: Pick<ModelCapabilities, 'acceptsMask' | 'maxInputImageBytes' | 'displayName'>,
  { readFile }: { readFile: ReadFile | undefined },
): Promise<{ mask: ReferenceImage | undefined; issues: RequestIssue[] }> {
  if (input === undefined || model.acceptsMask !== true) return { mask: undefined, issues: [] };
  const loaded = await loadReferenceImages([input], {
    readFile,
    maxBytes: model.maxInputImageBytes ?? DEFAULT_MAX_INPUT_IMAGE_BYTES,
    displayName: model.displayName,
    field: 'mask',
  });
  const mask = loaded.images[0];
  if (mask?.kind === 'bytes' && mask.mediaType !== 'image/png' && mask.mediaType !== 'image/jpeg') {
    return { mask: undefined, issues: [{ field: 'mask', value: mask.source, message: `is ${mask.mediaType}; a mask must be a PNG or JPEG` }] };
  }
  return { mask, issues: loaded.issues };
}

/** The bytes of a buffer, data URL or file, or what is wrong with it. */
async function readBytes(
  input: string | Uint8Array,
  { readFile, maxBytes }: { readFile: ReadFile | undefined; maxBytes: number },
): Promise<Uint8Array | string> {
  if (typeof input !== 'string') return input;
  if (input.startsWith('data:')) {
    const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(input);
    if (!match?.[2]) return 'must be a base64 data URL (data:image/png;base64,...)';
    try {
      return base64ToBytes(match[3]!);
    } catch {
      return 'is a data URL with invalid base64';
    }
  }
  if (readFile === undefined) return 'file paths need the Node entry (ai-imagegen/node); pass a URL, data URL or bytes here';
  try {
    return await readFile(input, { maxBytes });
  } catch (error) {
    // The Node reader's own refusals (not a regular file, over the size limit) say what is wrong.
    return error instanceof Error && error.name === 'ReferenceFileError' ? error.message : 'file does not exist or cannot be read';
  }
}

/** The media type of image bytes, or `undefined` when they are not an image we can read. */
export function sniffImage(data: Uint8Array): string | undefined {
  try {
    const { type } = imageSize(data);
    const types: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };
    return type === undefined ? undefined : types[type];
  } catch {
    return undefined;
  }
}

/** The width and height of image bytes, or `undefined` when they cannot be read. */
export function imageDimensions(data: Uint8Array): { width: number; height: number } | undefined {
  try {
    const { width, height } = imageSize(data);
    return width === undefined || height === undefined ? undefined : { width, height };
  } catch {
    return undefined;
  }
}

/** How an input is named in messages and in the resolved request: paths and URLs as given. */
export function describeReference(input: string | Uint8Array): string {
  if (typeof input !== 'string') return '<bytes>';
  if (input.startsWith('data:')) return `${input.slice(0, Math.min(input.indexOf(',') + 1, 40))}...`;
  return input;
}

const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
