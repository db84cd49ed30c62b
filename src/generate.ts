import pLimit from 'p-limit';
import { DEFAULT_MAX_INPUT_IMAGE_BYTES } from './shared/capabilities.js';
import { ImagegenError, InvalidRequestError } from './errors/errors.js';
import { Budget, costOfDelivery } from './pipeline/budget.js';
import { collectResult, type GenerateImagesResult } from './pipeline/collect.js';
import { loadMask, loadReferenceImages, type ReadFile } from './pipeline/load.js';
import { mapPlan, strictIssues, type MappedCall } from './pipeline/map.js';
import { DEFAULT_MODEL, generateRequestSchema, parseCollectingIssues, type GenerateRequest } from './pipeline/parse.js';
import { deprecationWarning, planGeneration, referenceInputs, type ImagegenWarning, type Plan } from './pipeline/plan.js';
import { sendCall } from './pipeline/send.js';
import { adapterFor } from './providers/index.js';
import { MAX_TIMEOUT_MS } from './util/timeout.js';
import type { TelemetryOptions } from './telemetry/settings.js';
import { traceRequest, type RequestTrace } from './telemetry/trace.js';
import { instantiateModel, resolveModelReference, type ModelSource, type ProvidersOption } from './models/resolve-model.js';
import { fromSharedCache, toSharedCache } from './sharing/hooks.js';
import type { SeededImageCache } from './sharing/image-cache.js';
import { inTurn, type RequestLimiter } from './sharing/limiter.js';

export type { CallReport } from './pipeline/send.js';
export type { GenerateImagesResult } from './pipeline/collect.js';

export type GenerateImagesOptions = TelemetryOptions & {
  /**
   * The app's own providers (keys, base URLs, `fetch`): instances by name, one instance, or
   * `{ registry }` for an AI SDK provider registry. Others are the built-in ones, from the environment.
   */
  providers?: ProvidersOption;
  /** Retries per provider call (429, 5xx, network), honouring `retry-after`. @default 2 */
  maxRetries?: number;
  /** Provider calls in flight at once for one request. @default 4 */
  concurrency?: number;
  /** Cancels the request: calls not started are not sent, those in flight are aborted. */
  abortSignal?: AbortSignal;
  /**
   * Gives up on each provider call (its retries included) that takes longer, with a `TimeoutError`
   * naming the provider, model and limit; the other calls' images are kept. @default 600000 (10 minutes:
   * every call has a deadline, however slow the provider)
   */
  timeoutMs?: number;
  /** Reads reference images given as file paths (the Node entry supplies it). */
  readFile?: ReadFile;
  /** Source of seeds when the request has none, for tests. */
  randomSeed?: () => number;
  /**
   * The most this request may cost, in USD: one whose estimate passes it throws a
   * `BudgetExceededError` before anything is sent (as does a model with no known price).
   */
  maxCostUsd?: number;
  /**
   * A spending limit shared by several requests (an agent's loop): each reserves its estimate
   * before sending and is charged what it cost (the provider's actual cost where reported).
   */
  budget?: Budget;
  /**
   * A rate limit shared with other processes (`createRedisRateLimiter` from `ai-imagegen/node`):
   * every provider call waits for its turn, so app instances on one key keep to one limit together.
   */
  rateLimiter?: RequestLimiter;
  /**
   * A cache of seeded requests shared with other processes and the batch workers
   * (`StorageImageCache` over any `unstorage` storage: Redis, fs, S3, Vercel Blob, Cloudflare KV).
   */
  cache?: SeededImageCache;
};

/** A request validated, planned and mapped: what `generateImages`, batch, compare and dry runs send or show. */
export type PreparedGeneration = {
  readonly plan: Plan;
  /** Where the model comes from: built in, or the app's own provider. */
  readonly source: ModelSource;
  /** Every call with its `generateImage` arguments, mapped once. */
  readonly calls: readonly MappedCall[];
  /** The plan's and the mapping's warnings, and a retired model's. */
  readonly warnings: readonly ImagegenWarning[];
};

/**
 * Generates images through `generateImage` from the AI SDK, with the catalog's mapping:
 * validated before anything is sent, several images per request where the provider allows,
 * calls bounded by `concurrency`, and the images of successful calls kept when another fails.
 *
 * @example
 * const { images } = await generateImages({ prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 4 });
 */
export function generateImages(request: GenerateRequest, options: GenerateImagesOptions = {}): Promise<GenerateImagesResult> {
  return traceRequest({ request, options }, (trace) => generateTraced(request, options, trace));
}

async function generateTraced(request: GenerateRequest, options: GenerateImagesOptions, trace: RequestTrace): Promise<GenerateImagesResult> {
  const started = Date.now();
  const { request: plain, abortSignal } = takeAbortSignal(request, options.abortSignal);
  checkTimeout(options.timeoutMs);
  checkConcurrency(options.concurrency);
  const budgets = [...(options.maxCostUsd === undefined ? [] : [new Budget({ maxUsd: options.maxCostUsd, field: 'maxCostUsd' })]), ...(options.budget ? [options.budget] : [])];
  const prepared = await prepareGeneration(plain, options);
  const shared = await fromSharedCache({ cache: options.cache, prepared, seeded: plain.seed !== undefined, started });
  if (shared.result !== undefined) return shared.result;
  const timeoutMs = options.timeoutMs ?? DEFAULT_CALL_TIMEOUT_MS;
  const send = (mapped: MappedCall) =>
    trace.call(prepared, mapped.call, () => inTurn(options.rateLimiter, abortSignal, () => sendCall(prepared, mapped, { maxRetries: options.maxRetries, abortSignal, timeoutMs })));
  const queue = pLimit(options.concurrency ?? 4);
  // One call (most requests) needs no queue.
  const limit = prepared.calls.length > 1 ? queue : (task: () => ReturnType<typeof send>) => task();
  const { estimatedCostUsd, resolved } = prepared.plan;
  const reservations = budgets.map((budget) => budget.reserve({ estimatedUsd: estimatedCostUsd, model: resolved.model }));
  try {
    const outcomes = await Promise.all(prepared.calls.map((mapped) => limit(() => send(mapped))));
    const result = collectResult(prepared, outcomes, started);
    const cost = costOfDelivery({ actualCostUsd: result.actualCostUsd, estimatedCostUsd, delivered: result.images.length, requested: resolved.count });
    for (const reservation of reservations) reservation.settle(cost);
    await toSharedCache({ cache: options.cache, key: shared.key, result });
    return result;
  } catch (error) {
    // A provider's refusal delivered nothing to pay for; an abort may have been billed for calls in flight.
    for (const reservation of reservations) (ImagegenError.isInstance(error) ? reservation.release() : reservation.settle(undefined));
    throw error;
  }
}

/**
 * Parse → load → plan → map, without sending anything. Throws one `InvalidRequestError` listing
 * every problem; a built-in provider's key is checked unless `checkKey` is false (dry runs).
 */
export async function prepareGeneration(
  request: GenerateRequest,
  options: Pick<GenerateImagesOptions, 'providers' | 'readFile' | 'randomSeed'> & {
    /** Check the built-in provider's key now. @default true (false for dry runs) */
    checkKey?: boolean;
  } = {},
): Promise<PreparedGeneration> {
  const reference = generateRequestSchema.shape.model.safeParse((request as { model?: unknown } | null)?.model);
  // A malformed model reference is reported by the parse stage with every other problem.
  const resolved = resolveModelReference(reference.success ? reference.data : DEFAULT_MODEL, options.providers);
  const { source, target } = resolved;
  const catalogProvider = source.kind === 'given' ? source.catalogProvider : source.adapter.name;

  const collected = parseCollectingIssues(request);
  const issues = collected.issues;
  // The plan records the reference as resolved: a bare id with the provider it was found under.
  const parsed = { ...collected.parsed, model: resolved.reference };
  const { model } = target;
  const inputs = referenceInputs(parsed, model);
  const loaded = await loadReferenceImages(inputs.inputs, {
    readFile: options.readFile,
    maxBytes: model.maxInputImageBytes ?? DEFAULT_MAX_INPUT_IMAGE_BYTES,
    displayName: model.displayName,
  });
  const mask = await loadMask(parsed.mask, model, { readFile: options.readFile });
  const planned = planGeneration(parsed, target, loaded.images, { randomSeed: options.randomSeed, mask: mask.mask });
  const plan: Plan = { ...planned.plan, warnings: [...resolved.warnings, ...planned.plan.warnings] };
  issues.push(...resolved.issues, ...inputs.issues, ...loaded.issues, ...mask.issues, ...planned.issues);
  // Strict mode's issues join the others: one error lists every problem.
  if (issues.length > 0) throw new InvalidRequestError({ issues: [...issues, ...(plan.strict ? strictIssues(plan.warnings, parsed) : [])] });

  const mapped = mapPlan(plan, adapterFor(catalogProvider));
  const changes = [...plan.warnings, ...mapped.warnings];
  if (plan.strict && changes.length > 0) throw new InvalidRequestError({ issues: strictIssues(changes, parsed) });
  // Building a built-in model checks its key now, before any call is made; the calls reuse it.
  if (source.kind === 'built-in' && options.checkKey !== false) await instantiateModel(source);
  const deprecation = deprecationWarning(plan);
  const warnings = [...plan.warnings, ...(deprecation === undefined ? [] : [deprecation]), ...mapped.warnings];
  return { plan, source, calls: mapped.calls, warnings };
}

/**
 * `abortSignal` belongs in the options; a request that still carries one (deprecated) is taken,
 * the options' signal winning. Anything else under that name is left for the schema to refuse.
 */
function takeAbortSignal(request: GenerateRequest, given: AbortSignal | undefined): { request: GenerateRequest; abortSignal: AbortSignal | undefined } {
  const carried = (request as { abortSignal?: unknown } | null)?.abortSignal;
  if (!(carried instanceof AbortSignal)) return { request, abortSignal: given };
  const { abortSignal: _carried, ...rest } = request as GenerateRequest & { abortSignal: AbortSignal };
  return { request: rest, abortSignal: given ?? carried };
}

/** Each provider call's deadline, its retries included, when the caller sets none: 10 minutes. */
export const DEFAULT_CALL_TIMEOUT_MS = 600_000;

export function checkConcurrency(concurrency: number | undefined): void {
  if (concurrency === undefined || (Number.isInteger(concurrency) && concurrency >= 1) || concurrency === Infinity) return;
  throw new InvalidRequestError({ issues: [{ field: 'concurrency', value: concurrency, message: 'must be a whole number of provider calls, 1 or more' }] });
}

function checkTimeout(timeoutMs: number | undefined): void {
  if (timeoutMs === undefined || (Number.isInteger(timeoutMs) && timeoutMs >= 1 && timeoutMs <= MAX_TIMEOUT_MS)) return;
  throw new InvalidRequestError({ issues: [{ field: 'timeoutMs', value: timeoutMs, message: `must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (24 days)` }] });
}
