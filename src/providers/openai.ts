import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities, catalogEntry } from '../shared/capabilities.js';
import { ratioValue } from '../shared/sizing.js';
import { imageInputs, withWarnings, type ProviderAdapter } from './adapter.js';
import { maskAs } from './mask.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

/**
 * OpenAI image models through `@ai-sdk/openai` (3.x), loaded on first use.
 *
 * What the package does (dist source, 3.0.141): `size` goes out as is; `aspectRatio` and `seed` are
 * dropped with an "unsupported" warning; `maxImagesPerCall` is 1 for dall-e-3 and 10 for dall-e-2
 * and every `gpt-image-*`; input images switch the call to `/images/edits` (multipart), where the
 * `moderation` option does not exist; `prompt.mask` goes with them as the `mask` file (a URL
 * downloaded by the package), which OpenAI reads by its transparency.
 *
 * What we add: sizes snapped to what each model takes (three fixed sizes for most models, see
 * `FIXED_SIZES`), so an aspect ratio is honoured as nearly as the model allows; `outputFormat`;
 * `safetyChecker: false` as `moderation: 'low'`, the nearest OpenAI offers; a black-and-white mask
 * made a PNG with transparency where it is white.
 */
export const OPENAI_ENVIRONMENT_VARIABLES = ['OPENAI_API_KEY'] as const;
/** Read by the package itself too. */
export const OPENAI_BASE_URL_VARIABLE = 'OPENAI_BASE_URL';
const PROVIDER = 'openai';

/** The sizes each fixed-size model takes (package docs, "Model Capabilities"). */
const FIXED_SIZES: Readonly<Record<string, readonly `${number}x${number}`[]>> = {
  'dall-e-2': ['256x256', '512x512', '1024x1024'],
  'dall-e-3': ['1024x1024', '1792x1024', '1024x1792'],
  'gpt-image-1': ['1024x1024', '1536x1024', '1024x1536'],
  'gpt-image-1-mini': ['1024x1024', '1536x1024', '1024x1536'],
  'gpt-image-1.5': ['1024x1024', '1536x1024', '1024x1536'],
  'gpt-image-2': ['1024x1024', '1536x1024', '1024x1536'],
  'chatgpt-image-latest': ['1024x1024', '1536x1024', '1024x1536'],
};

/**
 * USD per million tokens for the GPT Image models whose prices OpenAI's model pages state (text
 * input, image input, image output): what prices a call's reported tokens as its actual cost.
 * Models not listed have no actual cost, only what the catalog estimates.
 */
export const OPENAI_TOKEN_PRICES: Readonly<Record<string, { textInput: number; imageInput: number; imageOutput: number }>> = {
  // developers.openai.com/api/docs/models/gpt-image-1: text $5.00, image $10.00 in, $40.00 out.
  'gpt-image-1': { textInput: 5, imageInput: 10, imageOutput: 40 },
  // developers.openai.com/api/docs/models/gpt-image-1-mini: text $2.00, image $2.50 in, $8.00 out.
  'gpt-image-1-mini': { textInput: 2, imageInput: 2.5, imageOutput: 8 },
};

/** Custom sizes of the 2.5/2.6 models: multiples of 16, this many pixels (package docs). */
const CUSTOM_AREA = { min: 655_360, max: 8_294_400 };

type Entry = Capabilities;

const gptImage: Entry = {
  sizing: 'dimensions',
  // Loose limits: the planner checks these, then `chooseSize` snaps to a size the model takes.
  dimensions: { min: 256, max: 1536, multipleOf: 8, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '3:2', '2:3'],
  steps: undefined,
  maxImagesPerCall: 10,
  acceptsN: true,
  acceptsSeed: false,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'reference_images', max: 16 },
  // OpenAI's image edit reference: a mask (transparent where to edit) applies to the first image.
  acceptsMask: true,
  // OpenAI's image edit reference: each image a PNG, WebP or JPEG under 50 MB (GPT Image models).
  maxInputImageBytes: 50 * 1024 * 1024,
  maxLoras: 0,
  safetyCheckerCanBeDisabled: true,
  outputFormats: ['png', 'jpeg'],
  price: undefined,
  notes: 'Token-priced. safetyChecker: false sends moderation: "low" (generation only); sizes snap to 1024x1024, 1536x1024 or 1024x1536.',
};

const gptImageCustom: Entry = {
  ...gptImage,
  dimensions: { min: 256, max: 3840, multipleOf: 16, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '3:1', '1:3'],
  notes: 'Token-priced. Custom sizes: multiples of 16, ratios 1:3 to 3:1, 655,360 to 8,294,400 pixels (smaller sizes are scaled up).',
};

const entry = (modelId: string, displayName: string, capabilities: Entry) => catalogEntry(PROVIDER, modelId, displayName, capabilities);

export const OPENAI_MODELS: readonly ModelCapabilities[] = [
  entry('dall-e-2', 'DALL·E 2', {
    ...gptImage,
    dimensions: { min: 256, max: 1024, multipleOf: 8, default: { width: 1024, height: 1024 } },
    aspectRatios: ['1:1'],
    imageInput: { kind: 'image_url', max: 1 },
    // OpenAI's image edit reference: DALL·E 2 takes one square PNG under 4 MB.
    maxInputImageBytes: 4 * 1024 * 1024,
    safetyCheckerCanBeDisabled: false,
    outputFormats: ['png'],
    price: { unit: 'image', usd: 0.02 },
    notes: 'Square sizes only: 256x256, 512x512, 1024x1024.',
  }),
  entry('dall-e-3', 'DALL·E 3', {
    ...gptImage,
    dimensions: { min: 256, max: 1792, multipleOf: 8, default: { width: 1024, height: 1024 } },
    aspectRatios: ['1:1', '7:4', '4:7'],
    maxImagesPerCall: 1,
    imageInput: { kind: 'none' },
    acceptsMask: false,
    safetyCheckerCanBeDisabled: false,
    outputFormats: ['png'],
    price: { unit: 'image', usd: 0.04 },
    notes: 'One image per request; sizes 1024x1024, 1792x1024, 1024x1792.',
  }),
  entry('gpt-image-1', 'GPT Image 1', gptImage),
  entry('gpt-image-1-mini', 'GPT Image 1 mini', gptImage),
  entry('gpt-image-1.5', 'GPT Image 1.5', gptImage),
  entry('gpt-image-2', 'GPT Image 2', gptImage),
  entry('chatgpt-image-latest', 'ChatGPT Image (latest)', gptImage),
  entry('gpt-image-2.5-flare', 'GPT Image 2.5 Flare', gptImageCustom),
  entry('gpt-image-2.5-flare-2026-09-08', 'GPT Image 2.5 Flare (2026-09-08)', gptImageCustom),
  entry('gpt-image-2.5-sunburst', 'GPT Image 2.5 Sunburst', gptImageCustom),
  entry('gpt-image-2.5-sunburst-2026-09-08', 'GPT Image 2.5 Sunburst (2026-09-08)', gptImageCustom),
  entry('gpt-image-2.6-flare', 'GPT Image 2.6 Flare', gptImageCustom),
  entry('gpt-image-2.6-sunburst', 'GPT Image 2.6 Sunburst', gptImageCustom),
];

/** What an id of this provider not listed above is assumed to take. */
export const OPENAI_GENERIC: Capabilities = gptImageCustom;
// Unknown ids are most likely newer gpt-image models: the package gives those 10 per call too.

/** The part of `@ai-sdk/openai` the adapter uses. */
type OpenAIPackage = {
  createOpenAI(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type OpenAIAdapterOptions = LazyAdapterOptions<OpenAIPackage>;

/** The OpenAI adapter; `openai` below is the one the toolkit registers. */
export function createOpenAIAdapter({ importPackage = () => importOptionalPackage<OpenAIPackage>('@ai-sdk/openai') }: OpenAIAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: OPENAI_MODELS,
    genericCapabilities: OPENAI_GENERIC,
    name: PROVIDER,
    optionsKey: 'openai',
    displayName: 'OpenAI',
    packageName: '@ai-sdk/openai',
    environmentVariables: OPENAI_ENVIRONMENT_VARIABLES,
    baseUrlVariable: OPENAI_BASE_URL_VARIABLE,
    importPackage,
    createProvider: ({ createOpenAI }, settings) => createOpenAI({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const chosen = chooseSize(plan.modelId, plan.width, plan.height);
      if (chosen.size !== `${plan.width}x${plan.height}`) {
        warn('size', `${plan.model.displayName} ${chosen.reason}; sent ${chosen.size} instead of ${plan.width}x${plan.height}`);
      }
      const images = imageInputs(plan);
      const options: Record<string, JSONValue> = {};
      // DALL·E always returns PNG and takes no output_format (the catalog refuses jpeg for it).
      if (plan.outputFormat !== undefined && !plan.modelId.startsWith('dall-e')) options.outputFormat = plan.outputFormat;
      if (plan.disableSafetyChecker) {
        if (images.length > 0) {
          warn('safetyChecker', `OpenAI's edit endpoint takes no moderation setting; its default moderation applies`);
        } else {
          options.moderation = 'low';
          warn('safetyChecker', `OpenAI's moderation cannot be turned off; sent moderation: "low", its least restrictive level`);
        }
      }
      const mask = plan.mask === undefined ? undefined : maskAs(plan.mask, 'alpha');
      return { ...baseCall({ plan, call, optionsKey: 'openai', options, images, mask }), size: chosen.size };
    }),
  });
}

export const openai: ProviderAdapter = createOpenAIAdapter();

/**
 * The size sent for a wanted width and height: the nearest fixed size (closest ratio first, then
 * closest area), or for custom-size models the same ratio scaled into the allowed pixel count.
 */
function chooseSize(modelId: string, width: number, height: number): { size: `${number}x${number}`; reason: string } {
  const sizes = FIXED_SIZES[modelId];
  if (sizes === undefined) {
    const area = width * height;
    const scale = area < CUSTOM_AREA.min ? Math.sqrt(CUSTOM_AREA.min / area) : area > CUSTOM_AREA.max ? Math.sqrt(CUSTOM_AREA.max / area) : 1;
    const round = scale >= 1 ? Math.ceil : Math.floor;
    const snap = (side: number) => round((side * scale) / 16) * 16;
    return { size: `${snap(width)}x${snap(height)}`, reason: `takes ${CUSTOM_AREA.min.toLocaleString('en')} to ${CUSTOM_AREA.max.toLocaleString('en')} pixels` };
  }
  const wanted = width / height;
  const distance = (size: string) => {
    const [sizeWidth, sizeHeight] = size.split('x').map(Number) as [number, number];
    return [Math.abs(Math.log(wanted / ratioValue(size))), Math.abs(Math.log((width * height) / (sizeWidth * sizeHeight)))] as const;
  };
  const best = [...sizes].sort((first, second) => {
    const [firstRatio, firstArea] = distance(first);
    const [secondRatio, secondArea] = distance(second);
    return firstRatio - secondRatio || firstArea - secondArea;
  })[0]!;
  return { size: best, reason: `takes only ${sizes.join(', ')}` };
}
