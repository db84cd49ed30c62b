/**
 * The shape of the catalog: what an image model accepts. Each provider file declares its models in
 * this shape; `catalog.ts` looks them up.
 */

/** How a model is told the size of its output. */
export type Sizing = 'dimensions' | 'aspect-ratio';

/** How a model takes input images. */
export type ImageInput =
  | { kind: 'none' }
  | { kind: 'image_url'; max: 1 }
  /** `alsoImageUrl`: one image may instead go as `image_url` (raw provider options), e.g. FLUX.2 pro/flex. */
  | { kind: 'reference_images'; max: number; alsoImageUrl?: boolean };

/** A model the provider retired or is retiring: still callable, with a warning naming the replacement. */
export type Deprecation = {
  /** `removed`: gone from the provider's serverless list; `deprecated`: announced; `unlisted`: no longer in its tables. */
  status: 'removed' | 'deprecated' | 'unlisted';
  /** ISO date the provider gave, or `undefined` when it published none. */
  date: string | undefined;
  /** The model to use instead, as `"provider:modelId"`. */
  replacement: string;
};

export type Price =
  | { unit: 'megapixel'; usd: number; defaultSteps?: number }
  | { unit: 'image'; usd: number };

export type ModelCapabilities = {
  /** Provider name as used in `"provider:modelId"`. */
  provider: string;
  modelId: string;
  displayName: string;
  sizing: Sizing;
  /** Pixel limits for width and height (each side), and the multiple sides must be of. */
  dimensions: { min: number; max: number; multipleOf: number; default: { width: number; height: number } };
  /** Ratios the model takes when `sizing` is `aspect-ratio` (or the provider's ratio presets). */
  aspectRatios: readonly string[];
  /** `undefined` when the model takes no `steps` parameter. */
  steps: { min: number; max: number; default: number } | undefined;
  maxImagesPerCall: number;
  /** Whether the provider accepts `n` at all (some reject it with a 400). */
  acceptsN: boolean;
  acceptsSeed: boolean;
  negativePrompt: boolean;
  guidance: { min: number; max: number; default: number } | undefined;
  imageInput: ImageInput;
  /** Most LoRAs a request may carry (0 when the model takes none). */
  maxLoras: number;
  safetyCheckerCanBeDisabled: boolean;
  outputFormats: readonly ('png' | 'jpeg')[];
  /** Price estimate; third-party observations, configurable with `setPriceOverrides`. */
  price: Price | undefined;
  /**
   * Largest input image the provider takes, in bytes, where its docs give one; else
   * `DEFAULT_MAX_INPUT_IMAGE_BYTES`. Reference images over it are refused before anything is sent.
   */
  maxInputImageBytes?: number;
  /** `false` for ids we know nothing about: generic capabilities, and a warning. */
  known: boolean;
  notes?: string;
  /** The only sizes (`"WxH"`) the model takes, when it takes a fixed list rather than a range. */
  allowedSizes?: readonly string[];
  /**
   * Takes a mask with its input image (inpainting, edits): where it is white, or transparent, the
   * image is repainted. Models without it refuse a mask before anything is sent.
   */
  acceptsMask?: boolean;
  /** Takes a prompt-upsampling switch (Together FLUX.2: `prompt_upsampling`, on by default). */
  promptUpsampling?: boolean;
  /** The body field guidance is sent in, where the provider has more than one name for it. */
  guidanceParameter?: 'guidance' | 'guidance_scale';
  deprecated?: Deprecation;
};

/** What a model takes, without who it is: what provider files write per model or model family. */
export type Capabilities = Omit<ModelCapabilities, 'provider' | 'modelId' | 'displayName' | 'known'>;

/** A model a provider's live list names (`imagegen models --refresh`), as far as the list says. */
export type LiveModel = { id: string; displayName?: string | undefined; organization?: string | undefined };

/** A provider's live model list as fetched at one time. */
export type LiveModelList = { provider: string; fetchedAt: string; models: LiveModel[] };

/** Images one request may ask for: the model's limit where it takes `n`, else one per request. */
export function imagesPerCall(model: Pick<ModelCapabilities, 'acceptsN' | 'maxImagesPerCall'>): number {
  return model.acceptsN ? model.maxImagesPerCall : 1;
}

/** A known model's catalog entry. */
export function catalogEntry(provider: string, modelId: string, displayName: string, capabilities: Capabilities): ModelCapabilities {
  return { provider, known: true, modelId, displayName, ...capabilities };
}

/** The input-image limit where a provider documents none: 20 MiB. */
export const DEFAULT_MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024;


/** What an id is assumed to take when neither the catalog nor its provider says. */
export const GENERIC_CAPABILITIES: Capabilities = {
  sizing: 'dimensions',
  dimensions: { min: 64, max: 2048, multipleOf: 8, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
  steps: { min: 1, max: 50, default: 20 },
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  guidance: { min: 0, max: 20, default: 3.5 },
  imageInput: { kind: 'image_url', max: 1 },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: true,
  outputFormats: ['png', 'jpeg'],
  price: undefined,
};
