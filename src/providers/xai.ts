import type { ImageModelV3, JSONValue, SharedV3Warning } from '@ai-sdk/provider';
import { registerGenericCapabilities, registerModels, type ModelCapabilities } from '../catalog.js';
import { MissingApiKeyError, MissingProviderPackageError, registerSecret } from '../errors.js';
import { nearestAspectRatio, ratioValue } from '../sizing.js';
import { readEnvironment, type ProviderAdapter } from './adapter.js';

/**
 * xAI (Grok Imagine) through `@ai-sdk/xai` (3.x), loaded on first use.
 *
 * What the package does (dist source, 3.0.138): POST `/images/generations` (or `/images/edits`
 * with input images) with `{ model, prompt, n, response_format: 'b64_json', aspect_ratio }`;
 * `size`, `seed` and a mask are dropped with warnings; `maxImagesPerCall` is 3.
 *
 * Where sources disagree: FACTS.md and the package say 3 images per call; xAI's API takes `n` from
 * 1 to 10, so we send up to 10 in one request. Ratios are the package docs' list (no `auto`).
 */
export const XAI_ENVIRONMENT_VARIABLES = ['XAI_API_KEY'] as const;
export const XAI_BASE_URL_VARIABLE = 'XAI_BASE_URL';
const PROVIDER = 'xai';
const PACKAGE_NAME = '@ai-sdk/xai';

type Entry = Omit<ModelCapabilities, 'provider' | 'known' | 'modelId' | 'displayName'>;

const grokImagine: Entry = {
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3', '2:1', '1:2', '19.5:9', '9:19.5', '20:9', '9:20'],
  steps: undefined,
  maxImagesPerCall: 10,
  acceptsN: true,
  acceptsSeed: false,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'reference_images', max: 3 },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['jpeg'],
  price: undefined,
  notes: 'Resolution 1k or 2k and quality through providerOptions.xai.',
};

const entry = (modelId: string, displayName: string): ModelCapabilities => ({
  provider: PROVIDER,
  known: true,
  modelId,
  displayName,
  ...grokImagine,
});

export const XAI_MODELS: readonly ModelCapabilities[] = [
  entry('grok-imagine-image', 'Grok Imagine Image'),
  entry('grok-imagine-image-quality', 'Grok Imagine Image (quality)'),
  entry('grok-imagine-image-pro', 'Grok Imagine Image Pro (being replaced by -quality)'),
];

registerModels(XAI_MODELS);
registerGenericCapabilities(PROVIDER, grokImagine);

/** The part of `@ai-sdk/xai` the adapter uses. */
type XaiPackage = {
  createXai(settings: { apiKey: string; baseURL?: string }): { image(modelId: string): ImageModelV3 };
};

export type XaiAdapterOptions = {
  /** Loads `@ai-sdk/xai`; replaceable so tests can simulate it missing. */
  importPackage?: () => Promise<XaiPackage>;
};

/** The xAI adapter; `xai` below is the one the toolkit registers. */
export function createXaiAdapter({ importPackage = () => import('@ai-sdk/xai') }: XaiAdapterOptions = {}): ProviderAdapter {
  return {
    name: PROVIDER,
    optionsKey: 'xai',
    environmentVariables: XAI_ENVIRONMENT_VARIABLES,

    async createModel(modelId) {
      const { createXai } = await loadPackage(importPackage);
      const apiKey = loadApiKey(XAI_ENVIRONMENT_VARIABLES);
      if (apiKey === undefined) throw new MissingApiKeyError({ provider: 'xAI', environmentVariables: XAI_ENVIRONMENT_VARIABLES });
      const baseURL = readEnvironment(XAI_BASE_URL_VARIABLE);
      return createXai({ apiKey, ...(baseURL === undefined ? {} : { baseURL }) }).image(modelId);
    },

    mapCall(plan, call) {
      const images = plan.referenceImages.map((image) => image.url ?? image.data!);
      return {
        prompt: images.length > 0 ? { text: plan.prompt, images } : plan.prompt,
        n: call.n,
        maxImagesPerCall: plan.model.acceptsN ? plan.model.maxImagesPerCall : 1,
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
        providerOptions: { xai: { ...(plan.providerOptions?.xai as Record<string, JSONValue> | undefined) } },
      };
    },

    transformParams(params, model) {
      const warnings: SharedV3Warning[] = [];
      let { size, aspectRatio } = params;
      const wanted = aspectRatio ?? size;
      if (wanted !== undefined) {
        const nearest = nearestAspectRatio(ratioValue(wanted), model.aspectRatios) as `${number}:${number}`;
        if (nearest !== wanted) warnings.push({ type: 'other', message: `${model.displayName} takes ${model.aspectRatios.join(', ')}; sent ${nearest} for ${wanted}` });
        aspectRatio = nearest;
        size = undefined;
      }
      return { params: { ...params, size, aspectRatio }, warnings };
    },
  };
}

export const xai: ProviderAdapter = createXaiAdapter();

function loadApiKey(names: readonly string[]): string | undefined {
  for (const name of names) {
    const value = readEnvironment(name);
    if (value !== undefined) {
      registerSecret(value);
      return value;
    }
  }
  return undefined;
}

async function loadPackage<Package>(importPackage: () => Promise<Package>): Promise<Package> {
  try {
    return await importPackage();
  } catch (error) {
    // Only "not found" means not installed; a package that fails to load for another reason says so itself.
    const { code, message } = (error ?? {}) as { code?: unknown; message?: unknown };
    if (String(code).includes('MODULE_NOT_FOUND') || String(message).includes(PACKAGE_NAME)) {
      throw new MissingProviderPackageError({ provider: 'xAI', packageName: PACKAGE_NAME, cause: error });
    }
    throw error;
  }
}
