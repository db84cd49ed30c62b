import type { ImageModelV3 } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

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

type Entry = Capabilities;

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

/** What an id of this provider not listed above is assumed to take. */
export const XAI_GENERIC: Capabilities = grokImagine;

/** The part of `@ai-sdk/xai` the adapter uses. */
type XaiPackage = {
  createXai(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type XaiAdapterOptions = LazyAdapterOptions<XaiPackage>;

/** The xAI adapter; `xai` below is the one the toolkit registers. */
export function createXaiAdapter({ importPackage = () => importOptionalPackage<XaiPackage>('@ai-sdk/xai') }: XaiAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: XAI_MODELS,
    genericCapabilities: XAI_GENERIC,
    name: PROVIDER,
    optionsKey: 'xai',
    displayName: 'xAI',
    packageName: '@ai-sdk/xai',
    environmentVariables: XAI_ENVIRONMENT_VARIABLES,
    baseUrlVariable: XAI_BASE_URL_VARIABLE,
    importPackage,
    createProvider: ({ createXai }, settings) => createXai({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call) => {
      return {
        ...baseCall({ plan, call, optionsKey: 'xai' }),
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
      };
    }),
  });
}

export const xai: ProviderAdapter = createXaiAdapter();
