import type { ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { generateImage, wrapImageModel } from 'ai';
import { errorMessage, ImagegenError, InvalidResponseError } from '../errors/errors.js';
import { GeneratedImage } from '../image.js';
import { timeoutSignal } from '../util/timeout.js';
import { noRetryWhenRefused } from './connection-refused.js';
import { toImagegenError, type AbortLike } from '../errors/provider-errors.js';
import { adapterFor } from '../providers/index.js';
import { instantiateModel, type ModelSource } from '../models/resolve-model.js';
import type { MappedCall } from './map.js';
import type { ImagegenWarning, Plan } from './plan.js';

/**
 * Stage 5, send: one mapped call through `generateImage`, its images built from what came back.
 * Never throws: a provider's failure is the outcome's `report.error`, an abort its `thrown`.
 */

/** What `sendCall` needs of a prepared request. */
export type SendTarget = { readonly plan: Plan; readonly source: ModelSource };

/** One provider call as it went: for logs, benchmarks and the batch journal. */
export type CallReport = {
  n: number;
  seed: number | undefined;
  /** HTTP attempts, retries included. */
  attempts: number;
  durationMs: number;
  responseId: string | undefined;
  /** Headers of the last response, where the provider answered (rate-limit headers, ids). */
  responseHeaders: Record<string, string> | undefined;
  error: ImagegenError | undefined;
};

export type CallOutcome = {
  images: GeneratedImage[];
  warnings: ImagegenWarning[];
  providerMetadata: Record<string, unknown>;
  report: CallReport;
  /** A cancel (the abort signal's reason), passed on as it is. */
  thrown: AbortLike | undefined;
};

/** What a provider says per image beyond the bytes, under `providerMetadata[provider].images[i]`. */
type ImageMetadata = { seed?: number; url?: string; id?: string; timings?: { inference?: number } } | undefined;

export async function sendCall(
  { plan, source }: SendTarget,
  { call, args }: MappedCall,
  {
    maxRetries,
    abortSignal: callerSignal,
    timeoutMs,
  }: {
    maxRetries?: number | undefined;
    abortSignal?: AbortSignal | undefined;
    /** Gives up on the call, its retries included, with a `TimeoutError` naming provider, model and limit. */
    timeoutMs?: number | undefined;
  } = {},
): Promise<CallOutcome> {
  const started = Date.now();
  const adapter = adapterFor(source.kind === 'given' ? source.catalogProvider : source.adapter.name);
  const sink: { attempts: number; warnings: SharedV3Warning[] } = { attempts: 0, warnings: [] };
  const report: CallReport = { n: call.n, seed: call.seed, attempts: 0, durationMs: 0, responseId: undefined, responseHeaders: undefined, error: undefined };
  const context = { provider: plan.provider, modelId: plan.modelId, environmentVariables: adapter.environmentVariables, replacement: plan.model.deprecated?.replacement };
  const abortSignal =
    timeoutMs === undefined ? callerSignal : timeoutSignal(timeoutMs, { operation: 'the request', provider: plan.provider, modelId: plan.modelId }, callerSignal);
  try {
    const model = await instantiateModel(source);
    const result = await generateImage({
      model: wrapImageModel({ model, middleware: [captureMiddleware(sink), noRetryWhenRefused] }),
      ...args,
      ...(maxRetries === undefined ? {} : { maxRetries }),
      ...(abortSignal === undefined ? {} : { abortSignal }),
    });
    const metadata = perImageMetadata(result.providerMetadata, source.providerName, adapter.optionsKey);
    const images = result.images.map((file, position) => toImage({ plan, call, file, position, metadata: metadata[position], context }));
    const warnings = (adapter.filterWarnings?.(sink.warnings) ?? sink.warnings).map(fromProviderWarning);
    report.responseId = metadata[0]?.id;
    report.responseHeaders = result.responses.at(-1)?.headers;
    return { images, warnings, providerMetadata: result.providerMetadata, report, thrown: undefined };
  } catch (error) {
    const mapped = toImagegenError(error, { ...context, abortSignal });
    if (ImagegenError.isInstance(mapped)) report.error = mapped;
    return { images: [], warnings: [], providerMetadata: {}, report, thrown: ImagegenError.isInstance(mapped) ? undefined : mapped };
  } finally {
    report.attempts = sink.attempts;
    report.durationMs = Date.now() - started;
  }
}

/** One returned image with what reproduces it: the call's request (its seed and `n`). */
function toImage({
  plan,
  call,
  file,
  position,
  metadata,
  context,
}: {
  plan: Plan;
  call: MappedCall['call'];
  file: { uint8Array: Uint8Array };
  position: number;
  metadata: ImageMetadata;
  context: { provider: string; modelId: string };
}): GeneratedImage {
  const url = metadata?.url;
  const inference = metadata?.timings?.inference;
  const fields = {
    index: call.firstIndex + position,
    seed: metadata?.seed ?? call.seed,
    provider: plan.provider,
    modelId: plan.modelId,
    request: { ...plan.resolved, count: call.n, ...(call.seed === undefined ? {} : { seed: call.seed }) },
    timings: inference === undefined ? undefined : { inferenceSeconds: inference },
    responseId: metadata?.id,
    url,
  };
  if (url !== undefined) {
    // Kept as the provider's URL (`responseFormat: "url"`): the size is the one asked for.
    const mediaType = plan.outputFormat === 'png' ? 'image/png' : 'image/jpeg';
    return new GeneratedImage({ ...fields, bytes: new Uint8Array(0) }, { width: plan.width, height: plan.height, mediaType });
  }
  try {
    return new GeneratedImage({ ...fields, bytes: file.uint8Array });
  } catch (error) {
    throw new InvalidResponseError({ ...context, detail: `image ${position} is not a valid image (${errorMessage(error)})`, cause: error });
  }
}

/**
 * Counts HTTP attempts and takes the provider's warnings for the toolkit's result, so the AI SDK
 * has none left to print to the console.
 */
function captureMiddleware(sink: { attempts: number; warnings: SharedV3Warning[] }): ImageModelV3Middleware {
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate }) {
      sink.attempts += 1;
      const result = await doGenerate();
      sink.warnings = result.warnings;
      return { ...result, warnings: [] };
    },
  };
}

function perImageMetadata(metadata: Record<string, unknown> | undefined, ...keys: string[]): ImageMetadata[] {
  for (const key of keys) {
    const images = (metadata?.[key] as { images?: unknown } | undefined)?.images;
    if (Array.isArray(images)) return images as ImageMetadata[];
  }
  return [];
}

function fromProviderWarning(warning: SharedV3Warning): ImagegenWarning {
  const message =
    warning.type === 'other'
      ? warning.message
      : `${warning.type === 'unsupported' ? 'unsupported' : 'compatibility'}: ${warning.feature}${warning.details ? ` (${warning.details})` : ''}`;
  return { source: 'provider', message };
}
