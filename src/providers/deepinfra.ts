import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities, catalogEntry } from '../shared/capabilities.js';
import { imageInputs, withWarnings, type ProviderAdapter } from './adapter.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

/**
 * DeepInfra through `@ai-sdk/deepinfra` (2.x), loaded on first use.
 *
 * What the package does (dist source, 2.0.84): POST `<baseURL>/inference/<modelId>` with
 * `{ prompt, num_images: n, aspect_ratio, width, height (as strings), seed }` and every
 * `providerOptions.deepinfra` key spread last; the response's data URLs are the images. With input
 * images it posts multipart to the OpenAI-compatible `<baseURL>/openai/images/edits` instead,
 * where `seed` is not sent. `maxImagesPerCall` is 1.
 *
 * What we add: models the package docs list as sized by "Size" get `width`/`height`, those sized
 * by "Aspect Ratio" get `aspect_ratio`; steps, guidance and negative prompt under DeepInfra's
 * names where the model is known to take them; the seed on the edit path as a form field.
 */
export const DEEPINFRA_ENVIRONMENT_VARIABLES = ['DEEPINFRA_API_KEY'] as const;
export const DEEPINFRA_BASE_URL_VARIABLE = 'DEEPINFRA_BASE_URL';
const PROVIDER = 'deepinfra';

type Entry = Capabilities;

/** Package docs: "multiples of 32, width and height between 256 and 1440". */
const flux: Entry = {
  sizing: 'dimensions',
  dimensions: { min: 256, max: 1440, multipleOf: 32, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '9:16', '9:21'],
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['png'],
  price: undefined,
};
const stableDiffusion: Entry = {
  ...flux,
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
};

const entry = (modelId: string, displayName: string, capabilities: Entry) => catalogEntry(PROVIDER, modelId, displayName, capabilities);

export const DEEPINFRA_MODELS: readonly ModelCapabilities[] = [
  entry('stabilityai/sd3.5', 'Stable Diffusion 3.5 Large', {
    ...stableDiffusion,
    steps: { min: 1, max: 50, default: 35 },
    guidance: { min: 0, max: 20, default: 7 },
    negativePrompt: true,
  }),
  entry('stabilityai/sd3.5-medium', 'Stable Diffusion 3.5 Medium', {
    ...stableDiffusion,
    steps: { min: 1, max: 50, default: 35 },
    guidance: { min: 0, max: 20, default: 7 },
    negativePrompt: true,
  }),
  entry('stabilityai/sdxl-turbo', 'SDXL Turbo', stableDiffusion),
  entry('black-forest-labs/FLUX-1.1-pro', 'FLUX1.1 [pro]', { ...flux, price: { unit: 'image', usd: 0.04 } }),
  entry('black-forest-labs/FLUX-pro', 'FLUX.1 [pro]', { ...flux, price: { unit: 'image', usd: 0.05 } }),
  entry('black-forest-labs/FLUX-1-schnell', 'FLUX.1 [schnell]', { ...flux, steps: { min: 1, max: 4, default: 4 }, price: { unit: 'megapixel', usd: 0.0005 } }),
  entry('black-forest-labs/FLUX-1-dev', 'FLUX.1 [dev]', { ...flux, steps: { min: 1, max: 50, default: 25 }, price: { unit: 'megapixel', usd: 0.009 } }),
  entry('black-forest-labs/FLUX.1-Kontext-dev', 'FLUX.1 Kontext [dev]', { ...flux, imageInput: { kind: 'image_url', max: 1 } }),
  entry('black-forest-labs/FLUX.1-Kontext-pro', 'FLUX.1 Kontext [pro]', { ...flux, imageInput: { kind: 'image_url', max: 1 } }),
  entry('Qwen/Qwen-Image-Edit', 'Qwen-Image-Edit', { ...flux, imageInput: { kind: 'reference_images', max: 3 }, notes: 'Edits only: needs input images.' }),
];

// DeepInfra's names for steps and guidance (the package docs' example sends `num_inference_steps`).
const STEPS_KEY = 'num_inference_steps';
const GUIDANCE_KEY = 'guidance_scale';

/** What an id of this provider not listed above is assumed to take. */
export const DEEPINFRA_GENERIC: Capabilities = { ...flux, imageInput: { kind: 'image_url', max: 1 } };

/** The part of `@ai-sdk/deepinfra` the adapter uses. */
type DeepInfraPackage = {
  createDeepInfra(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type DeepInfraAdapterOptions = LazyAdapterOptions<DeepInfraPackage>;

/** The DeepInfra adapter; `deepinfra` below is the one the toolkit registers. */
export function createDeepInfraAdapter({ importPackage = () => importOptionalPackage<DeepInfraPackage>('@ai-sdk/deepinfra') }: DeepInfraAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: DEEPINFRA_MODELS,
    genericCapabilities: DEEPINFRA_GENERIC,
    name: PROVIDER,
    optionsKey: 'deepinfra',
    displayName: 'DeepInfra',
    packageName: '@ai-sdk/deepinfra',
    environmentVariables: DEEPINFRA_ENVIRONMENT_VARIABLES,
    baseUrlVariable: DEEPINFRA_BASE_URL_VARIABLE,
    importPackage,
    createProvider: ({ createDeepInfra }, settings) => createDeepInfra({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call) => {
      const images = imageInputs(plan);
      const options: Record<string, JSONValue> = {};
      if (plan.steps !== undefined) options[STEPS_KEY] = plan.steps;
      if (plan.guidance !== undefined) options[GUIDANCE_KEY] = plan.guidance;
      if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
      // The edit path drops `seed`; the options are spread into its form, so it goes there.
      if (images.length > 0 && call.seed !== undefined) options.seed = call.seed;
      return {
        ...baseCall({ plan, call, optionsKey: 'deepinfra', options, images }),
        ...('size' in plan.sizing ? { size: plan.sizing.size } : { aspectRatio: plan.sizing.aspectRatio }),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const deepinfra: ProviderAdapter = createDeepInfraAdapter();
