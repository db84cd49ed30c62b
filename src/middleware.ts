import type { ImageModelV3, ImageModelV3CallOptions, ImageModelV3File, ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { wrapImageModel } from 'ai';
import { imagesPerCall } from './shared/capabilities.js';
import { base64ToBytes } from './util/base64.js';
import { resolveModel, type ModelCapabilities } from './models/catalog.js';
import { adapterFor } from './providers/index.js';
import { modelTypoIssue } from './models/did-you-mean.js';
import { InvalidRequestError } from './errors/errors.js';
import { toImageModelV3 } from './shared/model-version.js';
import { refuseRetiredModel } from './models/retired.js';
import { notFoundError } from './errors/provider-errors.js';
import { resolveModelSource, type ModelSource, type ProvidersOption } from './models/resolve-model.js';
import { sniffImage, type ReferenceImage } from './pipeline/load.js';
import { mapPlan } from './pipeline/map.js';
import type { ParsedRequest } from './pipeline/parse.js';
import { planGeneration } from './pipeline/plan.js';
import type { ProviderCall } from './providers/adapter.js';

/**
 * AI SDK middleware that applies the catalog to raw `generateImage` calls, through the same plan
 * and provider mapping `generateImages` uses: the right `maxImagesPerCall`, aspect ratio honoured,
 * options under the names each model reads, input images where the provider takes them.
 */
export function catalogMiddleware(model: ModelCapabilities): ImageModelV3Middleware {
  const adapter = adapterFor(model.provider);
  const added = new WeakMap<ImageModelV3CallOptions, SharedV3Warning[]>();
  return {
    specificationVersion: 'v3',
    overrideMaxImagesPerCall: () => imagesPerCall(model),
    async transformParams({ params }) {
      const { plan, issues } = planCallOptions(params, model, adapter.optionsKey);
      if (issues.length > 0) throw new InvalidRequestError({ issues });
      const mapped = mapPlan(plan, adapter);
      const transformed = toCallOptions(params, mapped.calls[0]!.args);
      added.set(transformed, [...plan.warnings, ...mapped.warnings].map((warning) => ({ type: 'other', message: warning.message })));
      return transformed;
    },
    async wrapGenerate({ doGenerate, params }) {
      const result = await Promise.resolve(doGenerate()).catch((error: unknown) => {
        throw notFoundError(error, model) ?? error;
      });
      const providerWarnings = adapter.filterWarnings?.(result.warnings) ?? result.warnings;
      return { ...result, warnings: [...(added.get(params) ?? []), ...providerWarnings] };
    },
  };
}

/**
 * A raw call's options as a plan: the door's parse and load stages. `size` or `aspectRatio` (the
 * one the model is sized by, when both are given), `n`, `seed`, the input `files`, and `guidance`
 * from the provider's options, which each model reads under its own name. No seed is chosen.
 */
function planCallOptions(params: ImageModelV3CallOptions, model: ModelCapabilities, optionsKey: string) {
  const given = params.providerOptions[optionsKey] as Record<string, unknown> | undefined;
  const { guidance, ...ownOptions } = given ?? {};
  // A numeric `guidance` is the plan's, sent under the name the model reads; anything else stays as given.
  const lifted = typeof guidance === 'number';
  const useRatio = params.aspectRatio !== undefined && (params.size === undefined || model.sizing === 'aspect-ratio');
  const request: ParsedRequest = {
    prompt: params.prompt ?? '',
    model: `${model.provider}:${model.modelId}`,
    ...(useRatio ? { aspectRatio: params.aspectRatio } : params.size === undefined ? {} : { size: params.size }),
    count: params.n,
    ...(params.seed === undefined ? {} : { seed: params.seed }),
    ...(lifted ? { guidance } : {}),
    safetyChecker: true,
    responseFormat: 'base64',
    providerOptions: (lifted ? { ...params.providerOptions, [optionsKey]: ownOptions } : params.providerOptions) as Record<string, Record<string, unknown>>,
    strict: false,
  };
  const images = (params.files ?? []).map(toReferenceImage);
  return planGeneration(request, { provider: model.provider, modelId: model.modelId, model }, images, { randomSeed: false });
}

function toReferenceImage(file: ImageModelV3File, index: number): ReferenceImage {
  if (file.type === 'url') return { kind: 'url', source: file.url, url: file.url };
  const data = typeof file.data === 'string' ? base64ToBytes(file.data) : file.data;
  return { kind: 'bytes', source: `<file ${index}>`, data, mediaType: file.mediaType };
}

/** The mapped arguments back as the call's options: what the provider's model receives. */
function toCallOptions(params: ImageModelV3CallOptions, args: ProviderCall): ImageModelV3CallOptions {
  const images = typeof args.prompt === 'string' ? [] : args.prompt.images;
  return {
    ...params,
    prompt: params.prompt === undefined ? undefined : typeof args.prompt === 'string' ? args.prompt : args.prompt.text,
    n: args.n,
    size: args.size,
    aspectRatio: args.aspectRatio,
    seed: args.seed,
    files: images.length === 0 ? undefined : images.map(toFile),
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
  const source = resolveModelSource(reference, options.providers);
  const catalogProvider = source.kind === 'given' ? source.catalogProvider : source.adapter.name;
  const capabilities = resolveModel(catalogProvider, source.modelId);
  // A slip of the keyboard is refused here as generateImages refuses it, before anything is sent.
  const typo = capabilities.known ? undefined : modelTypoIssue({ reference, provider: source.providerName, catalogProvider, modelId: source.modelId });
  if (typo !== undefined) throw new InvalidRequestError({ issues: [typo] });
  refuseRetiredModel(capabilities, reference);
  // `wrapImageModel` is the app's own: ai 6 returns a v3 model, ai 7 a v4 one, made v3 again here so
  // that the type says what it is; both majors' `generateImage` take v3 models.
  return toImageModelV3(wrapImageModel({ model: baseModel(source, capabilities), middleware: catalogMiddleware(capabilities) }));
}

/** The model a source names, as a v3 model. */
function baseModel(source: ModelSource, capabilities: ModelCapabilities): ImageModelV3 {
  if (source.kind === 'given') return toImageModelV3(source.model);
  const created = source.adapter.createModel(source.modelId);
  if (!(created instanceof Promise)) return toImageModelV3(created);
  // Providers whose package loads lazily: the model stands in until the package is there, and a
  // loading error (package missing, no key) surfaces at the first call, where it can be caught.
  created.catch(() => {});
  return {
    specificationVersion: 'v3',
    provider: source.adapter.name,
    modelId: source.modelId,
    maxImagesPerCall: capabilities.maxImagesPerCall,
    doGenerate: async (options) => toImageModelV3(await created).doGenerate(options),
  };
}
