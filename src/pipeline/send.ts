import type { ImageModelV3Middleware, ImageModelV3ProviderMetadata, ImageModelV3Usage, SharedV3Warning } from '@ai-sdk/provider';
import { generateImage, wrapImageModel } from 'ai';
import { errorMessage, ImagegenError, InvalidResponseError, redactCallSecrets } from '../errors/errors.js';
import { RequestSecrets } from '../errors/redaction.js';
import { toV3Warning } from '../shared/model-version.js';
import { GeneratedImage } from '../image.js';
import { withTimeoutSignal } from '../util/timeout.js';
import { noRetryWhenRefused } from './connection-refused.js';
import { toImagegenError, type AbortLike } from '../errors/provider-errors.js';
import { adapterFor } from '../providers/index.js';
import type { ImageMetadata } from '../providers/adapter.js';
import { instantiateModel, type ModelSource } from '../models/resolve-model.js';
import { actualCostOfResponses, type ReportedCost } from './cost.js';
import type { MappedCall } from './map.js';
import type { ImagegenWarning, Plan } from '../shared/plan.js';

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
  /** What the provider reported the call cost (src/pipeline/cost.ts); `undefined` when it reports nothing. */
  actualCostUsd: number | undefined;
};

/** The response metadata `generateImage` reports per call (the AI SDK's `ImageModelResponseMetadata`). */
export type ImageResponse = { timestamp: Date; modelId: string; headers?: Record<string, string> };

export type CallOutcome = {
  images: GeneratedImage[];
  warnings: ImagegenWarning[];
  /** The call's provider metadata as `generateImage` returned it (`{}` when it failed). */
  providerMetadata: ImageModelV3ProviderMetadata;
  /** The provider's response, when it answered with images. */
  response: ImageResponse | undefined;
  /** Tokens, where the provider reports them. */
  usage: ImageModelV3Usage | undefined;
  /** Images of an answered call that could not be read: the call's other images are kept. */
  imageErrors: ImagegenError[];
  report: CallReport;
  /** A cancel (the abort signal's reason), passed on as it is. */
  thrown: AbortLike | undefined;
};

export function sendCall(
  target: SendTarget,
  mapped: MappedCall,
  {
    maxRetries,
    abortSignal,
    timeoutMs,
  }: {
    maxRetries?: number | undefined;
    abortSignal?: AbortSignal | undefined;
    /** Gives up on the call, its retries included, with a `TimeoutError` naming provider, model and limit. */
    timeoutMs?: number | undefined;
  } = {},
): Promise<CallOutcome> {
  if (timeoutMs === undefined) return sendWithSignal(target, mapped, maxRetries, abortSignal);
  // The timer is cleared when the call ends: it must not outlive it (see withTimeoutSignal).
  const describe = { operation: 'the request', provider: target.plan.provider, modelId: target.plan.modelId };
  return withTimeoutSignal(timeoutMs, describe, abortSignal, (signal) => sendWithSignal(target, mapped, maxRetries, signal));
}

async function sendWithSignal({ plan, source }: SendTarget, { call, args }: MappedCall, maxRetries: number | undefined, abortSignal: AbortSignal | undefined): Promise<CallOutcome> {
  const started = Date.now();
  const adapter = adapterFor(source.kind === 'given' ? source.catalogProvider : source.adapter.name);
  const sink: CaptureSink = { attempts: 0, warnings: [], providerMetadata: undefined, reported: [] };
  const report: CallReport = { n: call.n, seed: call.seed, attempts: 0, durationMs: 0, responseId: undefined, responseHeaders: undefined, error: undefined, actualCostUsd: undefined };
  const context = { provider: plan.provider, modelId: plan.modelId, environmentVariables: adapter.environmentVariables, replacement: plan.model.deprecated?.replacement };
  // The keys this call sends, for its own errors only (see errors/redaction.ts).
  const secrets = new RequestSecrets();
  const outcome: CallOutcome = { images: [], warnings: [], providerMetadata: {}, response: undefined, usage: undefined, imageErrors: [], report, thrown: undefined };
  try {
    const model = await instantiateModel(source);
    const result = await generateImage({
      model: wrapImageModel({ model, middleware: [captureMiddleware(sink), noRetryWhenRefused] }),
      ...args,
      ...(maxRetries === undefined ? {} : { maxRetries }),
      // An app's own provider may send keys of its own (seen by observeCredentials through the call's
      // signal); a built-in one sends the environment's, redacted process-wide, and needs no signal.
      ...(source.kind === 'given' ? { abortSignal: secrets.signalFor(abortSignal) } : abortSignal === undefined ? {} : { abortSignal }),
    });
    const response = result.responses.at(-1);
    const metadata = adapter.imageMetadata?.({ response, providerMetadata: result.providerMetadata }) ?? perImageMetadata(result.providerMetadata, source.providerName, adapter.optionsKey);
    result.images.forEach((file, position) => {
      try {
        outcome.images.push(toImage({ plan, call, file, position, metadata: metadata[position] }));
      } catch (error) {
        // One image that cannot be read does not cost the call's others: they are paid for and kept.
        outcome.imageErrors.push(new InvalidResponseError({ ...context, detail: `image ${call.firstIndex + position} is not a valid image (${errorMessage(error)})`, cause: error }));
      }
    });
    outcome.warnings = (adapter.filterWarnings?.(sink.warnings) ?? sink.warnings).map(fromProviderWarning);
    // The call's own metadata as the provider gave it (ai 7's `calls[i].providerMetadata`); the
    // request's is merged from these in collect, as generateImage merges its calls'.
    outcome.providerMetadata = sink.providerMetadata ?? {};
    outcome.response = response === undefined ? undefined : withoutPrivateHeaders(response, adapter.privateHeaders);
    outcome.usage = hasUsage(result.usage) ? result.usage : undefined;
    report.responseId = metadata[0]?.id;
    report.responseHeaders = outcome.response?.headers;
    if (outcome.images.length === 0 && outcome.imageErrors[0] !== undefined) report.error = outcome.imageErrors.shift();
    report.actualCostUsd = actualCostOfResponses(plan.modelId, sink.reported);
  } catch (error) {
    const mapped = toImagegenError(error, { ...context, abortSignal });
    if (ImagegenError.isInstance(mapped)) {
      redactCallSecrets(mapped, secrets);
      report.error = mapped;
    } else outcome.thrown = mapped;
  } finally {
    report.attempts = sink.attempts;
    report.durationMs = Date.now() - started;
  }
  return outcome;
}

/** One returned image with what reproduces it: the call's request (its seed and `n`). Throws when the bytes are not an image. */
function toImage({
  plan,
  call,
  file,
  position,
  metadata,
}: {
  plan: Plan;
  call: MappedCall['call'];
  file: { uint8Array: Uint8Array };
  position: number;
  metadata: ImageMetadata;
}): GeneratedImage {
  const inference = metadata?.timings?.inference;
  return new GeneratedImage({
    uint8Array: file.uint8Array,
    index: call.firstIndex + position,
    seed: metadata?.seed ?? call.seed,
    provider: plan.provider,
    modelId: plan.modelId,
    request: { ...plan.resolved, count: call.n, ...(call.seed === undefined ? {} : { seed: call.seed }) },
    timings: inference === undefined ? undefined : { inferenceSeconds: inference },
    responseId: metadata?.id,
  });
}

/** The response without the headers the toolkit's own `fetch` added to carry what a package drops. */
function withoutPrivateHeaders(response: ImageResponse, names: readonly string[] | undefined): ImageResponse {
  if (names === undefined || response.headers === undefined || !names.some((name) => name in response.headers!)) return response;
  const headers = Object.fromEntries(Object.entries(response.headers).filter(([name]) => !names.includes(name)));
  return { ...response, headers };
}

const hasUsage = (usage: ImageModelV3Usage | undefined): usage is ImageModelV3Usage =>
  usage !== undefined && (usage.inputTokens !== undefined || usage.outputTokens !== undefined || usage.totalTokens !== undefined);

type CaptureSink = { attempts: number; warnings: SharedV3Warning[]; providerMetadata: ImageModelV3ProviderMetadata | undefined; reported: ReportedCost[] };

/**
 * Counts HTTP attempts, takes the provider's warnings for the toolkit's result (so the AI SDK has
 * none left to print to the console), and keeps each response's metadata and usage as the model
 * gave them: the last for `calls`, every one for the actual cost (ai 6's `generateImage` keeps only
 * each provider's `images`, so xAI's `costInUsdTicks` would be lost).
 */
function captureMiddleware(sink: CaptureSink): ImageModelV3Middleware {
  return {
    specificationVersion: 'v3',
    async wrapGenerate({ doGenerate }) {
      sink.attempts += 1;
      const result = await doGenerate();
      // On ai 7 the model is the provider's own (v4), whose warnings may be `deprecated` ones.
      sink.warnings = result.warnings.map(toV3Warning);
      // A copy: generateImage's own merge deletes from the object it was given (ai 6, the gateway's `images`).
      sink.providerMetadata =
        result.providerMetadata && Object.fromEntries(Object.entries(result.providerMetadata).map(([provider, entry]) => [provider, { ...(entry as object) }])) as ImageModelV3ProviderMetadata;
      sink.reported.push({ providerMetadata: result.providerMetadata, usage: result.usage });
      return { ...result, warnings: [] };
    },
  };
}

/** What a provider reports per image under `providerMetadata[key].images[i]` (seeds, ids). */
function perImageMetadata(metadata: Record<string, unknown> | undefined, ...keys: string[]): ImageMetadata[] {
  for (const key of keys) {
    const images = (metadata?.[key] as { images?: unknown } | undefined)?.images;
    if (Array.isArray(images)) return images as ImageMetadata[];
  }
  return [];
}

/** A provider's warning as the AI SDK gave it, with where it came from and its text. */
function fromProviderWarning(warning: SharedV3Warning): ImagegenWarning {
  if (warning.type === 'other') return { type: 'other', source: 'provider', message: warning.message };
  const message = `${warning.type}: ${warning.feature}${warning.details ? ` (${warning.details})` : ''}`;
  return { ...warning, source: 'provider', message };
}
