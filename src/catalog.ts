/**
 * What each image model accepts: the one source of truth shared by validation, mapping, the
 * emulator and `imagegen models`. Provider files contribute their entries; this file holds the
 * shape, the lookups, the generic fallback for unknown ids and the price overrides.
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

/** A known model's catalog entry. */
export function catalogEntry(provider: string, modelId: string, displayName: string, capabilities: Capabilities): ModelCapabilities {
  return { provider, known: true, modelId, displayName, ...capabilities };
}

/** The input-image limit where a provider documents none: 20 MiB. */
export const DEFAULT_MAX_INPUT_IMAGE_BYTES = 20 * 1024 * 1024;

const catalog = new Map<string, ModelCapabilities>();
const priceOverrides = new Map<string, Price>();

const key = (provider: string, modelId: string) => `${provider}:${modelId}`;

/** Adds a provider's models to the catalog (called by each provider file at import). */
export function registerModels(models: readonly ModelCapabilities[]): void {
  for (const model of models) catalog.set(key(model.provider, model.modelId), model);
}

/** Every known model, optionally of one provider. */
export function listModels({ provider }: { provider?: string } = {}): ModelCapabilities[] {
  return [...catalog.values()]
    .filter((model) => provider === undefined || model.provider === provider)
    .map(withPrice);
}

/** The known model, or `undefined`. */
export function findModel(provider: string, modelId: string): ModelCapabilities | undefined {
  const model = catalog.get(key(provider, modelId));
  return model && withPrice(model);
}

const genericByProvider = new Map<string, Capabilities>();

/** What an unknown id of a provider is assumed to take. */
export function registerGenericCapabilities(
  provider: string,
  capabilities: Capabilities,
): void {
  genericByProvider.set(provider, capabilities);
}

const fallbackGeneric: Capabilities = {
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

/** The known model, or the provider's generic capabilities marked `known: false`. */
export function resolveModel(provider: string, modelId: string): ModelCapabilities {
  return (
    findModel(provider, modelId) ??
    withPrice({
      ...(genericByProvider.get(provider) ?? fallbackGeneric),
      provider,
      modelId,
      displayName: liveLists.get(provider)?.models.find((model) => model.id === modelId)?.displayName ?? modelId,
      known: false,
    })
  );
}

const liveLists = new Map<string, LiveModelList>();

/** Records a provider's live model list, so ids it names are not taken for typos. */
export function registerLiveModels(list: LiveModelList): void {
  liveLists.set(list.provider, list);
}

/** The live list last recorded for a provider, or `undefined` when none was fetched or loaded. */
export function liveModelList(provider: string): LiveModelList | undefined {
  return liveLists.get(provider);
}

/** Forgets recorded live lists (tests, or an app that wants the release's catalog only). */
export function clearLiveModels(): void {
  liveLists.clear();
}

/**
 * Replaces catalog prices (they are estimates and change often). Keys are `"provider:modelId"`;
 * values a `Price` or its text form (see `parsePrice`). Replaces every earlier override.
 * @example setPriceOverrides({ 'togetherai:black-forest-labs/FLUX.1-schnell': '0.003/MP@4' })
 */
export function setPriceOverrides(prices: Record<string, Price | string>): void {
  const parsed = Object.entries(prices).map(([model, price]) => {
    if (!/^[a-z0-9][a-z0-9.-]*:\S/i.test(model)) throw new Error(`Invalid price override key "${model}": use "provider:modelId"`);
    return [model, typeof price === 'string' ? parsePrice(price) : checkPrice(price, model)] as const;
  });
  priceOverrides.clear();
  for (const [model, price] of parsed) priceOverrides.set(model, price);
}

/**
 * A price from its text form: `"0.03/image"`, `"0.0027/MP"` or `"0.0027/MP@4"` (per megapixel at
 * 4 default steps: more steps cost proportionally more). A leading `$` is allowed.
 * @example parsePrice('0.0027/MP@4') // { unit: 'megapixel', usd: 0.0027, defaultSteps: 4 }
 */
export function parsePrice(text: string): Price {
  const match = /^\s*\$?(\d+(?:\.\d+)?)\s*\/\s*(image|img|MP|megapixel)(?:\s*@\s*(\d+))?\s*$/i.exec(text);
  if (!match || (match[3] !== undefined && /^im/i.test(match[2]!))) {
    throw new Error(`Invalid price "${text}": use USD per image or per megapixel, like "0.03/image", "0.0027/MP" or "0.0027/MP@4" (4 default steps)`);
  }
  const usd = Number(match[1]);
  if (/^im/i.test(match[2]!)) return { unit: 'image', usd };
  const defaultSteps = match[3] === undefined ? undefined : Number(match[3]);
  if (defaultSteps === 0) throw new Error(`Invalid price "${text}": default steps must be 1 or more`);
  return defaultSteps === undefined ? { unit: 'megapixel', usd } : { unit: 'megapixel', usd, defaultSteps };
}

function checkPrice(price: Price, model: string): Price {
  const valid =
    typeof price === 'object' && price !== null && Number.isFinite(price.usd) && price.usd >= 0 &&
    (price.unit === 'image' || (price.unit === 'megapixel' && (price.defaultSteps === undefined || (Number.isInteger(price.defaultSteps) && price.defaultSteps > 0))));
  if (!valid) throw new Error(`Invalid price for ${model}: ${JSON.stringify(price)}; use { unit: "image" | "megapixel", usd, defaultSteps? } or "0.0027/MP@4"`);
  return price;
}

/** A price in its text form (`parsePrice` reads it back). */
export function formatPrice(price: Price): string {
  return price.unit === 'image' ? `${price.usd}/image` : `${price.usd}/MP${price.defaultSteps === undefined ? '' : `@${price.defaultSteps}`}`;
}

/**
 * What one image costs at the model's default size and steps: the one unit `imagegen models` shows,
 * whatever the model's billing basis. `undefined` when unpriced.
 */
export function pricePerImage(model: ModelCapabilities): number | undefined {
  return estimateCost({
    model,
    width: model.dimensions.default.width,
    height: model.dimensions.default.height,
    images: 1,
    steps: model.steps?.default,
  });
}

function withPrice(model: ModelCapabilities): ModelCapabilities {
  const override = priceOverrides.get(key(model.provider, model.modelId));
  return override ? { ...model, price: override } : model;
}

/** Estimated cost in USD of `images` images of `width`×`height`, or `undefined` when unpriced. */
export function estimateCost({
  model,
  width,
  height,
  images,
  steps,
}: {
  model: ModelCapabilities;
  width: number;
  height: number;
  images: number;
  steps?: number | undefined;
}): number | undefined {
  const price = model.price;
  if (!price) return undefined;
  if (price.unit === 'image') return round(price.usd * images);
  const megapixels = (width * height) / 1e6;
  // Hosted models bill more when steps exceed the model default (FACTS.md); we scale linearly.
  const stepFactor =
    steps !== undefined && price.defaultSteps !== undefined && steps > price.defaultSteps
      ? steps / price.defaultSteps
      : 1;
  return round(price.usd * megapixels * images * stepFactor);
}

const round = (value: number) => Math.round(value * 1e6) / 1e6;

/** The docs' dimension table (Together `images-overview`): ratio → size at about one megapixel. */
export const RATIO_DIMENSIONS: Readonly<Record<string, { width: number; height: number }>> = {
  '1:1': { width: 1024, height: 1024 },
  '16:9': { width: 1344, height: 768 },
  '9:16': { width: 768, height: 1344 },
  '3:2': { width: 1248, height: 832 },
  '2:3': { width: 832, height: 1248 },
  '4:3': { width: 1184, height: 864 },
  '3:4': { width: 864, height: 1184 },
};
