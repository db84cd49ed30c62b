import type { ImageModelV3 } from '@ai-sdk/provider';
import { unknownProviderMessage } from './did-you-mean.js';
import { errorMessage, InvalidRequestError } from '../errors/errors.js';
import { forInstalledAi, type AnyImageModel } from '../shared/model-version.js';
import { builtInProviderNames, findAdapter } from '../providers/index.js';
import type { ProviderAdapter } from '../providers/adapter.js';

/**
 * An AI SDK provider instance that makes image models (e.g. `createTogetherAI({ ... })`), of AI SDK
 * 6 (v3 models) or AI SDK 7 (v4 models).
 */
export type ImageProviderLike = {
  imageModel?(modelId: string): AnyImageModel;
  image?(modelId: string): AnyImageModel;
};

/** An AI SDK provider registry (`createProviderRegistry({ ... })`) of AI SDK 6 or 7. */
export type ProviderRegistryLike = { imageModel(id: `${string}:${string}`): AnyImageModel };

/**
 * How an app brings its own keys, base URLs and `fetch`: provider instances by name, or a registry.
 * Names not given fall back to the built-in providers, configured from the environment.
 */
export type ProvidersOption = Record<string, ImageProviderLike> | ProviderRegistryLike;

/** A model reference resolved to where its model comes from. */
export type ModelSource =
  | { kind: 'built-in'; adapter: ProviderAdapter; providerName: string; modelId: string }
  | {
      kind: 'given';
      /** The app's model, or the provider's own model class built from its configuration (`ownModel`). */
      model: AnyImageModel;
      providerName: string;
      modelId: string;
      catalogProvider: string;
      /**
       * The provider's adapter rebuilt the app's model as its own model class (Together's, from a
       * `createTogetherAI(...)` model), which reads what the AI SDK's model drops (URL responses).
       */
      ownModel: boolean;
    };

/** Splits `"provider:modelId"`. */
export function splitModelReference(reference: string): { providerName: string; modelId: string } {
  const separator = reference.indexOf(':');
  return { providerName: reference.slice(0, separator), modelId: reference.slice(separator + 1) };
}

/** Names that resolve, for validation messages; `'*'` when a registry can resolve anything. */
export function knownProviderNames(providers: ProvidersOption | undefined): string[] {
  if (providers !== undefined && isRegistry(providers)) return ['*'];
  return [...new Set([...Object.keys(providers ?? {}), ...builtInProviderNames()])];
}

/** Finds the model for a reference: the app's providers first, then the built-in ones. */
export function resolveModelSource(reference: string, providers: ProvidersOption | undefined): ModelSource {
  const { providerName, modelId } = splitModelReference(reference);
  if (providers !== undefined) {
    let model: AnyImageModel | undefined;
    if (isRegistry(providers)) {
      try {
        model = providers.imageModel(reference as `${string}:${string}`);
      } catch (error) {
        throw new InvalidRequestError({
          issues: [{ field: 'model', value: reference, message: `the provider registry has no such image model (${errorMessage(error)})` }],
        });
      }
    } else {
      const provider = providers[providerName];
      if (provider !== undefined) {
        const factory = provider.imageModel ?? provider.image;
        if (typeof factory !== 'function') {
          throw new InvalidRequestError({
            issues: [{ field: 'model', value: reference, message: `options.providers.${providerName} has no imageModel() or image() method` }],
          });
        }
        model = factory.call(provider, modelId);
      }
    }
    if (model !== undefined) {
      // The AI SDK names providers "togetherai.image": the part before the dot finds the catalog.
      const catalogProvider = model.provider.split('.')[0] ?? providerName;
      const own = findAdapter(catalogProvider)?.fromAppModel?.(model);
      return { kind: 'given', model: own ?? model, providerName, modelId, catalogProvider, ownModel: own !== undefined };
    }
  }
  const adapter = findAdapter(providerName);
  if (adapter === undefined) {
    throw new InvalidRequestError({
      issues: [{ field: 'model', value: reference, message: unknownProviderMessage(providerName, knownProviderNames(providers)) }],
    });
  }
  return { kind: 'built-in', adapter, providerName, modelId };
}

const instantiated = new WeakMap<ModelSource, Promise<ImageModelV3>>();

/**
 * The source's model as a v3 model, built once per source: a request's key check and every one of
 * its calls share it. A built-in model is built from the environment (a missing key rejects); an
 * app's is taken as it is.
 */
export function instantiateModel(source: ModelSource): Promise<ImageModelV3> {
  let model = instantiated.get(source);
  if (model === undefined) {
    model = source.kind === 'built-in'
      ? Promise.resolve().then(async () => forInstalledAi(await source.adapter.createModel(source.modelId)))
      : Promise.resolve().then(() => forInstalledAi(source.model));
    instantiated.set(source, model);
  }
  return model;
}

function isRegistry(providers: ProvidersOption): providers is ProviderRegistryLike {
  return typeof (providers as { imageModel?: unknown }).imageModel === 'function';
}
