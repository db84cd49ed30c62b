import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities, catalogEntry } from '../shared/capabilities.js';
import { guardedFetch } from '../util/download.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';
import { maskAs } from './mask.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';

/**
 * Black Forest Labs' own API through `@ai-sdk/black-forest-labs` (1.x), loaded on first use.
 *
 * What the package does (dist source, 1.0.33): POST `<baseURL>/<modelId>`, then polls the returned
 * `polling_url` until `Ready` and downloads `result.sample`; one image per call whatever `n`.
 * Given `size`, it sends `width`/`height` *and* an `aspect_ratio` reduced from them (1344x768 →
 * "7:4"), with an "unsupported size" warning; given `aspectRatio`, it sends that.
 * `providerOptions.blackForestLabs`: `width`/`height` (256–1920), `steps`, `guidance`,
 * `outputFormat`, `safetyTolerance` (0–6), ...; unknown keys are dropped by its schema.
 * Input images go out as `input_image`, `input_image_2`, ... (URLs as is, bytes as base64), and
 * `prompt.mask` as `mask` alike: FLUX.1 Fill reads it black and white, white where to repaint.
 *
 * What we add: models sized by width and height get exactly `width`/`height` (through the
 * options, so no reduced ratio and no warning), models sized by ratio get `aspect_ratio`; steps and
 * guidance where the model takes them; `safetyChecker: false` as `safetyTolerance: 6`, the most
 * permissive level BFL offers (moderation still runs); a mask with transparency made black and
 * white (white where it was transparent).
 *
 * Beyond the package's list we add the BFL endpoints `flux-dev` and FLUX.2 (`flux-2-pro`,
 * `flux-2-flex`, `flux-2-max`), whose limits here are kept within the package's 256–1920.
 */
export const BLACK_FOREST_LABS_ENVIRONMENT_VARIABLES = ['BFL_API_KEY'] as const;
export const BLACK_FOREST_LABS_BASE_URL_VARIABLE = 'BFL_BASE_URL';
const PROVIDER = 'black-forest-labs';
/** The package's option key. */
const OPTIONS_KEY = 'blackForestLabs';

type Entry = Capabilities;

/** Kontext and Ultra take any ratio from 3:7 (Kontext) or 9:21 (Ultra) to the inverse; these are the common ones. */
const ratios = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '5:4', '4:5', '21:9', '9:21'];

const base: Entry = {
  sizing: 'dimensions',
  dimensions: { min: 256, max: 1440, multipleOf: 32, default: { width: 1024, height: 1024 } },
  aspectRatios: ratios,
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: true,
  outputFormats: ['jpeg', 'png'],
  price: undefined,
};
const sizedByRatio: Entry = {
  ...base,
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
};
const flux2: Entry = {
  ...base,
  dimensions: { min: 256, max: 1920, multipleOf: 16, default: { width: 1024, height: 1024 } },
  imageInput: { kind: 'reference_images', max: 8 },
};

const entry = (modelId: string, displayName: string, capabilities: Entry) => catalogEntry(PROVIDER, modelId, displayName, capabilities);

/** Models whose output follows their input image, so no size is sent. */
const SIZED_BY_INPUT = new Set(['flux-pro-1.0-fill']);

export const BLACK_FOREST_LABS_MODELS: readonly ModelCapabilities[] = [
  entry('flux-kontext-pro', 'FLUX.1 Kontext [pro]', { ...sizedByRatio, imageInput: { kind: 'reference_images', max: 4 }, price: { unit: 'image', usd: 0.04 } }),
  entry('flux-kontext-max', 'FLUX.1 Kontext [max]', { ...sizedByRatio, imageInput: { kind: 'reference_images', max: 4 }, price: { unit: 'image', usd: 0.08 } }),
  entry('flux-pro-1.1-ultra', 'FLUX1.1 [pro] ultra', { ...sizedByRatio, price: { unit: 'image', usd: 0.06 }, notes: 'Raw mode: providerOptions.blackForestLabs.raw.' }),
  entry('flux-pro-1.1', 'FLUX1.1 [pro]', { ...base, price: { unit: 'image', usd: 0.04 } }),
  entry('flux-pro-1.0-fill', 'FLUX.1 Fill [pro]', {
    ...base,
    steps: { min: 15, max: 50, default: 50 },
    guidance: { min: 1.5, max: 100, default: 60 },
    imageInput: { kind: 'image_url', max: 1 },
    acceptsMask: true,
    price: { unit: 'image', usd: 0.05 },
    notes: 'Inpainting: needs an input image and a mask (white where to repaint); the output takes the input size.',
  }),
  entry('flux-dev', 'FLUX.1 [dev]', {
    ...base,
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1.5, max: 5, default: 3 },
    price: { unit: 'image', usd: 0.025 },
  }),
  entry('flux-2-pro', 'FLUX.2 [pro]', flux2),
  entry('flux-2-max', 'FLUX.2 [max]', flux2),
  entry('flux-2-flex', 'FLUX.2 [flex]', { ...flux2, steps: { min: 1, max: 50, default: 50 }, guidance: { min: 1.5, max: 10, default: 4.5 } }),
];

/** What an id of this provider not listed above is assumed to take. */
export const BLACK_FOREST_LABS_GENERIC: Capabilities = { ...base, imageInput: { kind: 'reference_images', max: 10 } };

/** The part of `@ai-sdk/black-forest-labs` the adapter uses. */
type BlackForestLabsPackage = {
  createBlackForestLabs(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type BlackForestLabsAdapterOptions = LazyAdapterOptions<BlackForestLabsPackage>;

/** The Black Forest Labs adapter; `blackForestLabs` below is the one the toolkit registers. */
export function createBlackForestLabsAdapter({
  importPackage = () => importOptionalPackage<BlackForestLabsPackage>('@ai-sdk/black-forest-labs'),
}: BlackForestLabsAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: BLACK_FOREST_LABS_MODELS,
    genericCapabilities: BLACK_FOREST_LABS_GENERIC,
    name: PROVIDER,
    optionsKey: OPTIONS_KEY,
    displayName: 'Black Forest Labs',
    packageName: '@ai-sdk/black-forest-labs',
    environmentVariables: BLACK_FOREST_LABS_ENVIRONMENT_VARIABLES,
    baseUrlVariable: BLACK_FOREST_LABS_BASE_URL_VARIABLE,
    importPackage,
    // The package polls a status URL and downloads the result.
    createProvider: ({ createBlackForestLabs }, settings) => createBlackForestLabs({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const options: Record<string, JSONValue> = {};
      if ('size' in plan.sizing && !SIZED_BY_INPUT.has(plan.modelId)) {
        options.width = plan.width;
        options.height = plan.height;
      }
      if (plan.steps !== undefined) options.steps = plan.steps;
      if (plan.guidance !== undefined) options.guidance = plan.guidance;
      if (plan.outputFormat !== undefined) options.outputFormat = plan.outputFormat;
      if (plan.disableSafetyChecker) {
        options.safetyTolerance = 6;
        warn('safetyChecker', `Black Forest Labs' moderation cannot be turned off; sent safety_tolerance 6, its most permissive level`);
      }
      const mask = plan.mask === undefined ? undefined : maskAs(plan.mask, 'black-and-white');
      return {
        ...baseCall({ plan, call, optionsKey: OPTIONS_KEY, options, mask }),
        maxImagesPerCall: 1,
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const blackForestLabs: ProviderAdapter = createBlackForestLabsAdapter();
