import type { ImageModelV3, ImageModelV3CallOptions, SharedV3Warning } from '@ai-sdk/provider';
import { InvalidRequestError } from '../errors/errors.js';

/**
 * The two AI SDK image model specifications the toolkit takes: v3 (`ai` 6, `@ai-sdk/provider` 3)
 * and v4 (`ai` 7, `@ai-sdk/provider` 4). Inside, every model is v3: a v4 model is converted here,
 * explicitly, and `ai` 7 takes v3 models through its own compatibility path.
 */

/** A provider's warning under either spec: v4 adds `deprecated`. */
export type ProviderWarning = SharedV3Warning | { type: 'deprecated'; setting: string; message: string };

type ImageModelV3Result = Awaited<ReturnType<ImageModelV3['doGenerate']>>;

/**
 * An AI SDK 7 image model (spec v4), described by the parts the toolkit uses, so that the types of
 * an `ai` 6 app (whose `@ai-sdk/provider` has no v4 types) need nothing it lacks.
 */
export type ImageModelV4Like = {
  readonly specificationVersion: 'v4';
  readonly provider: string;
  readonly modelId: string;
  readonly maxImagesPerCall: ImageModelV3['maxImagesPerCall'];
  doGenerate(options: ImageModelV3CallOptions): PromiseLike<Omit<ImageModelV3Result, 'warnings'> & { warnings: ProviderWarning[]; isRetryable?: boolean }>;
};

/** An image model from either AI SDK major. */
export type AnyImageModel = ImageModelV3 | ImageModelV4Like;

/**
 * The model as a v3 model. A v4 model keeps its provider, id, per-call limit and results; its
 * `deprecated` warnings become `other` warnings that say so, and `isRetryable` (which v3 has no
 * place for) is left out: the toolkit's retries go by status codes.
 */
export function toImageModelV3(model: AnyImageModel): ImageModelV3 {
  if (model.specificationVersion === 'v3') return model;
  const version: unknown = model.specificationVersion;
  if (version !== 'v4') {
    throw new InvalidRequestError({
      issues: [
        {
          field: 'model',
          value: `${model.provider}:${model.modelId}`,
          message: `has specificationVersion ${String(version)}; ai-imagegen takes image models of AI SDK 6 (v3) and AI SDK 7 (v4)`,
        },
      ],
    });
  }
  const v4 = model;
  const limit = v4.maxImagesPerCall;
  return {
    specificationVersion: 'v3',
    provider: v4.provider,
    modelId: v4.modelId,
    maxImagesPerCall: typeof limit === 'function' ? limit.bind(v4) : limit,
    async doGenerate(options) {
      const { isRetryable: _retryable, warnings, ...result } = await v4.doGenerate(options);
      return { ...result, warnings: warnings.map(toV3Warning) };
    },
  };
}

/** A warning of either spec as a v3 warning. */
export function toV3Warning(warning: ProviderWarning): SharedV3Warning {
  if (warning.type !== 'deprecated') return warning;
  return { type: 'other', message: `deprecated: ${warning.setting}${warning.message ? ` (${warning.message})` : ''}` };
}
