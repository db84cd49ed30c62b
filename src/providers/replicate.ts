import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import type { Plan } from '../shared/plan.js';
import { guardedFetch } from '../util/download.js';
import { withWarnings, type Warn, type ProviderAdapter } from './adapter.js';
import { maskAs } from './mask.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';

/**
 * Replicate through `@ai-sdk/replicate` (2.x), loaded on first use.
 *
 * What the package does (dist source, 2.0.57): one POST to `/models/<owner>/<name>/predictions`
 * (or `/predictions` with `version` for `owner/name:version` ids) with `Prefer: wait`, then a
 * download of each output URL. `input` is `{ prompt, aspect_ratio, size, seed, num_outputs: n }`,
 * then the first input image as `image` (FLUX.2: `input_image`, `input_image_2`, ...), `prompt.mask`
 * as `mask` (a URL as is, bytes as a data URL; dropped with a warning on FLUX.2), then every
 * `providerOptions.replicate` key as is. `maxImagesPerCall` is 1, and 8 for FLUX.2 — the number
 * of *input* images FLUX.2 takes, not of outputs: FLUX.2 makes one image per prediction.
 *
 * Every Replicate model has its own input names, so each family below says where steps, guidance,
 * negative prompt and the safety setting go, and whether the model is sized by `aspect_ratio`,
 * `width`/`height` or Recraft's `size`. `num_outputs` 1–4 is used where the model takes it.
 * Models whose inputs we could not confirm get the conservative family: options not known to be
 * taken are dropped with a warning rather than sent under a guessed name.
 */
export const REPLICATE_ENVIRONMENT_VARIABLES = ['REPLICATE_API_TOKEN'] as const;
export const REPLICATE_BASE_URL_VARIABLE = 'REPLICATE_BASE_URL';
const PROVIDER = 'replicate';

type Entry = Capabilities;

/** Where a family's inputs go. */
type Inputs = {
  /** `aspect-ratio`: `aspect_ratio`; `width-height`: `width` and `height`; `size-list`: Recraft's `size`. */
  size: 'aspect-ratio' | 'width-height' | 'size-list';
  steps?: string;
  guidance?: string;
  /** How the safety checker is relaxed: turned off, or its tolerance raised to the most permissive. */
  safety?: 'disable_safety_checker' | 'safety_tolerance';
  /** Replicate's `output_format` values use `jpg`. */
  outputFormat?: boolean;
};

/** Recraft V3's sizes (its model page). */
const RECRAFT_SIZES = [
  '1024x1024', '1365x1024', '1024x1365', '1536x1024', '1024x1536', '1820x1024', '1024x1820',
  '1024x2048', '2048x1024', '1434x1024', '1024x1434', '1024x1280', '1280x1024', '1024x1707', '1707x1024',
] as const;

const FLUX_RATIOS = ['1:1', '16:9', '21:9', '3:2', '2:3', '4:5', '5:4', '3:4', '4:3', '9:16', '9:21'];
const sdxlDimensions = { min: 128, max: 2048, multipleOf: 8, default: { width: 1024, height: 1024 } };

const base: Entry = {
  sizing: 'aspect-ratio',
  // Sized by ratio: a requested size only picks the nearest ratio, so any size is accepted.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
  aspectRatios: FLUX_RATIOS,
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['png', 'jpeg'],
  price: undefined,
};

const sdxl: Entry = {
  ...base,
  sizing: 'dimensions',
  dimensions: sdxlDimensions,
  steps: { min: 1, max: 50, default: 25 },
  guidance: { min: 0, max: 20, default: 7.5 },
  negativePrompt: true,
  maxImagesPerCall: 4,
  imageInput: { kind: 'image_url', max: 1 },
  safetyCheckerCanBeDisabled: true,
  outputFormats: ['png'],
};
const sdxlInputs: Inputs = { size: 'width-height', steps: 'num_inference_steps', guidance: 'guidance_scale', safety: 'disable_safety_checker' };

const stableDiffusion35: Entry = {
  ...base,
  steps: { min: 1, max: 50, default: 40 },
  guidance: { min: 0, max: 20, default: 5 },
  negativePrompt: true,
  imageInput: { kind: 'image_url', max: 1 },
  price: { unit: 'image', usd: 0.065 },
};
const stableDiffusion35Inputs: Inputs = { size: 'aspect-ratio', steps: 'steps', guidance: 'cfg', outputFormat: true };

type Family = { entry: Entry; inputs: Inputs; models: Record<string, string> };

const FAMILIES: readonly Family[] = [
  {
    entry: { ...base, steps: { min: 1, max: 4, default: 4 }, maxImagesPerCall: 4, safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.003 } },
    inputs: { size: 'aspect-ratio', steps: 'num_inference_steps', safety: 'disable_safety_checker', outputFormat: true },
    models: { 'black-forest-labs/flux-schnell': 'FLUX.1 [schnell]' },
  },
  {
    entry: {
      ...base,
      steps: { min: 1, max: 50, default: 28 },
      guidance: { min: 0, max: 10, default: 3 },
      maxImagesPerCall: 4,
      imageInput: { kind: 'image_url', max: 1 },
      safetyCheckerCanBeDisabled: true,
      price: { unit: 'image', usd: 0.025 },
    },
    inputs: { size: 'aspect-ratio', steps: 'num_inference_steps', guidance: 'guidance', safety: 'disable_safety_checker', outputFormat: true },
    models: { 'black-forest-labs/flux-dev': 'FLUX.1 [dev]' },
  },
  {
    entry: { ...base, steps: { min: 1, max: 50, default: 25 }, guidance: { min: 2, max: 5, default: 3 }, safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.055 } },
    inputs: { size: 'aspect-ratio', steps: 'steps', guidance: 'guidance', safety: 'safety_tolerance', outputFormat: true },
    models: { 'black-forest-labs/flux-pro': 'FLUX.1 [pro]' },
  },
  {
    entry: { ...base, safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.04 } },
    inputs: { size: 'aspect-ratio', safety: 'safety_tolerance', outputFormat: true },
    models: { 'black-forest-labs/flux-1.1-pro': 'FLUX1.1 [pro]' },
  },
  {
    entry: { ...base, aspectRatios: ['21:9', '16:9', '3:2', '4:3', '5:4', '1:1', '4:5', '3:4', '2:3', '9:16', '9:21'], safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.06 } },
    inputs: { size: 'aspect-ratio', safety: 'safety_tolerance', outputFormat: true },
    models: { 'black-forest-labs/flux-1.1-pro-ultra': 'FLUX1.1 [pro] ultra' },
  },
  {
    entry: {
      ...base,
      steps: { min: 15, max: 50, default: 50 },
      guidance: { min: 1.5, max: 100, default: 60 },
      imageInput: { kind: 'image_url', max: 1 },
      acceptsMask: true,
      safetyCheckerCanBeDisabled: true,
      price: { unit: 'image', usd: 0.05 },
      notes: 'Inpainting: needs an input image and a mask (white where to repaint).',
    },
    inputs: { size: 'aspect-ratio', steps: 'steps', guidance: 'guidance', safety: 'safety_tolerance', outputFormat: true },
    models: { 'black-forest-labs/flux-fill-pro': 'FLUX.1 Fill [pro]' },
  },
  {
    entry: {
      ...base,
      steps: { min: 1, max: 50, default: 28 },
      guidance: { min: 0, max: 100, default: 30 },
      maxImagesPerCall: 4,
      imageInput: { kind: 'image_url', max: 1 },
      acceptsMask: true,
      safetyCheckerCanBeDisabled: true,
      price: { unit: 'image', usd: 0.04 },
      notes: 'Inpainting: needs an input image and a mask (white where to repaint).',
    },
    inputs: { size: 'aspect-ratio', steps: 'num_inference_steps', guidance: 'guidance', safety: 'disable_safety_checker', outputFormat: true },
    models: { 'black-forest-labs/flux-fill-dev': 'FLUX.1 Fill [dev]' },
  },
  {
    entry: { ...base, acceptsN: false, imageInput: { kind: 'reference_images', max: 8 }, safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.03 } },
    inputs: { size: 'aspect-ratio', safety: 'safety_tolerance', outputFormat: true },
    models: { 'black-forest-labs/flux-2-pro': 'FLUX.2 [pro]' },
  },
  {
    entry: { ...base, acceptsN: false, imageInput: { kind: 'reference_images', max: 8 }, safetyCheckerCanBeDisabled: true, price: { unit: 'image', usd: 0.012 } },
    inputs: { size: 'aspect-ratio', safety: 'disable_safety_checker', outputFormat: true },
    models: { 'black-forest-labs/flux-2-dev': 'FLUX.2 [dev]' },
  },
  {
    entry: { ...sdxl, steps: { min: 1, max: 10, default: 4 }, guidance: { min: 0, max: 50, default: 0 } },
    inputs: sdxlInputs,
    models: { 'bytedance/sdxl-lightning-4step': 'SDXL Lightning (4 steps)' },
  },
  {
    entry: sdxl,
    inputs: sdxlInputs,
    models: {
      'fofr/sdxl-emoji': 'SDXL Emoji',
      'fofr/sdxl-multi-controlnet-lora': 'SDXL multi-ControlNet LoRA',
      'fofr/realvisxl-v3-multi-controlnet-lora': 'RealVisXL v3 multi-ControlNet LoRA',
      'lucataco/open-dalle-v1.1': 'OpenDalle v1.1',
      'lucataco/realvisxl-v2.0': 'RealVisXL v2.0',
      'playgroundai/playground-v2.5-1024px-aesthetic': 'Playground v2.5 (1024px aesthetic)',
    },
  },
  {
    entry: { ...sdxl, steps: { min: 1, max: 10, default: 6 }, guidance: { min: 0, max: 20, default: 2 } },
    inputs: sdxlInputs,
    models: { 'lucataco/dreamshaper-xl-turbo': 'DreamShaper XL Turbo', 'lucataco/realvisxl2-lcm': 'RealVisXL v2 LCM' },
  },
  {
    entry: { ...sdxl, dimensions: { min: 128, max: 1024, multipleOf: 64, default: { width: 768, height: 768 } }, steps: { min: 1, max: 500, default: 50 } },
    inputs: sdxlInputs,
    models: { 'tstramer/material-diffusion': 'Material Diffusion (SD 1.5)' },
  },
  {
    entry: stableDiffusion35,
    inputs: stableDiffusion35Inputs,
    models: {
      'stability-ai/stable-diffusion-3.5-large': 'Stable Diffusion 3.5 Large',
      'stability-ai/stable-diffusion-3.5-medium': 'Stable Diffusion 3.5 Medium',
    },
  },
  {
    entry: { ...stableDiffusion35, steps: { min: 1, max: 10, default: 4 }, guidance: { min: 0, max: 20, default: 1 }, price: { unit: 'image', usd: 0.04 } },
    inputs: stableDiffusion35Inputs,
    models: { 'stability-ai/stable-diffusion-3.5-large-turbo': 'Stable Diffusion 3.5 Large Turbo' },
  },
  {
    entry: { ...base, aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '16:10', '10:16', '3:1', '1:3'], negativePrompt: true, outputFormats: ['png'], price: { unit: 'image', usd: 0.08 } },
    inputs: { size: 'aspect-ratio' },
    models: { 'ideogram-ai/ideogram-v2': 'Ideogram v2', 'ideogram-ai/ideogram-v2-turbo': 'Ideogram v2 Turbo' },
  },
  {
    entry: { ...base, aspectRatios: ['1:1', '3:4', '4:3', '9:16', '16:9', '9:21', '21:9'], outputFormats: ['jpeg'], price: { unit: 'image', usd: 0.03 } },
    inputs: { size: 'aspect-ratio' },
    models: { 'luma/photon': 'Luma Photon', 'luma/photon-flash': 'Luma Photon Flash' },
  },
  {
    entry: {
      ...base,
      sizing: 'dimensions',
      // Loose limits, so a ratio's table size reaches `nearestRecraftSize`, which warns when it differs.
      dimensions: { min: 256, max: 2048, multipleOf: 1, default: { width: 1024, height: 1024 } },
      acceptsSeed: false,
      outputFormats: ['png'],
      price: { unit: 'image', usd: 0.04 },
      notes: `Sizes: ${RECRAFT_SIZES.join(', ')} (the nearest is sent). The SVG model returns SVG, which is not read as an image.`,
    },
    inputs: { size: 'size-list' },
    models: { 'recraft-ai/recraft-v3': 'Recraft V3', 'recraft-ai/recraft-v3-svg': 'Recraft V3 SVG' },
  },
  {
    entry: { ...base, sizing: 'dimensions', dimensions: sdxlDimensions, outputFormats: ['png'] },
    inputs: { size: 'width-height' },
    models: { 'fofr/aura-flow': 'AuraFlow', 'fofr/latent-consistency-model': 'Latent Consistency Model', 'nvidia/sana': 'Sana' },
  },
];

const inputsById = new Map<string, Inputs>();

export const REPLICATE_MODELS: readonly ModelCapabilities[] = FAMILIES.flatMap(({ entry, inputs, models }) =>
  Object.entries(models).map(([modelId, displayName]) => {
    inputsById.set(modelId, inputs);
    return { provider: PROVIDER, known: true, modelId, displayName, ...entry };
  }),
);

/** What an id of this provider not listed above is assumed to take. */
export const REPLICATE_GENERIC: Capabilities = { ...base, imageInput: { kind: 'image_url', max: 1 } };

/**
 * The inputs of a catalog model. Anything else, pinned versions (`owner/name:version`) included,
 * has the generic capabilities, so it gets the package's own mapping only.
 */
const inputsFor = (modelId: string): Inputs => inputsById.get(modelId) ?? { size: 'aspect-ratio' };

/** The part of `@ai-sdk/replicate` the adapter uses. */
type ReplicatePackage = {
  createReplicate(settings: { apiToken: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type ReplicateAdapterOptions = LazyAdapterOptions<ReplicatePackage>;

/** The Replicate adapter; `replicate` below is the one the toolkit registers. */
export function createReplicateAdapter({ importPackage = () => importOptionalPackage<ReplicatePackage>('@ai-sdk/replicate') }: ReplicateAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: REPLICATE_MODELS,
    genericCapabilities: REPLICATE_GENERIC,
    name: PROVIDER,
    optionsKey: 'replicate',
    displayName: 'Replicate',
    packageName: '@ai-sdk/replicate',
    environmentVariables: REPLICATE_ENVIRONMENT_VARIABLES,
    baseUrlVariable: REPLICATE_BASE_URL_VARIABLE,
    importPackage,
    // Replicate answers with output URLs, which the package downloads.
    createProvider: ({ createReplicate }, { apiKey, ...settings }) => createReplicate({ apiToken: apiKey, ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const inputs = inputsFor(plan.modelId);
      const options: Record<string, JSONValue> = {};
      let size: `${number}x${number}` | undefined;
      if (inputs.size === 'width-height') {
        options.width = plan.width;
        options.height = plan.height;
      } else if (inputs.size === 'size-list') {
        size = nearestRecraftSize(plan, warn);
      }
      if (plan.steps !== undefined && inputs.steps !== undefined) options[inputs.steps] = plan.steps;
      if (plan.guidance !== undefined && inputs.guidance !== undefined) options[inputs.guidance] = plan.guidance;
      if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
      if (plan.disableSafetyChecker && inputs.safety === 'disable_safety_checker') options.disable_safety_checker = true;
      if (plan.disableSafetyChecker && inputs.safety === 'safety_tolerance') {
        options.safety_tolerance = 6;
        warn('safetyChecker', `${plan.model.displayName}'s safety checker cannot be turned off; sent safety_tolerance 6, its most permissive level`);
      }
      if (plan.outputFormat !== undefined && inputs.outputFormat) options.output_format = plan.outputFormat === 'jpeg' ? 'jpg' : 'png';
      const mask = plan.mask === undefined ? undefined : maskAs(plan.mask, 'black-and-white');
      return {
        ...baseCall({ plan, call, optionsKey: 'replicate', options, mask }),
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
        ...(size === undefined ? {} : { size }),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const replicate: ProviderAdapter = createReplicateAdapter();

/** Recraft's nearest size: closest ratio first, then closest area; warns when it differs. */
function nearestRecraftSize(plan: Plan, warn: Warn): `${number}x${number}` {
  const wanted = plan.width / plan.height;
  const score = (size: string) => {
    const { width, height } = parseSize(size);
    return [Math.abs(Math.log(wanted / (width / height))), Math.abs(Math.log((plan.width * plan.height) / (width * height)))] as const;
  };
  const best = [...RECRAFT_SIZES].sort((first, second) => {
    const [firstRatio, firstArea] = score(first);
    const [secondRatio, secondArea] = score(second);
    return firstRatio - secondRatio || firstArea - secondArea;
  })[0]!;
  if (best !== `${plan.width}x${plan.height}`) {
    warn('size', `${plan.model.displayName} takes a fixed set of sizes; sent the nearest, ${best}, instead of ${plan.width}x${plan.height}`);
  }
  return best;
}

const parseSize = (size: string) => {
  const [width, height] = size.split('x').map(Number) as [number, number];
  return { width, height };
};
