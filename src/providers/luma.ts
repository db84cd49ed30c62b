import type { ImageModelV3 } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import { InvalidRequestError } from '../errors/errors.js';
import { guardedFetch } from '../util/download.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions } from './lazy-adapter.js';

/**
 * Luma (Photon) through `@ai-sdk/luma` (2.x), loaded on first use.
 *
 * What the package does (dist source, 2.0.57): POST `/dream-machine/v1/generations/image` with
 * `{ prompt, aspect_ratio, model }` plus `providerOptions.luma` keys, polls
 * `/dream-machine/v1/generations/<id>` until `completed` and downloads `assets.image`; one image
 * per call; `size` and `seed` are dropped with warnings. Input images must be URLs (bytes throw a
 * plain Error); by default they are `image` references (up to 4, weight 0.85).
 *
 * What we add: the nearest supported ratio; a clear request error, before anything is sent, for
 * reference images that are files or bytes.
 */
export const LUMA_ENVIRONMENT_VARIABLES = ['LUMA_API_KEY'] as const;
export const LUMA_BASE_URL_VARIABLE = 'LUMA_BASE_URL';
const PROVIDER = 'luma';

type Entry = Capabilities;

const photon: Entry = {
  sizing: 'aspect-ratio',
  // Only the ratio of a requested size is used.
  dimensions: { min: 64, max: 4096, multipleOf: 1, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '3:4', '4:3', '9:16', '16:9', '9:21', '21:9'],
  steps: undefined,
  maxImagesPerCall: 1,
  acceptsN: false,
  acceptsSeed: false,
  negativePrompt: false,
  guidance: undefined,
  imageInput: { kind: 'reference_images', max: 4 },
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['jpeg'],
  price: undefined,
  notes: 'Reference images must be http(s) URLs; providerOptions.luma.referenceType picks image, style, character or modify_image.',
};

const entry = (modelId: string, displayName: string, price: number): ModelCapabilities => ({
  provider: PROVIDER,
  known: true,
  modelId,
  displayName,
  ...photon,
  price: { unit: 'megapixel', usd: price },
});

export const LUMA_MODELS: readonly ModelCapabilities[] = [entry('photon-1', 'Luma Photon', 0.0073), entry('photon-flash-1', 'Luma Photon Flash', 0.0019)];

/** What an id of this provider not listed above is assumed to take. */
export const LUMA_GENERIC: Capabilities = photon;

/** The part of `@ai-sdk/luma` the adapter uses. */
type LumaPackage = {
  createLuma(settings: { apiKey: string; baseURL?: string; fetch?: typeof fetch }): { image(modelId: string): ImageModelV3 };
};

export type LumaAdapterOptions = LazyAdapterOptions<LumaPackage>;

/** The Luma adapter; `luma` below is the one the toolkit registers. */
export function createLumaAdapter({ importPackage = () => importOptionalPackage<LumaPackage>('@ai-sdk/luma') }: LumaAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: LUMA_MODELS,
    genericCapabilities: LUMA_GENERIC,
    name: PROVIDER,
    optionsKey: 'luma',
    displayName: 'Luma',
    packageName: '@ai-sdk/luma',
    environmentVariables: LUMA_ENVIRONMENT_VARIABLES,
    baseUrlVariable: LUMA_BASE_URL_VARIABLE,
    importPackage,
    // The package polls the generation and downloads its image.
    createProvider: ({ createLuma }, settings) => createLuma({ ...settings, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call) => {
      const notUrls = plan.referenceImages.filter((image) => image.kind !== 'url');
      if (notUrls.length > 0) {
        // The package would throw a plain Error per call; this says what to do, and nothing is sent.
        throw new InvalidRequestError({
          issues: [{ field: 'referenceImages', value: notUrls.map((image) => image.source), message: 'Luma takes reference images as http(s) URLs only; upload the file and pass its URL' }],
        });
      }
      const images = plan.referenceImages.flatMap((image) => (image.kind === 'url' ? [image.url] : []));
      return {
        ...baseCall({ plan, call, optionsKey: 'luma', images }),
        maxImagesPerCall: 1,
        ...('aspectRatio' in plan.sizing ? { aspectRatio: plan.sizing.aspectRatio } : {}),
      };
    }),
  });
}

export const luma: ProviderAdapter = createLumaAdapter();
