import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import type { Plan } from '../shared/plan.js';
import { ratioValue } from '../shared/sizing.js';
import { withWarnings, type Warn, type ProviderAdapter } from './adapter.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

/**
 * Fireworks through `@ai-sdk/fireworks` (2.x), loaded on first use.
 *
 * What the package does (dist source, 2.0.90): FLUX models POST
 * `/workflows/<model>/text_to_image` and get the image bytes back; Kontext models POST
 * `/workflows/<model>`, then poll `/workflows/<model>/get_result` and download `result.sample`;
 * SDXL-class models POST `/image_generation/<model>`. The body is `{ prompt, aspect_ratio, seed,
 * samples: n, input_image, width, height }` plus every `providerOptions.fireworks` key. `size` on
 * a FLUX model and `aspectRatio` on an SDXL model raise warnings. One image per call.
 *
 * What we add: ratios for FLUX and Kontext, and for SDXL the nearest of its nine sizes (package
 * docs), with a warning when that is not the size asked for; steps, guidance and negative prompt
 * under each backend's names.
 */
export const FIREWORKS_ENVIRONMENT_VARIABLES = ['FIREWORKS_API_KEY'] as const;
export const FIREWORKS_BASE_URL_VARIABLE = 'FIREWORKS_BASE_URL';
const PROVIDER = 'fireworks';

/** The sizes SDXL-class models take (package docs). */
const SDXL_SIZES = ['640x1536', '768x1344', '832x1216', '896x1152', '1024x1024', '1152x896', '1216x832', '1344x768', '1536x640'] as const;

type Entry = Capabilities;

/** Where a backend's options go. */
type Inputs = { steps?: string; guidance?: string; fixedSizes: boolean };

const flux: Entry = {
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '2:3', '3:2', '4:5', '5:4', '16:9', '9:16', '9:21', '21:9'],
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: false,
  acceptsSeed: true,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  // The format follows the Accept header, which the package does not set.
  outputFormats: ['jpeg'],
  price: undefined,
};
const sdxl: Entry = {
  ...flux,
  sizing: 'dimensions',
  // Loose limits, so a ratio's table size reaches `nearestSdxlSize`, which warns when it differs.
  dimensions: { min: 256, max: 1536, multipleOf: 8, default: { width: 1024, height: 1024 } },
  steps: { min: 1, max: 50, default: 30 },
  guidance: { min: 0, max: 35, default: 7 },
  negativePrompt: true,
  price: { unit: 'image', usd: 0.0039 },
  notes: `Sizes: ${SDXL_SIZES.join(', ')} (the nearest is sent).`,
};
const sdxlInputs: Inputs = { steps: 'steps', guidance: 'cfg_scale', fixedSizes: true };

const inputsById = new Map<string, Inputs>();
const entry = (modelId: string, displayName: string, capabilities: Entry, inputs: Inputs): ModelCapabilities => {
  inputsById.set(modelId, inputs);
  return { provider: PROVIDER, known: true, modelId, displayName, ...capabilities };
};

export const FIREWORKS_MODELS: readonly ModelCapabilities[] = [
  entry(
    'accounts/fireworks/models/flux-1-dev-fp8',
    'FLUX.1 [dev] FP8',
    { ...flux, steps: { min: 1, max: 50, default: 28 }, guidance: { min: 0, max: 20, default: 3.5 }, price: { unit: 'megapixel', usd: 0.0005 } },
    { steps: 'num_inference_steps', guidance: 'guidance_scale', fixedSizes: false },
  ),
  entry(
    'accounts/fireworks/models/flux-1-schnell-fp8',
    'FLUX.1 [schnell] FP8',
    { ...flux, steps: { min: 1, max: 4, default: 4 }, price: { unit: 'megapixel', usd: 0.00035 } },
    { steps: 'num_inference_steps', fixedSizes: false },
  ),
  entry('accounts/fireworks/models/flux-kontext-pro', 'FLUX.1 Kontext [pro]', { ...flux, imageInput: { kind: 'image_url', max: 1 }, price: { unit: 'image', usd: 0.04 } }, { fixedSizes: false }),
  entry('accounts/fireworks/models/flux-kontext-max', 'FLUX.1 Kontext [max]', { ...flux, imageInput: { kind: 'image_url', max: 1 }, price: { unit: 'image', usd: 0.08 } }, { fixedSizes: false }),
  entry('accounts/fireworks/models/stable-diffusion-xl-1024-v1-0', 'Stable Diffusion XL 1.0', sdxl, sdxlInputs),
  entry('accounts/fireworks/models/playground-v2-5-1024px-aesthetic', 'Playground v2.5 (1024px aesthetic)', sdxl, sdxlInputs),
  entry('accounts/fireworks/models/playground-v2-1024px-aesthetic', 'Playground v2 (1024px aesthetic)', sdxl, sdxlInputs),
  entry('accounts/fireworks/models/japanese-stable-diffusion-xl', 'Japanese Stable Diffusion XL', sdxl, sdxlInputs),
  entry('accounts/fireworks/models/SSD-1B', 'Segmind SSD-1B', sdxl, sdxlInputs),
];

/** What an id of this provider not listed above is assumed to take. */
export const FIREWORKS_GENERIC: Capabilities = flux;
// The package sends unknown ids to the FLUX text-to-image workflow.

/** The part of `@ai-sdk/fireworks` the adapter uses. */
type FireworksPackage = {
  createFireworks(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type FireworksAdapterOptions = LazyAdapterOptions<FireworksPackage>;

/** The Fireworks adapter; `fireworks` below is the one the toolkit registers. */
export function createFireworksAdapter({ importPackage = () => importOptionalPackage<FireworksPackage>('@ai-sdk/fireworks') }: FireworksAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: FIREWORKS_MODELS,
    genericCapabilities: FIREWORKS_GENERIC,
    name: PROVIDER,
    optionsKey: 'fireworks',
    displayName: 'Fireworks',
    packageName: '@ai-sdk/fireworks',
    environmentVariables: FIREWORKS_ENVIRONMENT_VARIABLES,
    baseUrlVariable: FIREWORKS_BASE_URL_VARIABLE,
    importPackage,
    createProvider: ({ createFireworks }, settings) => createFireworks({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const inputs = inputsById.get(plan.modelId) ?? { fixedSizes: false };
      const options: Record<string, JSONValue> = {};
      if (plan.steps !== undefined && inputs.steps !== undefined) options[inputs.steps] = plan.steps;
      if (plan.guidance !== undefined && inputs.guidance !== undefined) options[inputs.guidance] = plan.guidance;
      if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
      return {
        ...baseCall({ plan, call, optionsKey: 'fireworks', options }),
        maxImagesPerCall: 1,
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : { size: inputs.fixedSizes ? nearestSdxlSize(plan, warn) : plan.sizing.size }),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const fireworks: ProviderAdapter = createFireworksAdapter();

/** The SDXL size whose ratio is nearest (all nine are about one megapixel). */
function nearestFixedSize(ratio: number): `${number}x${number}` {
  return [...SDXL_SIZES].sort((first, second) => Math.abs(Math.log(ratio / ratioValue(first))) - Math.abs(Math.log(ratio / ratioValue(second))))[0]!;
}

function nearestSdxlSize(plan: Plan, warn: Warn): `${number}x${number}` {
  const size = nearestFixedSize(plan.width / plan.height);
  if (size !== `${plan.width}x${plan.height}`) {
    warn('size', `${plan.model.displayName} takes ${SDXL_SIZES.join(', ')}; sent the nearest, ${size}, instead of ${plan.width}x${plan.height}`);
  }
  return size;
}
