import type { ImageModelV3, ImageModelV3CallOptions, ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { wrapImageModel } from 'ai';
import { resolveModel, type ModelCapabilities } from './catalog.js';
import { adapterFor } from './providers/index.js';
import { modelTypoIssue } from './did-you-mean.js';
import { InvalidRequestError } from './errors.js';
import { toImageModelV3 } from './model-version.js';
import { resolveModelSource, type ModelSource, type ProvidersOption } from './resolve-model.js';

/**
 * AI SDK middleware that applies the catalog to raw `generateImage` calls: the right
 * `maxImagesPerCall`, aspect ratio honoured, Together's `guidance_scale` and input images.
 */
export function catalogMiddleware(model: ModelCapabilities): ImageModelV3Middleware {
  const adapter = adapterFor(model.provider);
  const added = new WeakMap<ImageModelV3CallOptions, SharedV3Warning[]>();
  return {
    specificationVersion: 'v3',
    overrideMaxImagesPerCall: () => (model.acceptsN ? model.maxImagesPerCall : 1),
    async transformParams({ params }) {
      if (adapter.transformParams === undefined) return params;
      const transformed = adapter.transformParams(params, model);
      added.set(transformed.params, transformed.warnings);
      return transformed.params;
    },
    async wrapGenerate({ doGenerate, params }) {
      const result = await doGenerate();
      const providerWarnings = adapter.filterWarnings?.(result.warnings) ?? result.warnings;
      return { ...result, warnings: [...(added.get(params) ?? []), ...providerWarnings] };
    },
  };
}

/**
 * An AI SDK `ImageModelV3` for `"provider:modelId"` with the catalog's mapping built in, for apps
 * that keep calling `generateImage` themselves.
 *
 * @example
 * import { generateImage } from 'ai';
 * const { images } = await generateImage({
 *   model: imageModel('togetherai:black-forest-labs/FLUX.1-dev'),
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
  // `wrapImageModel` is the app's own: ai 6 returns a v3 model, ai 7 a v4 one, made v3 again here so
  // that the type says what it is; both majors' `generateImage` take v3 models.
  return toImageModelV3(wrapImageModel({ model: baseModel(source, capabilities), middleware: catalogMiddleware(capabilities) }));
}

/** The model a source names, as a v3 model. */
function baseModel(source: ModelSource, capabilities: ModelCapabilities): ImageModelV3 {
  if (source.kind === 'given') return toImageModelV3(source.model);
  const created = source.adapter.createModel(source.modelId, {});
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
