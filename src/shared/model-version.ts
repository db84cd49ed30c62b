import type { ImageModelV3, ImageModelV3CallOptions, SharedV3Warning } from '@ai-sdk/provider';
import { wrapImageModel } from 'ai';
import { InvalidRequestError } from '../errors/errors.js';

/**
 * The two AI SDK image model specifications the toolkit takes: v3 (`ai` 6, `@ai-sdk/provider` 3)
 * and v4 (`ai` 7, `@ai-sdk/provider` 4). A model goes to the installed `ai` as that `ai` takes it
 * (`forInstalledAi`): ai 7's `generateImage` and `wrapImageModel` take v2, v3 and v4 models
 * themselves, so a v4 model is converted only for ai 6, and then keeps every field.
 */

/** A provider's warning under either spec: v4 adds `deprecated`. */
export type ProviderWarning = SharedV3Warning | { type: 'deprecated'; setting: string; message: string };

type ImageModelV3Result = Awaited<ReturnType<ImageModelV3['doGenerate']>>;

/** Whether a model takes input images, or masks: v4's optional flags (unknown when absent). */
type InputSupport = PromiseLike<boolean | undefined> | boolean | undefined;

/**
 * An AI SDK 7 image model (spec v4), described by the parts the toolkit uses, so that the types of
 * an `ai` 6 app (whose `@ai-sdk/provider` has no v4 types) need nothing it lacks.
 */
export type ImageModelV4Like = {
  readonly specificationVersion: 'v4';
  readonly provider: string;
  readonly modelId: string;
  readonly maxImagesPerCall: ImageModelV3['maxImagesPerCall'];
  readonly supportsFileInputs?: InputSupport;
  readonly supportsMaskInputs?: InputSupport;
  doGenerate(options: ImageModelV3CallOptions): PromiseLike<Omit<ImageModelV3Result, 'warnings'> & { warnings: ProviderWarning[]; isRetryable?: boolean }>;
};

/** An image model from either AI SDK major. */
export type AnyImageModel = ImageModelV3 | ImageModelV4Like;

/**
 * The model as a v3 model, for ai 6. A v3 model is returned as it is. A v4 model is seen through a
 * proxy that keeps every field (provider, id, per-call limit, `supportsFileInputs`,
 * `supportsMaskInputs`, and any a later release adds) and every result field (`isRetryable`
 * included: ai 6's `generateImage` reads it too and does not retry an empty result marked
 * `false`); only `specificationVersion` reads `v3`, and `deprecated` warnings, which v3 has no
 * type for, become `other` warnings that say so.
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
  const doGenerate: ImageModelV3['doGenerate'] = async (options) => {
    const { warnings, ...result } = await model.doGenerate(options);
    return { ...result, warnings: warnings.map(toV3Warning) };
  };
  return new Proxy(model, {
    get(target, property, receiver) {
      if (property === 'specificationVersion') return 'v3';
      if (property === 'doGenerate') return doGenerate;
      return Reflect.get(target, property, receiver) as unknown;
    },
  }) as unknown as ImageModelV3;
}

/** A warning of either spec as a v3 warning. */
export function toV3Warning(warning: ProviderWarning): SharedV3Warning {
  if (warning.type !== 'deprecated') return warning;
  return { type: 'other', message: `deprecated: ${warning.setting}${warning.message ? ` (${warning.message})` : ''}` };
}

let installedMajor: 6 | 7 | undefined;

/**
 * The major of the `ai` package the app installed, read through its public API: ai 6's
 * `wrapImageModel` returns a v3 model unchanged when there is no middleware, ai 7's returns every
 * model as v4.
 */
export function installedAiMajor(): 6 | 7 {
  if (installedMajor === undefined) {
    const probe: ImageModelV3 = {
      specificationVersion: 'v3',
      provider: 'ai-imagegen.probe',
      modelId: 'probe',
      maxImagesPerCall: 1,
      doGenerate: () => Promise.reject(new Error('the probe model is never called')),
    };
    const wrapped: { specificationVersion: string } = wrapImageModel({ model: probe, middleware: [] });
    installedMajor = wrapped.specificationVersion === 'v4' ? 7 : 6;
  }
  return installedMajor;
}

/**
 * The model as the installed `ai` takes it, for `generateImage` and `wrapImageModel`: on ai 7 the
 * model untouched (v3 or v4, every field and result field as the provider made them); on ai 6 a
 * v4 model converted by `toImageModelV3`. Typed as v3, the type both majors' `generateImage` and
 * ai 6's `wrapImageModel` accept; on ai 7 the value may be a v4 model.
 */
export function forInstalledAi(model: AnyImageModel): ImageModelV3 {
  return installedAiMajor() === 7 ? (model as ImageModelV3) : toImageModelV3(model);
}
