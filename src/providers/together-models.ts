import { registerGenericCapabilities, registerModels, type ModelCapabilities } from '../catalog.js';

/**
 * Together's image models, from ../shared/reference/together-docs and FACTS.md.
 *
 * Choices where the sources disagree (kept here, in one place):
 * - Sizing: the docs say FLUX Schnell and Kontext size by `aspect_ratio`, yet every Schnell example
 *   sends width/height (and the Kontext example does too). We size Schnell by width/height, which the
 *   examples prove, and Kontext by `aspect_ratio`, which is what the prose says of it.
 * - `n`: Together-hosted models take `n` 1–4; partner models (BFL Pro/Max/Flex) make one image per
 *   call, so we never send them `n` and split the count into single calls.
 * - Prices are third-party observations, marked as estimates, and overridable.
 */
const PROVIDER = 'togetherai';

const dimensions = { min: 256, max: 1792, multipleOf: 8, default: { width: 1024, height: 1024 } };
const ratios = ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'] as const;
const formats = ['jpeg', 'png'] as const;

type Entry = Omit<ModelCapabilities, 'provider' | 'known' | 'dimensions' | 'aspectRatios' | 'outputFormats'> &
  Partial<Pick<ModelCapabilities, 'dimensions' | 'aspectRatios'>>;

const entry = (model: Entry): ModelCapabilities => ({
  provider: PROVIDER,
  known: true,
  dimensions,
  aspectRatios: ratios,
  outputFormats: formats,
  ...model,
});

const hostedFlux1 = {
  sizing: 'dimensions',
  maxImagesPerCall: 4,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  imageInput: { kind: 'none' },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: true,
} as const;

const partner = {
  maxImagesPerCall: 1,
  acceptsN: false,
  acceptsSeed: true,
  negativePrompt: false,
  maxLoras: 0,
} as const;

export const TOGETHER_MODELS: readonly ModelCapabilities[] = [
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.1-schnell',
    displayName: 'FLUX.1 [schnell] (Turbo)',
    steps: { min: 1, max: 12, default: 4 },
    guidance: undefined,
    price: { unit: 'megapixel', usd: 0.0027, defaultSteps: 4 },
  }),
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.1-schnell-Free',
    displayName: 'FLUX.1 [schnell] Free',
    steps: { min: 1, max: 4, default: 4 },
    guidance: undefined,
    safetyCheckerCanBeDisabled: false,
    price: { unit: 'megapixel', usd: 0 },
    notes: 'Free tier; tight rate limits; the safety checker cannot be disabled.',
  }),
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.1-dev',
    displayName: 'FLUX.1 [dev]',
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1, max: 20, default: 3.5 },
    maxLoras: 2,
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 },
  }),
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.1-krea-dev',
    displayName: 'FLUX.1 Krea [dev]',
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1, max: 20, default: 4.5 },
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.1.1-pro',
    displayName: 'FLUX1.1 [pro]',
    sizing: 'dimensions',
    steps: undefined,
    guidance: undefined,
    imageInput: { kind: 'none' },
    safetyCheckerCanBeDisabled: false,
    price: { unit: 'megapixel', usd: 0.04 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.1-kontext-pro',
    displayName: 'FLUX.1 Kontext [pro]',
    sizing: 'aspect-ratio',
    steps: { min: 1, max: 50, default: 28 },
    guidance: undefined,
    imageInput: { kind: 'image_url', max: 1 },
    safetyCheckerCanBeDisabled: false,
    price: { unit: 'megapixel', usd: 0.04 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.1-kontext-max',
    displayName: 'FLUX.1 Kontext [max]',
    sizing: 'aspect-ratio',
    steps: { min: 1, max: 50, default: 28 },
    guidance: undefined,
    imageInput: { kind: 'image_url', max: 1 },
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'megapixel', usd: 0.08 },
  }),
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.1-kontext-dev',
    displayName: 'FLUX.1 Kontext [dev]',
    sizing: 'aspect-ratio',
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1, max: 20, default: 2.5 },
    negativePrompt: false,
    imageInput: { kind: 'image_url', max: 1 },
    price: { unit: 'megapixel', usd: 0.025, defaultSteps: 28 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.2-pro',
    displayName: 'FLUX.2 [pro]',
    sizing: 'dimensions',
    dimensions: { min: 256, max: 2048, multipleOf: 16, default: { width: 1024, height: 1024 } },
    steps: undefined,
    guidance: undefined,
    imageInput: { kind: 'reference_images', max: 8 },
    safetyCheckerCanBeDisabled: false,
    price: { unit: 'image', usd: 0.03 },
  }),
  entry({
    ...hostedFlux1,
    modelId: 'black-forest-labs/FLUX.2-dev',
    displayName: 'FLUX.2 [dev]',
    dimensions: { min: 256, max: 2048, multipleOf: 16, default: { width: 1024, height: 1024 } },
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1, max: 20, default: 4 },
    negativePrompt: false,
    imageInput: { kind: 'reference_images', max: 4 },
    maxLoras: 2,
    price: { unit: 'image', usd: 0.0154 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.2-flex',
    displayName: 'FLUX.2 [flex]',
    sizing: 'dimensions',
    dimensions: { min: 256, max: 2048, multipleOf: 16, default: { width: 1024, height: 1024 } },
    steps: { min: 1, max: 50, default: 28 },
    guidance: { min: 1.5, max: 10, default: 4.5 },
    imageInput: { kind: 'reference_images', max: 8 },
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'image', usd: 0.06 },
  }),
  entry({
    ...partner,
    modelId: 'black-forest-labs/FLUX.2-max',
    displayName: 'FLUX.2 [max]',
    sizing: 'dimensions',
    dimensions: { min: 256, max: 2048, multipleOf: 16, default: { width: 1024, height: 1024 } },
    steps: undefined,
    guidance: undefined,
    imageInput: { kind: 'none' },
    safetyCheckerCanBeDisabled: true,
    price: { unit: 'image', usd: 0.07 },
  }),
];

registerModels(TOGETHER_MODELS);

registerGenericCapabilities(PROVIDER, {
  sizing: 'dimensions',
  dimensions,
  aspectRatios: ratios,
  steps: { min: 1, max: 50, default: 20 },
  maxImagesPerCall: 1,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  guidance: { min: 0, max: 20, default: 3.5 },
  imageInput: { kind: 'image_url', max: 1 },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: true,
  outputFormats: formats,
  price: undefined,
});
