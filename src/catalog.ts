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
  | { kind: 'reference_images'; max: number };

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
  /** `false` for ids we know nothing about: generic capabilities, and a warning. */
  known: boolean;
  notes?: string;
};

/** What a model takes, without who it is: what provider files write per model or model family. */
export type Capabilities = Omit<ModelCapabilities, 'provider' | 'modelId' | 'displayName' | 'known'>;

/** A known model's catalog entry. */
export function catalogEntry(provider: string, modelId: string, displayName: string, capabilities: Capabilities): ModelCapabilities {
  return { provider, known: true, modelId, displayName, ...capabilities };
}

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
    findModel(provider, modelId) ?? {
      ...(genericByProvider.get(provider) ?? fallbackGeneric),
      provider,
      modelId,
      displayName: modelId,
      known: false,
    }
  );
}

/**
 * Replaces catalog prices (they are estimates and change often).
 * @example setPriceOverrides({ 'togetherai:black-forest-labs/FLUX.1-schnell': { unit: 'megapixel', usd: 0.003 } })
 */
export function setPriceOverrides(prices: Record<string, Price>): void {
  priceOverrides.clear();
  for (const [model, price] of Object.entries(prices)) priceOverrides.set(model, price);
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
