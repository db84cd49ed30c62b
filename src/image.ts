import { imageSize } from 'image-size';
import { bytesToBase64 } from './util/base64.js';
import type { ResolvedRequest } from './pipeline/plan.js';

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
  /** A URL the provider returned for it, when it returned one. */
  url: string | undefined;
};

/** One generated image, the same shape whatever the provider. */
export class GeneratedImage implements GeneratedImageMetadata {
  readonly bytes: Uint8Array;
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
  readonly url: string | undefined;
  #base64: string | undefined;

  /**
   * Reads width, height and media type from the bytes; throws when they are not an image. An image
   * the provider returned as a URL only (`responseFormat: "url"`) has no bytes: pass `expected`.
   */
  constructor(
    fields: Omit<GeneratedImageMetadata, 'width' | 'height' | 'mediaType'> & { bytes: Uint8Array },
    expected?: { width: number; height: number; mediaType: string },
  ) {
    if (fields.bytes.length === 0 && expected !== undefined && fields.url !== undefined) {
      ({ width: this.width, height: this.height, mediaType: this.mediaType } = expected);
    } else {
      const { width, height, type } = imageSize(fields.bytes);
      const mediaType = type === undefined ? undefined : MEDIA_TYPES[type];
      if (!width || !height || mediaType === undefined) throw new Error('the bytes are not a PNG, JPEG, WebP or GIF image');
      this.mediaType = mediaType;
      this.width = width;
      this.height = height;
    }
    this.bytes = fields.bytes;
    this.index = fields.index;
    this.seed = fields.seed;
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.request = fields.request;
    this.timings = fields.timings;
    this.responseId = fields.responseId;
    this.url = fields.url;
  }

  /** `false` for an image kept as the provider's URL only; `withBytes()` downloads it. */
  get hasBytes(): boolean {
    return this.bytes.length > 0;
  }

  /** This image with its bytes: itself when it has them, else downloaded from its URL. */
  async withBytes(download: (url: string) => Promise<Uint8Array>): Promise<GeneratedImage> {
    if (this.hasBytes || this.url === undefined) return this;
    const { mediaType: _mediaType, width: _width, height: _height, ...fields } = this.toJSON();
    return new GeneratedImage({ ...fields, bytes: await download(this.url) });
  }

  /** The bytes as base64 (computed once, on first use). */
  get base64(): string {
    if (this.#base64 === undefined) {
      this.#base64 = bytesToBase64(this.bytes);
    }
    return this.#base64;
  }

  /** File extension for the media type: `png`, `jpg`, `webp` or `gif`. */
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
      url: this.url,
    };
  }
}

const MEDIA_TYPES: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };
const EXTENSIONS: Record<string, string> = { 'image/png': 'png', 'image/jpeg': 'jpg', 'image/webp': 'webp', 'image/gif': 'gif' };
