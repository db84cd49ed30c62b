import { imageSize } from 'image-size';
import { bytesToBase64 } from './util/base64.js';
import type { ResolvedRequest } from './shared/plan.js';

/** Provider timings for one image, where the provider reports them (Together: `timings.inference`). */
export type ImageTimings = { inferenceSeconds?: number };

/** What describes an image besides its bytes: what a sidecar or manifest stores. */
export type GeneratedImageMetadata = {
  mediaType: string;
  width: number;
  height: number;
  /** Position among the images of one request, from 0. */
  index: number;
  /** The seed sent with the call that made it (or the provider's per-image seed, when it reports one). */
  seed: number | undefined;
  provider: string;
  modelId: string;
  /** The request that reproduces it. */
  request: ResolvedRequest;
  timings: ImageTimings | undefined;
  /** The provider's response id, where it reports one (Together's `id`). */
  responseId: string | undefined;
};

/**
 * One generated image, the same shape whatever the provider: the AI SDK's `GeneratedFile`
 * (`uint8Array`, `base64`, `mediaType`), so code written for `generateImage` keeps working, with
 * what reproduces it beside (size, seed, the request, provider timings).
 */
export class GeneratedImage implements GeneratedImageMetadata {
  readonly uint8Array: Uint8Array;
  readonly mediaType: string;
  readonly width: number;
  readonly height: number;
  readonly index: number;
  readonly seed: number | undefined;
  readonly provider: string;
  readonly modelId: string;
  readonly request: ResolvedRequest;
  readonly timings: ImageTimings | undefined;
  readonly responseId: string | undefined;
  #base64: string | undefined;

  /** Reads width, height and media type from the bytes; throws when they are not an image it can size. */
  constructor(fields: Omit<GeneratedImageMetadata, 'width' | 'height' | 'mediaType'> & { uint8Array: Uint8Array }) {
    const { width, height, type } = imageSize(fields.uint8Array);
    const mediaType = type === undefined ? undefined : MEDIA_TYPES[type];
    if (!width || !height || mediaType === undefined) throw new Error('the bytes are not a PNG, JPEG, WebP, GIF or SVG image with a width and height');
    this.mediaType = mediaType;
    this.width = width;
    this.height = height;
    this.uint8Array = fields.uint8Array;
    this.index = fields.index;
    this.seed = fields.seed;
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.request = fields.request;
    this.timings = fields.timings;
    this.responseId = fields.responseId;
  }

  /** The bytes as base64 (computed once, on first use). */
  get base64(): string {
    this.#base64 ??= bytesToBase64(this.uint8Array);
    return this.#base64;
  }

  /** File extension for the media type: `png`, `jpg`, `webp`, `gif` or `svg`. */
  get extension(): string {
    return EXTENSIONS[this.mediaType] ?? 'bin';
  }

  /** `data:image/png;base64,...`, for an `<img src>`. */
  toDataURL(): string {
    return `data:${this.mediaType};base64,${this.base64}`;
  }

  /** Everything but the bytes. */
  toJSON(): GeneratedImageMetadata {
    return {
      mediaType: this.mediaType,
      width: this.width,
      height: this.height,
      index: this.index,
      seed: this.seed,
      provider: this.provider,
      modelId: this.modelId,
      request: this.request,
      timings: this.timings,
      responseId: this.responseId,
    };
  }
}

// SVG (Recraft's vector models) is sized by image-size from its width/height or viewBox.
const MEDIA_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif', svg: 'image/svg+xml' };
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif', 'image/svg+xml': 'svg' };
