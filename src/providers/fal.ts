import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import { guardedFetch } from '../util/download.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';
import { maskAs } from './mask.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';

/**
 * fal.ai through `@ai-sdk/fal` (2.x), loaded on first use.
 *
 * What the package does (dist source, 2.0.59): one synchronous POST to `<baseURL>/<modelId>`, then
 * a download of every returned image URL. `size` becomes `image_size: {width, height}`;
 * `aspectRatio` becomes one of fal's presets (1:1, 16:9, 9:16, 4:3, 3:4 and four fixed sizes) and
 * any other ratio is dropped silently; `n` is always sent as `num_images`, yet `maxImagesPerCall`
 * is 1. camelCase options (`numInferenceSteps`, `guidanceScale` 1–20, `enableSafetyChecker`,
 * `outputFormat`) are renamed to fal's snake_case; any other key is passed through as is.
 * `prompt.mask` goes out as `mask_url` (a URL as is, bytes as a data URL).
 *
 * What we add: up to 4 images in one request on the models that take `num_images` 1–4 (the FLUX
 * family, Qwen, Sana, Imagen 4); the exact size for models sized by `image_size`, and
 * `aspect_ratio` for those sized by ratio (FLUX Ultra, Kontext, Imagen 4, Bria, Luma Photon);
 * steps, guidance, negative prompt, safety checker, output format and LoRAs under fal's names; a
 * mask with transparency made black and white (white where it was transparent) for the inpainting
 * models, which read white as the area to repaint.
 *
 * Sources: the FLUX families follow fal's model pages; the parameters of the other models listed
 * by the package are kept conservative (options not known to be taken are dropped with a warning
 * rather than sent under a guessed name).
 */
export const FAL_ENVIRONMENT_VARIABLES = ['FAL_API_KEY', 'FAL_KEY'] as const;
export const FAL_BASE_URL_VARIABLE = 'FAL_BASE_URL';
const PROVIDER = 'fal';

type Entry = Capabilities;

/** How a family is addressed beyond the catalog: whether it reads `image_size` (ratio-sized and input-sized models do not). */
type Inputs = { sendsImageSize: boolean };

const dimensions = { min: 256, max: 2048, multipleOf: 8, default: { width: 1024, height: 1024 } };
const ultraRatios = ['21:9', '16:9', '4:3', '3:2', '1:1', '2:3', '3:4', '9:16', '9:21'];

const base: Entry = {
  sizing: 'dimensions',
  dimensions,
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4'],
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['jpeg', 'png'],
  price: undefined,
};

const fluxDev: Entry = {
  ...base,
  steps: { min: 1, max: 50, default: 28 },
  guidance: { min: 1, max: 20, default: 3.5 },
  maxImagesPerCall: 4,
  safetyCheckerCanBeDisabled: true,
  price: { unit: 'megapixel', usd: 0.025 },
};
const fluxSchnell: Entry = { ...fluxDev, steps: { min: 1, max: 12, default: 4 }, guidance: undefined, price: { unit: 'megapixel', usd: 0.003 } };
const fluxKrea: Entry = { ...fluxDev, guidance: { min: 1, max: 20, default: 4.5 } };
const fluxLora: Entry = { ...fluxDev, maxLoras: 3, price: { unit: 'megapixel', usd: 0.035 } };
const editsOneImage = { imageInput: { kind: 'image_url', max: 1 } } as const;
const fluxPro: Entry = { ...fluxDev, steps: undefined, guidance: undefined, price: { unit: 'megapixel', usd: 0.04 } };
const fluxUltra: Entry = {
  ...fluxPro,
  sizing: 'aspect-ratio',
  aspectRatios: ultraRatios,
  maxImagesPerCall: 1,
  price: { unit: 'image', usd: 0.06 },
};
const kontext: Entry = {
  ...fluxPro,
  sizing: 'aspect-ratio',
  aspectRatios: ultraRatios,
  guidance: { min: 1, max: 20, default: 3.5 },
  ...editsOneImage,
  price: { unit: 'image', usd: 0.04 },
};
/** Upscalers and cut-outs: one input image, no size, no options of ours. */
const utility: Entry = { ...base, acceptsSeed: false, ...editsOneImage, outputFormats: ['png'] };
const ratioText: Entry = {
  ...base,
  sizing: 'aspect-ratio',
  aspectRatios: ['1:1', '2:3', '3:2', '3:4', '4:3', '4:5', '5:4', '9:16', '16:9'],
  negativePrompt: true,
};
const diffusers: Entry = {
  ...base,
  steps: { min: 1, max: 50, default: 28 },
  guidance: { min: 1, max: 20, default: 4 },
  negativePrompt: true,
  maxImagesPerCall: 4,
  safetyCheckerCanBeDisabled: true,
};

type Family = { entry: Entry; inputs: Inputs; models: Record<string, string> };
const sized: Inputs = { sendsImageSize: true };
const unsized: Inputs = { sendsImageSize: false };

const FAMILIES: readonly Family[] = [
  { entry: fluxDev, inputs: sized, models: { 'fal-ai/flux/dev': 'FLUX.1 [dev]' } },
  { entry: fluxSchnell, inputs: sized, models: { 'fal-ai/flux/schnell': 'FLUX.1 [schnell]' } },
  { entry: fluxKrea, inputs: sized, models: { 'fal-ai/flux/krea': 'FLUX.1 Krea [dev]' } },
  {
    entry: fluxLora,
    inputs: sized,
    models: {
      'fal-ai/flux-lora': 'FLUX.1 [dev] with LoRAs',
      'fal-ai/flux-general': 'FLUX.1 [dev] general (LoRAs, ControlNets)',
      'fal-ai/flux-kontext-lora/text-to-image': 'FLUX.1 Kontext [dev] LoRA, text to image',
    },
  },
  {
    entry: { ...fluxDev, ...editsOneImage, notes: 'Needs an input image; the output follows its size.' },
    inputs: unsized,
    models: {
      'fal-ai/flux/dev/image-to-image': 'FLUX.1 [dev] image to image',
      'fal-ai/flux/krea/image-to-image': 'FLUX.1 Krea [dev] image to image',
      'fal-ai/flux/dev/redux': 'FLUX.1 [dev] Redux',
      'fal-ai/flux/krea/redux': 'FLUX.1 Krea [dev] Redux',
    },
  },
  {
    entry: { ...fluxLora, ...editsOneImage, acceptsMask: true, notes: 'Inpainting: needs an input image and a mask (white where to repaint); the output follows the image size.' },
    inputs: unsized,
    models: {
      'fal-ai/flux-lora/inpainting': 'FLUX.1 [dev] LoRA inpainting',
      'fal-ai/flux-general/inpainting': 'FLUX.1 general inpainting',
    },
  },
  {
    entry: { ...fluxLora, ...editsOneImage, notes: 'Needs an input image.' },
    inputs: unsized,
    models: {
      'fal-ai/flux-lora/image-to-image': 'FLUX.1 [dev] LoRA image to image',
      'fal-ai/flux-general/image-to-image': 'FLUX.1 general image to image',
      'fal-ai/flux-general/differential-diffusion': 'FLUX.1 general differential diffusion',
      'fal-ai/flux-general/rf-inversion': 'FLUX.1 general RF inversion',
    },
  },
  { entry: { ...fluxSchnell, ...editsOneImage, notes: 'Needs an input image.' }, inputs: sized, models: { 'fal-ai/flux/schnell/redux': 'FLUX.1 [schnell] Redux' } },
  { entry: fluxPro, inputs: sized, models: { 'fal-ai/flux-pro/v1.1': 'FLUX1.1 [pro]' } },
  { entry: { ...fluxPro, ...editsOneImage, notes: 'Needs an input image.' }, inputs: sized, models: { 'fal-ai/flux-pro/v1.1/redux': 'FLUX1.1 [pro] Redux' } },
  {
    entry: fluxUltra,
    inputs: unsized,
    models: {
      'fal-ai/flux-pro/v1.1-ultra': 'FLUX1.1 [pro] ultra',
      'fal-ai/flux-pro/v1.1-ultra-finetuned': 'FLUX1.1 [pro] ultra, fine-tuned (needs providerOptions.fal.finetune_id)',
    },
  },
  { entry: { ...fluxUltra, ...editsOneImage, notes: 'Needs an input image.' }, inputs: unsized, models: { 'fal-ai/flux-pro/v1.1-ultra/redux': 'FLUX1.1 [pro] ultra Redux' } },
  { entry: kontext, inputs: unsized, models: { 'fal-ai/flux-pro/kontext': 'FLUX.1 Kontext [pro]' } },
  { entry: { ...kontext, price: { unit: 'image', usd: 0.08 } }, inputs: unsized, models: { 'fal-ai/flux-pro/kontext/max': 'FLUX.1 Kontext [max]' } },
  {
    entry: utility,
    inputs: unsized,
    models: {
      'fal-ai/aura-sr': 'AuraSR upscaler',
      'fal-ai/ccsr': 'CCSR upscaler',
      'fal-ai/clarity-upscaler': 'Clarity upscaler',
      'fal-ai/creative-upscaler': 'Creative upscaler',
      'fal-ai/esrgan': 'ESRGAN upscaler',
      'fal-ai/bria/background/remove': 'Bria background removal',
      'fal-ai/object-removal': 'Object removal',
      'fal-ai/bria/product-shot': 'Bria product shot',
      'fal-ai/bria/reimagine': 'Bria reimagine',
      'fal-ai/fashn/tryon/v1.6': 'FASHN virtual try-on v1.6 (images via providerOptions.fal)',
      'fal-ai/ideogram/character': 'Ideogram character',
      'fal-ai/ideogram/character/edit': 'Ideogram character edit',
      'fal-ai/ideogram/character/remix': 'Ideogram character remix',
      'fal-ai/recraft/v3/image-to-image': 'Recraft V3 image to image',
    },
  },
  { entry: { ...utility, acceptsMask: true, notes: 'Needs an input image and a mask (white where to erase).' }, inputs: unsized, models: { 'fal-ai/bria/eraser': 'Bria eraser' } },
  {
    entry: ratioText,
    inputs: unsized,
    models: {
      'bria/text-to-image/3.2': 'Bria text to image 3.2',
      'fal-ai/bria/text-to-image/base': 'Bria text to image (base)',
      'fal-ai/bria/text-to-image/fast': 'Bria text to image (fast)',
      'fal-ai/bria/text-to-image/hd': 'Bria text to image (HD)',
    },
  },
  {
    entry: { ...ratioText, aspectRatios: ['1:1', '16:9', '9:16', '3:4', '4:3'], maxImagesPerCall: 4, price: { unit: 'image', usd: 0.05 } },
    inputs: unsized,
    models: { 'fal-ai/imagen4/preview': 'Imagen 4 (preview)' },
  },
  {
    entry: { ...ratioText, aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '21:9', '9:21'], negativePrompt: false, acceptsSeed: false },
    inputs: unsized,
    models: { 'fal-ai/luma-photon': 'Luma Photon', 'fal-ai/luma-photon/flash': 'Luma Photon Flash' },
  },
  {
    entry: { ...base, safetyCheckerCanBeDisabled: true },
    inputs: sized,
    models: { 'fal-ai/bytedance/dreamina/v3.1/text-to-image': 'Dreamina v3.1' },
  },
  { entry: { ...base, acceptsSeed: false }, inputs: sized, models: { 'fal-ai/recraft/v3/text-to-image': 'Recraft V3' } },
  {
    entry: { ...diffusers, guidance: { min: 1, max: 20, default: 2.5 }, steps: { min: 2, max: 50, default: 30 }, maxLoras: 3 },
    inputs: sized,
    models: { 'fal-ai/qwen-image': 'Qwen-Image' },
  },
  {
    entry: { ...diffusers, steps: { min: 1, max: 50, default: 18 }, guidance: { min: 1, max: 20, default: 5 } },
    inputs: sized,
    models: { 'fal-ai/sana/v1.5/4.8b': 'Sana 1.5 4.8B', 'fal-ai/sana/v1.5/1.6b': 'Sana 1.5 1.6B' },
  },
  {
    entry: { ...diffusers, steps: { min: 1, max: 20, default: 2 }, guidance: undefined },
    inputs: sized,
    models: { 'fal-ai/sana/sprint': 'Sana Sprint' },
  },
  {
    entry: { ...diffusers, steps: { min: 2, max: 40, default: 27 }, guidance: { min: 1, max: 10, default: 3.5 }, maxImagesPerCall: 1 },
    inputs: sized,
    models: { 'fal-ai/wan/v2.2-5b/text-to-image': 'Wan 2.2 5B', 'fal-ai/wan/v2.2-a14b/text-to-image': 'Wan 2.2 A14B' },
  },
  {
    entry: { ...base, steps: { min: 1, max: 50, default: 50 }, negativePrompt: true },
    inputs: sized,
    models: { 'fal-ai/omnigen-v2': 'OmniGen v2 (input images via providerOptions.fal.input_image_urls)' },
  },
  { entry: base, inputs: sized, models: { 'fal-ai/sky-raccoon': 'Sky Raccoon' } },
];

const inputsById = new Map<string, Inputs>();

export const FAL_MODELS: readonly ModelCapabilities[] = FAMILIES.flatMap(({ entry, inputs, models }) =>
  Object.entries(models).map(([modelId, displayName]) => {
    inputsById.set(modelId, inputs);
    return { provider: PROVIDER, known: true, modelId, displayName, ...entry };
  }),
);

/** What an id of this provider not listed above is assumed to take. */
export const FAL_GENERIC: Capabilities = { ...base, negativePrompt: true, imageInput: { kind: 'image_url', max: 1 }, safetyCheckerCanBeDisabled: true };

/** The part of `@ai-sdk/fal` the adapter uses. */
type FalPackage = {
  createFal(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type FalAdapterOptions = LazyAdapterOptions<FalPackage>;

/** The fal adapter; `fal` below is the one the toolkit registers. */
export function createFalAdapter({ importPackage = () => importOptionalPackage<FalPackage>('@ai-sdk/fal') }: FalAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: FAL_MODELS,
    genericCapabilities: FAL_GENERIC,
    name: PROVIDER,
    optionsKey: 'fal',
    displayName: 'fal',
    packageName: '@ai-sdk/fal',
    environmentVariables: FAL_ENVIRONMENT_VARIABLES,
    baseUrlVariable: FAL_BASE_URL_VARIABLE,
    importPackage,
    // fal answers with image URLs, which the package downloads.
    createProvider: ({ createFal }, settings) => createFal({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call) => {
      const inputs = inputsById.get(plan.modelId) ?? sized;
      // camelCase where the package renames (its snake_case names are deprecated); fal's own names otherwise.
      const options: Record<string, JSONValue> = {};
      if ('aspectRatio' in plan.sizing) options.aspect_ratio = plan.sizing.aspectRatio;
      if (plan.steps !== undefined) options.numInferenceSteps = plan.steps;
      if (plan.guidance !== undefined) options.guidanceScale = plan.guidance;
      if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
      if (plan.disableSafetyChecker) options.enableSafetyChecker = false;
      if (plan.outputFormat !== undefined) options.outputFormat = plan.outputFormat;
      if (plan.loras !== undefined) options.loras = plan.loras.map((lora) => ({ ...lora }));
      const mask = plan.mask === undefined ? undefined : maskAs(plan.mask, 'black-and-white');
      return {
        ...baseCall({ plan, call, optionsKey: 'fal', options, mask }),
        // A ratio goes in `aspect_ratio` above: the package would turn `aspectRatio` into an `image_size` preset.
        ...('size' in plan.sizing && inputs.sendsImageSize ? { size: plan.sizing.size } : {}),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
      };
    }),
  });
}

export const fal: ProviderAdapter = createFalAdapter();
