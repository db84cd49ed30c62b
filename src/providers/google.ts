import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities, catalogEntry } from '../shared/capabilities.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

/**
 * Google's Gemini API (Imagen and Gemini image models) through `@ai-sdk/google` (3.x), loaded on
 * first use.
 *
 * What the package does (dist source, 3.0.141):
 * - Imagen (`:predict`): `sampleCount: n`, `aspectRatio` (default "1:1"); `size` and `seed` are
 *   dropped with warnings; input images throw. Only `personGeneration` passes its option schema.
 *   `maxImagesPerCall` is 4.
 * - Gemini (`:generateContent` with `responseModalities: ['IMAGE']`): **throws when `n` > 1**, yet
 *   reports `maxImagesPerCall` 10 — so `generateImage({ n: 2 })` fails unless the caller splits.
 *   `aspectRatio` becomes `imageConfig.aspectRatio`; `seed` is sent; input images (bytes or URLs)
 *   become content parts; `providerOptions.google` is passed on to the language model, whose
 *   `threshold` sets every configurable safety category.
 *
 * What we add: Gemini one image per call (the count is split into calls with moving seeds), input
 * images for Gemini only (Imagen: the planner refuses them), `safetyChecker: false` on Gemini as
 * `threshold: 'BLOCK_NONE'`, the least blocking setting (Google's own filters still apply).
 */
export const GOOGLE_ENVIRONMENT_VARIABLES = ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'] as const;
export const GOOGLE_BASE_URL_VARIABLE = 'GOOGLE_GENERATIVE_AI_BASE_URL';
const PROVIDER = 'google';

type Entry = Capabilities;

const imagen: Entry = {
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '3:4', '4:3', '9:16', '16:9'],
  steps: undefined,
  maxImagesPerCall: 4,
  acceptsN: true,
  acceptsSeed: false,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['png'],
  price: { unit: 'image', usd: 0.04 },
};

const gemini: Entry = {
  ...imagen,
  aspectRatios: ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9', '21:9'],
  maxImagesPerCall: 1,
  acceptsN: false,
  acceptsSeed: true,
  imageInput: { kind: 'reference_images', max: 14 },
  safetyCheckerCanBeDisabled: true,
  price: undefined,
  notes: 'Token-priced. One image per request. safetyChecker: false sends threshold BLOCK_NONE.',
};

const entry = (modelId: string, displayName: string, capabilities: Entry) => catalogEntry(PROVIDER, modelId, displayName, capabilities);

export const GOOGLE_MODELS: readonly ModelCapabilities[] = [
  entry('imagen-4.0-generate-001', 'Imagen 4', imagen),
  entry('imagen-4.0-ultra-generate-001', 'Imagen 4 Ultra', { ...imagen, maxImagesPerCall: 1, price: { unit: 'image', usd: 0.06 }, notes: 'One image per request.' }),
  entry('imagen-4.0-fast-generate-001', 'Imagen 4 Fast', { ...imagen, price: { unit: 'image', usd: 0.02 } }),
  entry('gemini-2.5-flash-image', 'Gemini 2.5 Flash Image', { ...gemini, imageInput: { kind: 'reference_images', max: 3 } }),
  entry('gemini-3-pro-image-preview', 'Gemini 3 Pro Image (preview)', gemini),
  entry('gemini-3.1-flash-image-preview', 'Gemini 3.1 Flash Image (preview)', gemini),
  entry('gemini-nano-banana-2.1', 'Gemini Nano Banana 2.1', {
    ...gemini,
    aspectRatios: [...gemini.aspectRatios, '1:8', '8:1', '1:4', '4:1'],
  }),
];

/** What an id of this provider not listed above is assumed to take. */
export const GOOGLE_GENERIC: Capabilities = gemini;
// One image per call is the only count safe for both kinds the package routes to by id prefix.

const isGemini = (modelId: string) => modelId.startsWith('gemini-');

/** The part of `@ai-sdk/google` the adapter uses. */
type GooglePackage = {
  createGoogleGenerativeAI(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type GoogleAdapterOptions = LazyAdapterOptions<GooglePackage>;

/** The Google adapter; `google` below is the one the toolkit registers. */
export function createGoogleAdapter({ importPackage = () => importOptionalPackage<GooglePackage>('@ai-sdk/google') }: GoogleAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: GOOGLE_MODELS,
    genericCapabilities: GOOGLE_GENERIC,
    name: PROVIDER,
    optionsKey: 'google',
    displayName: 'Google',
    packageName: '@ai-sdk/google',
    environmentVariables: GOOGLE_ENVIRONMENT_VARIABLES,
    baseUrlVariable: GOOGLE_BASE_URL_VARIABLE,
    importPackage,
    createProvider: ({ createGoogleGenerativeAI }, settings) => createGoogleGenerativeAI({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const options: Record<string, JSONValue> = {};
      if (plan.disableSafetyChecker && isGemini(plan.modelId)) {
        options.threshold = 'BLOCK_NONE';
        warn('safetyChecker', `Google's safety filters cannot be turned off; sent threshold BLOCK_NONE, the least blocking setting`);
      }
      return {
        ...baseCall({ plan, call, optionsKey: 'google', options }),
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const google: ProviderAdapter = createGoogleAdapter();
