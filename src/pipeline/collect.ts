import type { ImageModelV3ProviderMetadata, ImageModelV3Usage } from '@ai-sdk/provider';
import type { ImagegenError } from '../errors/errors.js';
import type { GeneratedImage } from '../image.js';
import type { ImagegenWarning, ResolvedRequest } from '../shared/plan.js';
import { priceDriftWarning, sumActualCosts } from './cost.js';
import type { CallOutcome, CallReport, ImageResponse } from './send.js';

/**
 * Stage 6, collect: the outcomes of a request's calls as one result in `generateImage`'s shape.
 * The images of calls that succeeded are kept when another failed; only when none succeeded does
 * the request fail.
 */

/**
 * One provider call that answered, as ai 7's `generateImage` reports it in `calls`
 * (`GenerateImageCall`: images, warnings, response, usage, providerMetadata), with the toolkit's
 * report of it (n, seed, HTTP attempts, duration, response id).
 */
export type ImageCall = Omit<CallReport, 'responseHeaders' | 'error'> & {
  readonly images: GeneratedImage[];
  readonly warnings: ImagegenWarning[];
  readonly response: ImageResponse;
  readonly usage?: ImageModelV3Usage;
  readonly providerMetadata?: ImageModelV3ProviderMetadata;
};

/**
 * `generateImage`'s result (`image`, `images`, `warnings`, `responses`, `providerMetadata`,
 * `usage`, and ai 7's `calls`), so code written for `generateImage` keeps working, with the
 * toolkit's own fields beside.
 */
export type GenerateImagesResult = {
  /** The first image. */
  image: GeneratedImage;
  images: GeneratedImage[];
  /** The toolkit's warnings (options dropped or changed, `type: "other"`) and the provider's, as the AI SDK gives them. */
  warnings: ImagegenWarning[];
  /** Each answered call's response metadata (timestamp, model id, headers). */
  responses: ImageResponse[];
  /** Provider metadata merged across calls as `generateImage` merges it: each provider's per-image `images` joined in order. */
  providerMetadata: ImageModelV3ProviderMetadata;
  /** Tokens over every call, where the provider reports them (`undefined` counts otherwise). */
  usage: ImageModelV3Usage;
  /** One entry per provider call that answered. */
  calls: ImageCall[];
  /** HTTP calls made, retries included. */
  requests: number;
  durationMs: number;
  /** Calls that failed while others succeeded (and images that could not be read): their images are missing, the rest are here. */
  errors: ImagegenError[];
  /** The request as resolved (seed chosen, size decided). */
  request: ResolvedRequest;
  estimatedCostUsd: number | undefined;
  /**
   * What the providers reported the calls cost (Black Forest Labs' `cost`, xAI's `costInUsdTicks`,
   * OpenAI's tokens priced); `undefined` unless every call that made images reported it.
   */
  actualCostUsd: number | undefined;
};

/** Throws the first abort or unexpected error, or the first provider error when no call succeeded. */
export function collectResult(
  prepared: { readonly plan: { readonly resolved: ResolvedRequest; readonly estimatedCostUsd: number | undefined }; readonly warnings: readonly ImagegenWarning[] },
  outcomes: readonly CallOutcome[],
  startedAt: number,
): GenerateImagesResult {
  // Aborts (and anything that is not a provider failure) end the whole request.
  const unexpected = outcomes.find((outcome) => outcome.thrown !== undefined);
  if (unexpected) throw unexpected.thrown;
  const answered = outcomes.filter((outcome): outcome is CallOutcome & { response: ImageResponse } => outcome.response !== undefined && outcome.images.length > 0);
  const images = answered.flatMap((outcome) => outcome.images);
  const errors = outcomes.flatMap((outcome) => [...(outcome.report.error ? [outcome.report.error] : []), ...outcome.imageErrors]);
  if (images.length === 0 && errors[0] !== undefined) throw errors[0];
  const actualCostUsd = sumActualCosts(outcomes.map((outcome) => ({ actualCostUsd: outcome.report.actualCostUsd, imageCount: outcome.images.length })));
  const { estimatedCostUsd, resolved } = prepared.plan;
  const drift = priceDriftWarning({ model: resolved.model, estimatedUsd: estimatedCostUsd === undefined ? undefined : (estimatedCostUsd * images.length) / resolved.count, actualUsd: actualCostUsd });
  return {
    image: images[0]!,
    images,
    warnings: [...prepared.warnings, ...answered.flatMap((outcome) => outcome.warnings), ...(drift === undefined ? [] : [drift])],
    responses: answered.map((outcome) => outcome.response),
    providerMetadata: mergeProviderMetadata(answered.map((outcome) => outcome.providerMetadata)),
    usage: answered.reduce((sum, outcome) => (outcome.usage === undefined ? sum : addUsage(sum, outcome.usage)), NO_USAGE),
    calls: answered.map(toImageCall),
    requests: outcomes.reduce((sum, outcome) => sum + outcome.report.attempts, 0),
    durationMs: Date.now() - startedAt,
    errors,
    request: prepared.plan.resolved,
    estimatedCostUsd: prepared.plan.estimatedCostUsd,
    actualCostUsd,
  };
}

function toImageCall({ images, warnings, response, usage, providerMetadata, report }: CallOutcome & { response: ImageResponse }): ImageCall {
  const { responseHeaders: _headers, error: _error, ...fields } = report;
  return {
    ...fields,
    images,
    warnings,
    response,
    ...(usage === undefined ? {} : { usage }),
    ...(Object.keys(providerMetadata).length === 0 ? {} : { providerMetadata }),
  };
}

const NO_USAGE: ImageModelV3Usage = { inputTokens: undefined, outputTokens: undefined, totalTokens: undefined };

/** Token counts added as `generateImage` adds them: a count either call lacks stays the other's. */
function addUsage(first: ImageModelV3Usage, second: ImageModelV3Usage): ImageModelV3Usage {
  const add = (a: number | undefined, b: number | undefined) => (a === undefined && b === undefined ? undefined : (a ?? 0) + (b ?? 0));
  return { inputTokens: add(first.inputTokens, second.inputTokens), outputTokens: add(first.outputTokens, second.outputTokens), totalTokens: add(first.totalTokens, second.totalTokens) };
}

/** The AI Gateway's cost fields, added up across calls as ai 7's `generateImage` adds them (decimal strings). */
const GATEWAY_COST_KEYS = ['cost', 'gatewayCost', 'inferenceCost'] as const;

/**
 * Merges the metadata of several calls as `generateImage` merges its own: per provider, only the
 * per-image `images` arrays, joined in call order; the AI Gateway's entry merged field by field, its
 * cost fields added up and an empty `images` left out.
 */
export function mergeProviderMetadata(all: readonly ImageModelV3ProviderMetadata[]): ImageModelV3ProviderMetadata {
  const merged: Record<string, Record<string, unknown>> = Object.create(null) as Record<string, Record<string, unknown>>;
  for (const metadata of all) {
    for (const [provider, value] of Object.entries(metadata)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      const previous = merged[provider];
      if (provider === 'gateway') {
        const costs = GATEWAY_COST_KEYS.flatMap((key) => {
          const total = addDecimalStrings(previous?.[key], entry[key]);
          return total === undefined ? [] : [[key, total] as const];
        });
        const next: Record<string, unknown> = { ...previous, ...entry, ...Object.fromEntries(costs) };
        if (Array.isArray(next.images) && next.images.length === 0) delete next.images;
        merged[provider] = next;
      } else {
        merged[provider] = { images: [...arrayOf(previous?.images), ...arrayOf(entry.images)] };
      }
    }
  }
  return { ...merged } as ImageModelV3ProviderMetadata;
}

const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

/** `"0.01" + "0.025"` → `"0.035"`, exactly (BigInt); `undefined` unless both are plain decimals. */
function addDecimalStrings(first: unknown, second: unknown): string | undefined {
  const decimal = /^\d+(?:\.\d+)?$/;
  if (typeof first !== 'string' || typeof second !== 'string' || !decimal.test(first) || !decimal.test(second)) return undefined;
  const [whole1, fraction1 = ''] = first.split('.') as [string, string?];
  const [whole2, fraction2 = ''] = second.split('.') as [string, string?];
  const precision = Math.max(fraction1.length, fraction2.length);
  const sum = (BigInt(whole1 + fraction1.padEnd(precision, '0')) + BigInt(whole2 + fraction2.padEnd(precision, '0'))).toString().padStart(precision + 1, '0');
  return precision === 0 ? sum : `${sum.slice(0, -precision)}.${sum.slice(-precision)}`.replace(/\.?0+$/, '');
}
