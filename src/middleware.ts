import type { ImageModelV3, ImageModelV3CallOptions, ImageModelV3Middleware, SharedV3Warning } from '@ai-sdk/provider';
import { wrapImageModel } from 'ai';
import { resolveModel, type ModelCapabilities } from './catalog.js';
import { adapterFor } from './providers/index.js';
import { resolveModelSource, type ProvidersOption } from './resolve-model.js';

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
  if (source.kind === 'given') {
    return wrapImageModel({ model: source.model, middleware: catalogMiddleware(resolveModel(source.catalogProvider, source.modelId)) });
  }
  const capabilities = resolveModel(source.adapter.name, source.modelId);
  const created = source.adapter.createModel(source.modelId, {});
  if (!(created instanceof Promise)) return wrapImageModel({ model: created, middleware: catalogMiddleware(capabilities) });
  // Providers whose package loads lazily: the model stands in until the package is there, and a
  // loading error (package missing, no key) surfaces at the first call, where it can be caught.
  created.catch(() => {});
  const standIn: ImageModelV3 = {
    specificationVersion: 'v3',
    provider: source.adapter.name,
    modelId: source.modelId,
    maxImagesPerCall: capabilities.maxImagesPerCall,
    doGenerate: async (options) => (await created).doGenerate(options),
  };
  return wrapImageModel({ model: standIn, middleware: catalogMiddleware(capabilities) });
}
