import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { imagesPerCall } from '../shared/capabilities.js';
import { MissingApiKeyError, MissingProviderPackageError, registerSecret } from '../errors/errors.js';
import type { Plan, PlannedCall } from '../shared/plan.js';
import { imageInputs, readEnvironment, type ProviderAdapter, type ProviderCall } from './adapter.js';

/**
 * What the providers whose AI SDK package is loaded on first use have in common: the package
 * imported only when a model is created, the key and base URL read from the environment, and the
 * parts of a call every one of them maps alike. Each provider file keeps what is its own.
 */

/** The settings most provider packages are created with. */
export type ApiKeySettings = { apiKey: string; baseURL?: string };

/** What a provider file's `createXAdapter` takes. */
export type LazyAdapterOptions<Package> = {
  /** Loads the provider's AI SDK package; replaceable so tests can simulate it missing. */
  importPackage?: () => Promise<Package>;
};

/** The part of an AI SDK provider the adapters use. */
type ImageProvider = { image(modelId: string): ImageModelV3 };

type LazyAdapterConfig<Package, Settings> = Pick<
  ProviderAdapter,
  'name' | 'optionsKey' | 'environmentVariables' | 'models' | 'genericCapabilities' | 'mapCall' | 'filterWarnings'
> & {
  /** The provider as error messages name it: "Black Forest Labs". */
  displayName: string;
  /** The AI SDK package, named in `MissingProviderPackageError`. */
  packageName: string;
  /** Loads the package: `() => importOptionalPackage('@ai-sdk/...')` in the provider file, so bundlers leave it to run time and an app bundles only the provider packages it installed. */
  importPackage: () => Promise<Package>;
  /** Calls the package's provider factory. */
  createProvider(providerPackage: Package, settings: Settings): ImageProvider;
};

/**
 * An adapter whose package is imported when its first model is created. Its settings are the first
 * of `environmentVariables` that is set (else `MissingApiKeyError`) and `baseUrlVariable` if set.
 *
 * @example
 * createLazyAdapter({
 *   name: 'xai', optionsKey: 'xai', displayName: 'xAI', packageName: '@ai-sdk/xai',
 *   environmentVariables: ['XAI_API_KEY'], baseUrlVariable: 'XAI_BASE_URL',
 *   importPackage: () => importOptionalPackage('@ai-sdk/xai'),
 *   createProvider: ({ createXai }, settings) => createXai(settings),
 *   mapCall: (plan, call) => baseCall({ plan, call, optionsKey: 'xai' }),
 * });
 */
export function createLazyAdapter<Package>(options: LazyAdapterConfig<Package, ApiKeySettings> & { baseUrlVariable: string }): ProviderAdapter;
/** An adapter with credentials of another kind, read by `loadSettings` (which throws `MissingApiKeyError`). */
export function createLazyAdapter<Package, Settings>(options: LazyAdapterConfig<Package, Settings> & { loadSettings: () => Settings }): ProviderAdapter;
export function createLazyAdapter(
  options: LazyAdapterConfig<unknown, unknown> & { baseUrlVariable?: string; loadSettings?: () => unknown },
): ProviderAdapter {
  const { name, optionsKey, environmentVariables, models, genericCapabilities, displayName, packageName, importPackage, createProvider, mapCall, filterWarnings } = options;
  const loadSettings =
    options.loadSettings ?? (() => apiKeySettings({ provider: displayName, environmentVariables, baseUrlVariable: options.baseUrlVariable! }));
  return {
    name,
    optionsKey,
    environmentVariables,
    models,
    ...(genericCapabilities === undefined ? {} : { genericCapabilities }),
    async createModel(modelId) {
      // The package first: a missing package is the thing to fix before a missing key.
      const providerPackage = await loadPackage({ provider: displayName, packageName, importPackage });
      return createProvider(providerPackage, loadSettings()).image(modelId);
    },
    mapCall,
    ...(filterWarnings === undefined ? {} : { filterWarnings }),
  };
}

/**
 * Imports an optional provider package at run time, where bundlers leave it: the specifier is a
 * variable (esbuild, and so wrangler and Vite's dependency scan, would otherwise resolve a literal
 * one and fail the build on a package the app did not install) and the comments tell webpack,
 * Turbopack and Vite not to touch it. An app bundles only the provider packages it installed.
 */
export function importOptionalPackage<Package>(packageName: string): Promise<Package> {
  return import(/* webpackIgnore: true */ /* turbopackIgnore: true */ /* @vite-ignore */ packageName) as Promise<Package>;
}

/** Imports a provider package; `MissingProviderPackageError` when it is not installed. */
export async function loadPackage<Package>({
  provider,
  packageName,
  importPackage,
}: {
  provider: string;
  packageName: string;
  importPackage: () => Promise<Package>;
}): Promise<Package> {
  try {
    return await importPackage();
  } catch (error) {
    // Only "not found" means not installed; a package that fails to load for another reason says so itself.
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    // An edge sandbox (edge-runtime, Next.js edge routes) loads no modules at all: the package is not there.
    if (String(code).includes('MODULE_NOT_FOUND') || code === 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' || String(message).includes(packageName)) {
      throw new MissingProviderPackageError({ provider, packageName, cause: error });
    }
    throw error;
  }
}

/** An environment variable holding a credential, registered so that it is redacted from errors and logs. */
export function readSecret(name: string): string | undefined {
  const value = readEnvironment(name);
  registerSecret(value);
  return value;
}

/** The first of `environmentVariables` that is set; `MissingApiKeyError` naming them all when none is. */
export function requireApiKey({ provider, environmentVariables }: { provider: string; environmentVariables: readonly string[] }): string {
  for (const name of environmentVariables) {
    const value = readSecret(name);
    if (value !== undefined) return value;
  }
  throw new MissingApiKeyError({ provider, environmentVariables });
}

function apiKeySettings({
  provider,
  environmentVariables,
  baseUrlVariable,
}: {
  provider: string;
  environmentVariables: readonly string[];
  baseUrlVariable: string;
}): ApiKeySettings {
  const apiKey = requireApiKey({ provider, environmentVariables });
  const baseURL = readEnvironment(baseUrlVariable);
  return { apiKey, ...(baseURL === undefined ? {} : { baseURL }) };
}

/**
 * The fields every adapter maps alike: the prompt, with the input images (and mask) when there are any; the
 * count, sent all at once where the model takes a count; and our options for the package, with
 * the caller's own `providerOptions` over them.
 */
export function baseCall({
  plan,
  call,
  optionsKey,
  options = {},
  images = imageInputs(plan),
  mask,
}: {
  plan: Plan;
  call: PlannedCall;
  optionsKey: string;
  options?: Record<string, JSONValue>;
  images?: (string | Uint8Array)[];
  /** The plan's mask in the provider's form (`maskAs`). */
  mask?: string | Uint8Array | undefined;
}): Pick<ProviderCall, 'prompt' | 'n' | 'maxImagesPerCall' | 'providerOptions'> {
  return {
    prompt: images.length > 0 ? { text: plan.prompt, images, ...(mask === undefined ? {} : { mask }) } : plan.prompt,
    n: call.n,
    maxImagesPerCall: imagesPerCall(plan.model),
    providerOptions: { [optionsKey]: { ...options, ...(plan.providerOptions?.[optionsKey] as Record<string, JSONValue> | undefined) } },
  };
}
