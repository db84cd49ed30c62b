import type { ImageModelV3 } from '@ai-sdk/provider';
import { unknownProviderMessage } from './did-you-mean.js';
import { InvalidRequestError } from './errors.js';
import { toImageModelV3, type AnyImageModel } from './model-version.js';
import { registerProviderSecrets } from './provider-secrets.js';
import { builtInProviderNames, findAdapter } from './providers/index.js';
import type { ProviderAdapter, ResponseCapture } from './providers/adapter.js';

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
  | { kind: 'given'; model: AnyImageModel; providerName: string; modelId: string; catalogProvider: string };

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
          issues: [{ field: 'model', value: reference, message: `the provider registry has no such image model (${(error as Error).message})` }],
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
      return { kind: 'given', model, providerName, modelId, catalogProvider };
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

/**
 * Builds (or returns) the model as a v3 model, with a capture for the raw response details the AI
 * SDK drops: built in where the toolkit builds the model, added by the provider's adapter where it
 * can to an app's own instance.
 */
export async function instantiateModel(source: ModelSource, capture?: ResponseCapture): Promise<ImageModelV3> {
  if (source.kind === 'built-in') return toImageModelV3(await source.adapter.createModel(source.modelId, { capture }));
  // The app's own instance carries its key: registered before any call, so an echo of it is redacted.
  await registerProviderSecrets(source.model);
  const captured = capture === undefined ? undefined : findAdapter(source.catalogProvider)?.captureResponses?.(source.model, capture);
  return toImageModelV3(captured ?? source.model);
}

function isRegistry(providers: ProvidersOption): providers is ProviderRegistryLike {
  return typeof (providers as { imageModel?: unknown }).imageModel === 'function';
}
