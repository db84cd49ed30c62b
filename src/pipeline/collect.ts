import type { ImagegenError } from '../errors/errors.js';
import type { GeneratedImage } from '../image.js';
import type { ImagegenWarning, ResolvedRequest } from './plan.js';
import { priceDriftWarning, sumActualCosts } from './cost.js';
import type { CallOutcome, CallReport } from './send.js';

/**
 * Stage 6, collect: the outcomes of a request's calls as one result. The images of calls that
 * succeeded are kept when another failed; only when none succeeded does the request fail.
 */

export type GenerateImagesResult = {
  images: GeneratedImage[];
  /** The toolkit's warnings (options dropped or changed) and the provider's. */
  warnings: ImagegenWarning[];
  /** HTTP calls made, retries included. */
  requests: number;
  durationMs: number;
  /**
   * Per-provider metadata the AI SDK passes on (e.g. revised prompts), as `generateImage` gives it:
   * each provider's `images` holds one entry per image, in order, across every call.
   */
  providerMetadata: Record<string, unknown>;
  /** Calls that failed while others succeeded: their images are missing, the rest are here. */
  errors: ImagegenError[];
  calls: CallReport[];
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
  const images = outcomes.flatMap((outcome) => outcome.images);
  const errors = outcomes.flatMap((outcome) => (outcome.report.error ? [outcome.report.error] : []));
  if (images.length === 0 && errors[0] !== undefined) throw errors[0];
  const actualCostUsd = sumActualCosts(outcomes.map((outcome) => ({ actualCostUsd: outcome.report.actualCostUsd, imageCount: outcome.images.length })));
  const { estimatedCostUsd, resolved } = prepared.plan;
  const drift = priceDriftWarning({ model: resolved.model, estimatedUsd: estimatedCostUsd === undefined ? undefined : (estimatedCostUsd * images.length) / resolved.count, actualUsd: actualCostUsd });
  return {
    images,
    warnings: [...prepared.warnings, ...outcomes.flatMap((outcome) => outcome.warnings), ...(drift === undefined ? [] : [drift])],
    requests: outcomes.reduce((sum, outcome) => sum + outcome.report.attempts, 0),
    durationMs: Date.now() - startedAt,
    providerMetadata: mergeProviderMetadata(outcomes.map((outcome) => outcome.providerMetadata)),
    errors,
    calls: outcomes.map((outcome) => outcome.report),
    request: prepared.plan.resolved,
    estimatedCostUsd: prepared.plan.estimatedCostUsd,
    actualCostUsd,
  };
}

/**
 * Merges the metadata of several calls as `generateImage` merges its own: per provider, the
 * per-image `images` arrays are joined in call order; other fields, the last call's.
 */
export function mergeProviderMetadata(all: readonly Record<string, unknown>[]): Record<string, unknown> {
  const merged = new Map<string, Record<string, unknown>>();
  for (const metadata of all) {
    for (const [provider, value] of Object.entries(metadata)) {
      if (value === null || typeof value !== 'object') continue;
      const entry = value as Record<string, unknown>;
      const previous = merged.get(provider);
      const images = [...arrayOf(previous?.images), ...arrayOf(entry.images)];
      merged.set(provider, { ...previous, ...entry, ...(previous?.images !== undefined || entry.images !== undefined ? { images } : {}) });
    }
  }
  return Object.fromEntries(merged);
}

const arrayOf = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);
