import type { ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { generateImage, wrapImageModel } from 'ai';
import pLimit from 'p-limit';
import { ImagegenError, InvalidRequestError, InvalidResponseError } from './errors.js';
import { GeneratedImage } from './image.js';
import { planGeneration, type ImagegenWarning, type Plan, type PlannedCall, type ResolvedRequest } from './plan.js';
import { toImagegenError, type AbortLike } from './provider-errors.js';
import { adapterFor } from './providers/index.js';
import type { ResponseDetails } from './providers/adapter.js';
import type { GenerateRequest } from './request.js';
import {
  instantiateModel,
  knownProviderNames,
  resolveModelSource,
  splitModelReference,
  type ModelSource,
  type ProvidersOption,
} from './resolve-model.js';
import { DEFAULT_MODEL, generateRequestSchema } from './request.js';

export type GenerateImagesOptions = {
  /** Provider instances by name, or an AI SDK provider registry: the app's keys, base URLs, `fetch`. */
  providers?: ProvidersOption;
  /** Retries per provider call (429, 5xx, network), honouring `retry-after`. @default 2 */
  maxRetries?: number;
  /** Provider calls in flight at once for one request. @default 4 */
  concurrency?: number;
  /** Reads reference images given as file paths (the Node entry supplies it). */
  readFile?: (path: string, options: { maxBytes: number }) => Promise<Uint8Array>;
  /** Source of seeds when the request has none, for tests. */
  randomSeed?: () => number;
};

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

export type GenerateImagesResult = {
  images: GeneratedImage[];
  /** The toolkit's warnings (options dropped or changed) and the provider's. */
  warnings: ImagegenWarning[];
  /** HTTP calls made, retries included. */
  requests: number;
  durationMs: number;
  /** Per-provider metadata the AI SDK passes on (e.g. revised prompts). */
  providerMetadata: Record<string, unknown>;
  /** Calls that failed while others succeeded: their images are missing, the rest are here. */
  errors: ImagegenError[];
  calls: CallReport[];
  /** The request as resolved (seed chosen, size decided). */
  request: ResolvedRequest;
  estimatedCostUsd: number | undefined;
};

/**
 * Generates images through `generateImage` from the AI SDK, with the catalog's mapping:
 * validated before anything is sent, several images per request where the provider allows,
 * calls bounded by `concurrency`, and the images of successful calls kept when another fails.
 *
 * @example
 * const { images } = await generateImages({ prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 4 });
 */
export async function generateImages(
  request: GenerateRequest,
  options: GenerateImagesOptions = {},
): Promise<GenerateImagesResult> {
  const started = Date.now();
  const prepared = await prepareGeneration(request, options);
  const { plan, source } = prepared;
  const limit = pLimit(options.concurrency ?? 4);
  const outcomes = await Promise.all(plan.calls.map((call) => limit(() => runCall({ plan, source, call, maxRetries: options.maxRetries }))));

  // Aborts (and anything that is not a provider failure) end the whole request.
  const unexpected = outcomes.find((outcome) => outcome.thrown !== undefined);
  if (unexpected) throw unexpected.thrown;
  const images = outcomes.flatMap((outcome) => outcome.images);
  const errors = outcomes.flatMap((outcome) => (outcome.report.error ? [outcome.report.error] : []));
  if (images.length === 0 && errors[0] !== undefined) throw errors[0];

  return {
    images,
    warnings: [...plan.warnings, ...outcomes.flatMap((outcome) => outcome.warnings)],
    requests: outcomes.reduce((sum, outcome) => sum + outcome.report.attempts, 0),
    durationMs: Date.now() - started,
    providerMetadata: Object.assign({}, ...outcomes.map((outcome) => outcome.providerMetadata)),
    errors,
    calls: outcomes.map((outcome) => outcome.report),
    request: plan.resolved,
    estimatedCostUsd: plan.estimatedCostUsd,
  };
}

/** Validates and resolves a request without sending anything: the plan and where the model comes from. */
export async function prepareGeneration(
  request: GenerateRequest,
  options: Pick<GenerateImagesOptions, 'providers' | 'readFile' | 'randomSeed'> & {
    /** Check the built-in provider's key now. @default true (false for dry runs) */
    checkKey?: boolean;
  } = {},
): Promise<{ plan: Plan; source: ModelSource }> {
  const model = generateRequestSchema.shape.model.safeParse((request as { model?: unknown } | null)?.model);
  // A malformed model reference is reported by the planner with every other problem.
  const source = resolveModelSource(model.success ? model.data : DEFAULT_MODEL, options.providers);
  const plan = await planGeneration(request, {
    knownProviders: knownProviderNames(options.providers),
    catalogProvider: source.kind === 'given' ? source.catalogProvider : source.adapter.name,
    readFile: options.readFile,
    randomSeed: options.randomSeed,
  });
  // Mapping once now lets a provider refuse what it cannot send, and name what it changes (a size
  // snapped to one it takes), before anything is sent; strict mode makes those changes errors.
  const adapter = adapterFor(source.kind === 'given' ? source.catalogProvider : source.adapter.name);
  const known = plan.warnings.length;
  for (const call of plan.calls) adapter.mapCall(plan, call);
  if (plan.strict && plan.warnings.length > known) {
    throw new InvalidRequestError({
      issues: plan.warnings.slice(known).map((warning) => ({
        field: warning.field ?? 'model',
        value: plan.resolved.model,
        message: `${warning.message} (strict mode turns this into an error)`,
      })),
    });
  }
  if (plan.responseFormat === 'url' && source.kind === 'given') {
    throw new InvalidRequestError({
      issues: [{ field: 'responseFormat', value: 'url', message: "needs the built-in togetherai provider (the AI SDK provider cannot parse URL responses); configure it with TOGETHER_API_KEY / TOGETHER_BASE_URL" }],
    });
  }
  // Resolving a built-in model checks its key now, before any call is made.
  if (source.kind === 'built-in' && options.checkKey !== false) await source.adapter.createModel(source.modelId, {});
  return { plan, source };
}

type CallOutcome = {
  images: GeneratedImage[];
  warnings: ImagegenWarning[];
  providerMetadata: Record<string, unknown>;
  report: CallReport;
  /** A cancel (the abort signal's reason), passed on as it is. */
  thrown: AbortLike | undefined;
};

/** Runs one planned call through `generateImage`; never throws (errors are in the outcome). */
export async function runCall({
  plan,
  source,
  call,
  maxRetries,
  abortSignal,
}: {
  plan: Plan;
  source: ModelSource;
  call: PlannedCall;
  maxRetries?: number | undefined;
  abortSignal?: AbortSignal | undefined;
}): Promise<CallOutcome> {
  const started = Date.now();
  const adapter = adapterFor(source.kind === 'given' ? source.catalogProvider : source.adapter.name);
  const sink: { attempts: number; warnings: SharedV3Warning[]; details: ResponseDetails | undefined } = {
    attempts: 0,
    warnings: [],
    details: undefined,
  };
  const report: CallReport = {
    n: call.n,
    seed: call.seed,
    attempts: 0,
    durationMs: 0,
    responseId: undefined,
    responseHeaders: undefined,
    error: undefined,
  };
  const context = { provider: plan.provider, modelId: plan.modelId, environmentVariables: adapter.environmentVariables };
  const { providerName } = splitModelReference(plan.resolved.model);

  const signal = abortSignal ?? plan.abortSignal;
  try {
    const base = await instantiateModel(source, (details) => (sink.details = details));
    const mapped = adapter.mapCall(plan, call);
    const result = await generateImage({
      model: wrapImageModel({ model: base, middleware: captureMiddleware(sink) }),
      ...mapped,
      providerOptions: { ...(plan.providerOptions as typeof mapped.providerOptions), ...mapped.providerOptions },
      ...(maxRetries === undefined ? {} : { maxRetries }),
      ...(signal === undefined ? {} : { abortSignal: signal }),
    });
    const perImage = perImageMetadata(result.providerMetadata, providerName, adapter.optionsKey);
    const urls = sink.details?.urls;
    // Every image of a call is reproduced by the call's request (its seed and n).
    const request = { ...plan.resolved, count: call.n, ...(call.seed === undefined ? {} : { seed: call.seed }) };
    const images = result.images.map((file, position) => {
      const url = urls?.[position];
      const fields = {
        index: call.firstIndex + position,
        seed: perImage[position]?.seed ?? call.seed,
        provider: plan.provider,
        modelId: plan.modelId,
        request,
        timings: inferenceTimings(sink.details?.timings?.[position]),
        responseId: sink.details?.id,
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
        throw new InvalidResponseError({
          ...context,
          detail: `image ${position} is not a valid image (${(error as Error).message})`,
          cause: error,
        });
      }
    });
    const warnings = (adapter.filterWarnings?.(sink.warnings) ?? sink.warnings).map(fromProviderWarning);
    report.responseId = sink.details?.id;
    report.responseHeaders = result.responses.at(-1)?.headers;
    return { images, warnings, providerMetadata: result.providerMetadata, report, thrown: undefined };
  } catch (error) {
    const mapped = toImagegenError(error, { ...context, abortSignal: signal });
    if (ImagegenError.isInstance(mapped)) report.error = mapped;
    return { images: [], warnings: [], providerMetadata: {}, report, thrown: ImagegenError.isInstance(mapped) ? undefined : mapped };
  } finally {
    report.attempts = sink.attempts;
    report.durationMs = Date.now() - started;
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

function perImageMetadata(
  metadata: Record<string, unknown> | undefined,
  ...keys: string[]
): ({ seed?: number } | undefined)[] {
  for (const key of keys) {
    const images = (metadata?.[key] as { images?: unknown } | undefined)?.images;
    if (Array.isArray(images)) return images as ({ seed?: number } | undefined)[];
  }
  return [];
}

function inferenceTimings(timings: { inference?: number } | undefined) {
  return timings?.inference === undefined ? undefined : { inferenceSeconds: timings.inference };
}

function fromProviderWarning(warning: SharedV3Warning): ImagegenWarning {
  const message =
    warning.type === 'other'
      ? warning.message
      : `${warning.type === 'unsupported' ? 'unsupported' : 'compatibility'}: ${warning.feature}${warning.details ? ` (${warning.details})` : ''}`;
  return { source: 'provider', message };
}
