import { OPENAI_TOKEN_PRICES } from '../providers/openai.js';
import type { ImagegenWarning } from '../shared/plan.js';

/**
 * What a provider call really cost, read from what the provider reported: pure, no I/O. Each reader
 * goes by the metadata key the AI SDK package writes, so an app's own provider instance is read
 * the same way as a built-in one.
 *
 * - Black Forest Labs (`@ai-sdk/black-forest-labs`): `providerMetadata.blackForestLabs.images[i].cost`,
 *   in credits of $0.01 (BFL's pricing page: "1 credit = $0.01 USD").
 * - xAI (`@ai-sdk/xai`): `providerMetadata.xai.costInUsdTicks` for the whole call, 10^10 ticks to the
 *   dollar (docs.x.ai, "Cost Tracking").
 * - OpenAI (`@ai-sdk/openai`): GPT Image models bill tokens; `usage.outputTokens` (image output) and
 *   the per-image `imageTokens` / `textTokens` of the input are priced with `OPENAI_TOKEN_PRICES`.
 *
 * Every other provider reports nothing (Together, fal, Replicate, Google, Luma, DeepInfra,
 * Fireworks, Bedrock): their calls have no actual cost, only the catalog's estimate.
 */

/** Token counts as the AI SDK's `generateImage` gives them (`ImageModelV3Usage`). */
export type ImageUsage = { inputTokens: number | undefined; outputTokens: number | undefined; totalTokens?: number | undefined };

/** USD per million tokens, as OpenAI's model pages list them. */
export type TokenPrices = { textInput: number; imageInput: number; imageOutput: number };

const BFL_USD_PER_CREDIT = 0.01;
const XAI_TICKS_PER_USD = 1e10;

/** Disagreements above this share between the catalog's estimate and the provider's bill are warned about. */
export const PRICE_DRIFT_TOLERANCE = 0.1;

/**
 * The USD a provider reported (or its token counts price) for one call; `undefined` when it
 * reported nothing usable.
 *
 * @example actualCallCostUsd({ modelId: 'grok-imagine-image', providerMetadata: { xai: { images: [{}], costInUsdTicks: 200_000_000 } } }) // 0.02
 */
export function actualCallCostUsd({
  modelId,
  providerMetadata,
  usage,
}: {
  modelId: string;
  providerMetadata: Record<string, unknown> | undefined;
  usage?: ImageUsage | undefined;
}): number | undefined {
  return (
    blackForestLabsCost(providerMetadata?.blackForestLabs) ??
    xaiCost(providerMetadata?.xai) ??
    openaiCost(providerMetadata?.openai, usage, modelId)
  );
}

function blackForestLabsCost(metadata: unknown): number | undefined {
  const images = imagesOf(metadata);
  const credits = images.map((image) => finiteNumber(image.cost));
  if (credits.length === 0 || credits.some((value) => value === undefined)) return undefined;
  return roundUsd(credits.reduce<number>((sum, value) => sum + value!, 0) * BFL_USD_PER_CREDIT);
}

function xaiCost(metadata: unknown): number | undefined {
  const ticks = finiteNumber(objectOf(metadata)?.costInUsdTicks);
  return ticks === undefined ? undefined : roundUsd(ticks / XAI_TICKS_PER_USD);
}

function openaiCost(metadata: unknown, usage: ImageUsage | undefined, modelId: string): number | undefined {
  const prices = OPENAI_TOKEN_PRICES[modelId];
  if (metadata === undefined || prices === undefined || usage?.outputTokens === undefined) return undefined;
  const images = imagesOf(metadata);
  const textTokens = sumOf(images.map((image) => finiteNumber(image.textTokens)));
  const imageTokens = sumOf(images.map((image) => finiteNumber(image.imageTokens)));
  // Without the split, the input was the prompt alone (a generation): text tokens.
  const input =
    textTokens === undefined && imageTokens === undefined
      ? (usage.inputTokens ?? 0) * prices.textInput
      : (textTokens ?? 0) * prices.textInput + (imageTokens ?? 0) * prices.imageInput;
  return roundUsd((input + usage.outputTokens * prices.imageOutput) / 1e6);
}

/** What one response of a model reported: its provider metadata and token usage, as the model gave them. */
export type ReportedCost = { providerMetadata?: Record<string, unknown> | undefined; usage?: ImageUsage | undefined };

/**
 * The actual cost of one provider call from what each of its responses reported (one, unless the
 * AI SDK split the call); `undefined` when any response reported nothing usable.
 */
export function actualCostOfResponses(modelId: string, responses: readonly ReportedCost[]): number | undefined {
  const costs = responses.map(({ providerMetadata, usage }) => actualCallCostUsd({ modelId, providerMetadata, usage }));
  if (costs.length === 0 || costs.some((cost) => cost === undefined)) return undefined;
  return roundUsd(costs.reduce<number>((sum, cost) => sum + cost!, 0));
}

/**
 * The sum of the calls' actual costs, when every call that made images reported one; `undefined`
 * when any of them did not (a partial sum would read as the whole).
 */
export function sumActualCosts(calls: readonly { actualCostUsd: number | undefined; imageCount: number }[]): number | undefined {
  const paid = calls.filter((call) => call.imageCount > 0);
  if (paid.length === 0 || paid.some((call) => call.actualCostUsd === undefined)) return undefined;
  return roundUsd(paid.reduce((sum, call) => sum + call.actualCostUsd!, 0));
}

/**
 * A warning when the catalog's price and the provider's bill disagree by more than 10%: the
 * catalog's price is stale (or overridden wrongly), and estimates and budgets lean on it.
 */
export function priceDriftWarning({
  model,
  estimatedUsd,
  actualUsd,
}: {
  /** `"provider:modelId"`. */
  model: string;
  /** The estimate for the images the provider delivered. */
  estimatedUsd: number | undefined;
  actualUsd: number | undefined;
}): ImagegenWarning | undefined {
  if (estimatedUsd === undefined || actualUsd === undefined) return undefined;
  const drift = priceDrift(estimatedUsd, actualUsd);
  // The epsilon keeps exactly 10% (0.036 against 0.04 is -0.10000000000000003 in floating point) within.
  if (drift === undefined || Math.abs(drift) <= PRICE_DRIFT_TOLERANCE + 1e-9) return undefined;
  const percent = Number.isFinite(drift) ? `${drift > 0 ? '+' : ''}${Math.round(drift * 100)}%` : 'the catalog says free';
  return {
    type: 'other',
    source: 'imagegen',
    field: 'price',
    message:
      `the provider charged $${formatUsd(actualUsd)} where the catalog's price estimated $${formatUsd(estimatedUsd)} (${percent}); ` +
      `the catalog's price for ${model} looks stale: override it with setPriceOverrides() or --price`,
  };
}

/** `(actual - estimated) / estimated`; `undefined` when there is nothing to compare against. */
export function priceDrift(estimatedUsd: number, actualUsd: number): number | undefined {
  if (estimatedUsd > 0) return (actualUsd - estimatedUsd) / estimatedUsd;
  return actualUsd > 0 ? Number.POSITIVE_INFINITY : undefined;
}

/** Dollars to at most six decimals, the resolution every output uses. */
export function roundUsd(usd: number): number {
  return Math.round(usd * 1e6) / 1e6;
}

const formatUsd = (usd: number): string => (usd >= 0.01 ? usd.toFixed(4) : String(roundUsd(usd)));

function imagesOf(metadata: unknown): Record<string, unknown>[] {
  const images = objectOf(metadata)?.images;
  return Array.isArray(images) ? images.map((image) => objectOf(image) ?? {}) : [];
}

function objectOf(value: unknown): Record<string, unknown> | undefined {
  return typeof value === 'object' && value !== null && !Array.isArray(value) ? (value as Record<string, unknown>) : undefined;
}

function finiteNumber(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isFinite(value) && value >= 0 ? value : undefined;
}

function sumOf(values: readonly (number | undefined)[]): number | undefined {
  const known = values.filter((value): value is number => value !== undefined);
  return known.length === 0 ? undefined : known.reduce((sum, value) => sum + value, 0);
}
