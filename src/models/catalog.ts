import type { Capabilities, LiveModelList, ModelCapabilities, Price } from '../shared/capabilities.js';
import { GENERIC_CAPABILITIES } from '../shared/capabilities.js';
import { builtInAdapters } from '../providers/index.js';

/**
 * What each image model accepts: the one source of truth shared by validation, mapping and
 * `imagegen models`. The entries are the built-in providers' own (`src/providers/`); this file
 * looks them up, falls back to generic capabilities for unknown ids, and keeps the price overrides
 * and live model lists.
 */
export * from '../shared/capabilities.js';

const priceOverrides = new Map<string, Price>();

const key = (provider: string, modelId: string) => `${provider}:${modelId}`;

let index: Map<string, ModelCapabilities> | undefined;

/** The built-in providers' entries by `"provider:modelId"`, indexed on first look-up. */
function catalog(): Map<string, ModelCapabilities> {
  index ??= new Map(builtInAdapters().flatMap((adapter) => adapter.models.map((model) => [key(model.provider, model.modelId), model] as const)));
  return index;
}

/** Every known model, optionally of one provider. */
export function listModels({ provider }: { provider?: string } = {}): ModelCapabilities[] {
  return [...catalog().values()].filter((model) => provider === undefined || model.provider === provider).map(withPrice);
}

/** The known model, or `undefined`. */
export function findModel(provider: string, modelId: string): ModelCapabilities | undefined {
  const model = catalog().get(key(provider, modelId));
  return model && withPrice(model);
}

function genericCapabilities(provider: string): Capabilities {
  return builtInAdapters().find((adapter) => adapter.name === provider)?.genericCapabilities ?? GENERIC_CAPABILITIES;
}



/** The known model, or the provider's generic capabilities marked `known: false`. */
export function resolveModel(provider: string, modelId: string): ModelCapabilities {
  return (
    findModel(provider, modelId) ??
    withPrice({
      ...genericCapabilities(provider),
      provider,
      modelId,
      displayName: liveIndex.get(provider)?.get(modelId)?.displayName ?? modelId,
      known: false,
    })
  );
}

const liveLists = new Map<string, LiveModelList>();
/** Each recorded list by id: a list of 100k models is looked up per model, so never by a scan. */
const liveIndex = new Map<string, Map<string, LiveModelList['models'][number]>>();

/** Records a provider's live model list, so ids it names are not taken for typos. */
export function registerLiveModels(list: LiveModelList): void {
  liveLists.set(list.provider, list);
  liveIndex.set(list.provider, new Map(list.models.map((model) => [model.id, model])));
}

/** The live list last recorded for a provider, or `undefined` when none was fetched or loaded. */
export function liveModelList(provider: string): LiveModelList | undefined {
  return liveLists.get(provider);
}

/** Whether the live list recorded for `provider` names `modelId` (a map lookup, whatever the list's length). */
export function isLiveModel(provider: string, modelId: string): boolean {
  return liveIndex.get(provider)?.has(modelId) ?? false;
}

/** Forgets recorded live lists (tests, or an app that wants the release's catalog only). */
export function clearLiveModels(): void {
  liveLists.clear();
  liveIndex.clear();
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

