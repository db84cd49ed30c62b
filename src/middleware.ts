import type { ImageModelV3, ImageModelV3CallOptions, ImageModelV3File, ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { wrapImageModel } from 'ai';
import { base64ToBytes } from './util/base64.js';
import type { ModelCapabilities } from './models/catalog.js';
import { adapterFor } from './providers/index.js';
import { errorMessage, InvalidRequestError } from './errors/errors.js';
import { forInstalledAi } from './shared/model-version.js';
import { resolveModelReference, type ModelSource, type ProvidersOption } from './models/resolve-model.js';
import { notFoundError } from './errors/provider-errors.js';
import { sniffImage, type ReferenceImage } from './pipeline/load.js';
import { mapPlan } from './pipeline/map.js';
import type { ParsedRequest } from './pipeline/parse.js';
import { planGeneration } from './pipeline/plan.js';
import type { ProviderCall } from './providers/adapter.js';

type ImageModelV3Result = Awaited<ReturnType<ImageModelV3['doGenerate']>>;

/**
 * What `overrideMaxImagesPerCall` tells `generateImage`: the whole count in one call, which the
 * plan then splits as `generateImages` splits a count. generateImage's own split would give every
 * part the same seed (the same images again) and, when the app's `maxImagesPerCall` is above the
 * model's, hand the model more than it takes.
 */
const WHOLE_COUNT = Number.MAX_SAFE_INTEGER;

/**
 * AI SDK middleware that applies the catalog to raw `generateImage` calls, through the same plan
 * and provider mapping `generateImages` uses: calls of as many images as the model takes, each
 * call's seed moved on by the index of its first image, aspect ratio honoured, options under the
 * names each model reads, input images where the provider takes them.
 */
export function catalogMiddleware(model: ModelCapabilities): ImageModelV3Middleware {
  const adapter = adapterFor(model.provider);
  const planned = new WeakMap<ImageModelV3CallOptions, { calls: ImageModelV3CallOptions[]; warnings: SharedV3Warning[] }>();
  return {
    specificationVersion: 'v3',
    overrideMaxImagesPerCall: () => WHOLE_COUNT,
    async transformParams({ params }) {
      const { plan, issues } = planCallOptions(params, model, adapter.optionsKey);
      if (issues.length > 0) throw new InvalidRequestError({ issues });
      const mapped = mapPlan(plan, adapter);
      const calls = mapped.calls.map((call) => toCallOptions(params, call.args));
      const warnings = [...plan.warnings, ...mapped.warnings].map((warning): SharedV3Warning => ({ type: 'other', message: warning.message }));
      planned.set(calls[0]!, { calls, warnings });
      return calls[0]!;
    },
    async wrapGenerate({ doGenerate, params, model: inner }) {
      const { calls, warnings } = planned.get(params) ?? { calls: [params], warnings: [] };
      // A 404 for a model the catalog knows names its replacement (a retired model the catalog missed).
      const named = (error: unknown) => Promise.reject(notFoundError(error, model) ?? error);
      const settled = await Promise.allSettled(calls.map((call, index) => Promise.resolve(index === 0 ? doGenerate() : inner.doGenerate(call)).catch(named)));
      const results = settled.flatMap((outcome) => (outcome.status === 'fulfilled' ? [outcome.value] : []));
      // Nothing came back: generateImage retries or reports it as it would the one call.
      if (results.length === 0) throw (settled[0] as PromiseRejectedResult).reason;
      const failures = settled.flatMap((outcome, index): SharedV3Warning[] =>
        outcome.status === 'rejected' ? [{ type: 'other', message: failedCallMessage(calls, index, outcome.reason) }] : [],
      );
      const providerWarnings = results.flatMap((result) => adapter.filterWarnings?.(result.warnings) ?? result.warnings);
      return { ...mergeResults(results), warnings: [...warnings, ...unique(providerWarnings), ...failures] };
    },
  };
}

/** A planned call that failed while others brought images: said in a warning, so no image goes missing silently. */
function failedCallMessage(calls: readonly ImageModelV3CallOptions[], index: number, reason: unknown): string {
  const call = calls[index]!;
  const seed = call.seed === undefined ? '' : `, seed ${call.seed}`;
  return `call ${index + 1} of ${calls.length} (${call.n} image${call.n === 1 ? '' : 's'}${seed}) failed, so its images are missing: ${errorMessage(reason)}`;
}

/**
 * The planned calls' results as one, in call order: the images, each provider's per-image
 * metadata (`images`) joined, usage added up; the first call's response; not retryable only
 * when no call is.
 */
function mergeResults(results: readonly ImageModelV3Result[]): Omit<ImageModelV3Result, 'warnings'> {
  const [first, ...rest] = results as [ImageModelV3Result, ...ImageModelV3Result[]];
  if (rest.length === 0) return first;
  const { isRetryable: _retryable, ...firstResult } = first;
  const providerMetadata: Record<string, Record<string, unknown>> = {};
  for (const result of results) {
    for (const [provider, metadata] of Object.entries((result.providerMetadata ?? {}) as Record<string, Record<string, unknown>>)) {
      const merged = (providerMetadata[provider] ??= { ...metadata, images: [] });
      merged.images = [...(merged.images as unknown[]), ...(Array.isArray(metadata.images) ? metadata.images : [])];
    }
  }
  const usages = results.flatMap((result) => (result.usage === undefined ? [] : [result.usage]));
  const sum = (key: 'inputTokens' | 'outputTokens' | 'totalTokens') =>
    usages.some((usage) => usage[key] !== undefined) ? usages.reduce((total, usage) => total + (usage[key] ?? 0), 0) : undefined;
  return {
    ...firstResult,
    images: results.flatMap((result) => result.images as (string | Uint8Array)[]) as string[] | Uint8Array[],
    ...(Object.keys(providerMetadata).length === 0 ? {} : { providerMetadata: providerMetadata as NonNullable<ImageModelV3Result['providerMetadata']> }),
    ...(usages.length === 0 ? {} : { usage: { inputTokens: sum('inputTokens'), outputTokens: sum('outputTokens'), totalTokens: sum('totalTokens') } }),
    ...(results.every((result) => result.isRetryable === false) ? { isRetryable: false } : {}),
  };
}

/** Warnings once each, as generateImages gives them, though several calls repeated them. */
function unique(warnings: readonly SharedV3Warning[]): SharedV3Warning[] {
  const seen = new Set<string>();
  return warnings.filter((warning) => {
    const key = JSON.stringify(warning);
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

/**
 * A raw call's options as a plan: the door's parse and load stages. `size` or `aspectRatio` (the
 * one the model is sized by, when both are given), `n`, `seed`, the input `files`, and `guidance`
 * from the provider's options, which each model reads under its own name. No seed is chosen.
 */
function planCallOptions(params: ImageModelV3CallOptions, model: ModelCapabilities, optionsKey: string) {
  const given = params.providerOptions[optionsKey] as Record<string, unknown> | undefined;
  const { guidance, steps } = given ?? {};
  // A numeric `guidance` or `steps` is the plan's, sent under the name the model reads (or left out
  // with the warning generateImages gives, where the model takes none); anything else stays as given.
  const liftGuidance = typeof guidance === 'number';
  const liftSteps = typeof steps === 'number';
  const lifted = liftGuidance || liftSteps;
  const ownOptions = Object.fromEntries(
    Object.entries(given ?? {}).filter(([name]) => !((name === 'guidance' && liftGuidance) || (name === 'steps' && liftSteps))),
  );
  const useRatio = params.aspectRatio !== undefined && (params.size === undefined || model.sizing === 'aspect-ratio');
  const request: ParsedRequest = {
    prompt: params.prompt ?? '',
    model: `${model.provider}:${model.modelId}`,
    ...(useRatio ? { aspectRatio: params.aspectRatio } : params.size === undefined ? {} : { size: params.size }),
    count: params.n,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
    ...(liftGuidance ? { guidance } : {}),
    ...(liftSteps ? { steps } : {}),
    safetyChecker: true,
    responseFormat: 'base64',
    providerOptions: (lifted ? { ...params.providerOptions, [optionsKey]: ownOptions } : params.providerOptions) as Record<string, Record<string, unknown>>,
    strict: false,
  };
  const images = (params.files ?? []).map((file, index) => toReferenceImage(file, index));
  // The call's mask goes through the plan like `generateImages`' (checked, then each provider's form).
  const mask = params.mask === undefined ? undefined : toReferenceImage(params.mask, images.length, 'mask');
  return planGeneration(
    { ...request, ...(mask === undefined ? {} : { mask: mask.kind === 'url' ? mask.url : mask.data }) },
    { provider: model.provider, modelId: model.modelId, model },
    images,
    { randomSeed: false, mask },
  );
}

function toReferenceImage(file: ImageModelV3File, index: number, name = `file ${index}`): ReferenceImage {
  if (file.type === 'url') return { kind: 'url', source: file.url, url: file.url };
  const data = typeof file.data === 'string' ? base64ToBytes(file.data) : file.data;
  return { kind: 'bytes', source: `<${name}>`, data, mediaType: file.mediaType };
}

/** The mapped arguments back as the call's options: what the provider's model receives. */
function toCallOptions(params: ImageModelV3CallOptions, args: ProviderCall): ImageModelV3CallOptions {
  const images = typeof args.prompt === 'string' ? [] : args.prompt.images;
  const mask = typeof args.prompt === 'string' ? undefined : args.prompt.mask;
  return {
    ...params,
    prompt: params.prompt === undefined ? undefined : typeof args.prompt === 'string' ? args.prompt : args.prompt.text,
    n: args.n,
    size: args.size,
    aspectRatio: args.aspectRatio,
    seed: args.seed,
    files: images.length === 0 ? undefined : images.map(toFile),
    mask: mask === undefined ? undefined : toFile(mask),
    providerOptions: { ...params.providerOptions, ...args.providerOptions },
  };
}

function toFile(image: string | Uint8Array): ImageModelV3File {
  if (typeof image !== 'string') return { type: 'file', mediaType: sniffImage(image) ?? 'image/png', data: image };
  const match = /^data:([^;,]+);base64,(.*)$/s.exec(image);
  return match ? { type: 'file', mediaType: match[1]!, data: match[2]! } : { type: 'url', url: image };
}

/**
 * An AI SDK `ImageModelV3` for `"provider:modelId"` with the catalog's mapping built in, for apps
 * that keep calling `generateImage` themselves.
 *
 * @example
 * import { generateImage } from 'ai';
 * const { images } = await generateImage({
 *   model: imageModel('togetherai:black-forest-labs/FLUX.2-dev'),
 *   prompt: 'a red fox in snow',
 *   aspectRatio: '16:9', // honoured: sent as 1344x768
 *   n: 4,                // one request with n: 4
 * });
 */
export function imageModel(reference: string, options: { providers?: ProvidersOption } = {}): ImageModelV3 {
  const resolved = resolveModelReference(reference, options.providers);
  const { source } = resolved;
  const capabilities = resolved.target.model;
  // A slip of the keyboard is refused here as generateImages refuses it, before anything is sent.
  if (resolved.issues.length > 0) throw new InvalidRequestError({ issues: resolved.issues });
  // `wrapImageModel` is the app's own: ai 6 returns a v3 model, ai 7 a v4 one (typed v3 here, which
  // both majors' `generateImage` take), so the model goes on as the app's `ai` made it.
  return wrapImageModel({ model: baseModel(source, capabilities), middleware: catalogMiddleware(capabilities) });
}

/**
 * The model a source names, as the installed `ai` takes it (a v4 model converted on ai 6 only). A
 * built-in one is made at each call, so its key is read then, as AI SDK providers read theirs: an
 * `imageModel()` at module scope needs no key while `next build` imports it, and a missing key or
 * provider package surfaces at the call, where it can be caught.
 */
function baseModel(source: ModelSource, capabilities: ModelCapabilities): ImageModelV3 {
  if (source.kind === 'given') return forInstalledAi(source.model);
  return {
    specificationVersion: 'v3',
    provider: source.adapter.name,
    modelId: source.modelId,
    maxImagesPerCall: capabilities.maxImagesPerCall,
    doGenerate: async (options) => forInstalledAi(await source.adapter.createModel(source.modelId)).doGenerate(options),
  };
}
