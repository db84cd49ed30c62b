import type { ImageModelV3, JSONValue } from '@ai-sdk/provider';
import { type Capabilities, type ModelCapabilities } from '../shared/capabilities.js';
import { InvalidRequestError, MissingApiKeyError } from '../errors/errors.js';
import type { Plan, ReferenceImage } from '../shared/plan.js';
import { withWarnings, type Warn, type ProviderAdapter } from './adapter.js';
import { maskAs } from './mask.js';
import { baseCall, createLazyAdapter, importOptionalPackage, type LazyAdapterOptions, readSecret } from './lazy-adapter.js';
import { guardedFetch } from '../util/download.js';

/**
 * Amazon Bedrock (Nova Canvas) through `@ai-sdk/amazon-bedrock` (4.x), loaded on first use.
 *
 * What the package does (dist source, 4.0.186): POST `<endpoint>/model/<id>/invoke` with
 * `{ taskType: 'TEXT_IMAGE', textToImageParams: { text, negativeText, style },
 * imageGenerationConfig: { width, height, seed, numberOfImages, quality, cfgScale } }`; input
 * images switch to `IMAGE_VARIATION` (bytes only: URLs throw). `aspectRatio` is dropped with a
 * warning. `seed` is sent only when truthy, so **seed 0 is silently not sent**. Credentials: an
 * API key (`AWS_BEARER_TOKEN_BEDROCK`, sent as a bearer token) or SigV4 access keys with a region;
 * the endpoint comes from `AWS_ENDPOINT_URL_BEDROCK_RUNTIME` or `AWS_ENDPOINT_URL` when set.
 *
 * What we add: an aspect ratio as a size; up to 5 images per request; guidance as `cfgScale` and
 * the negative prompt as `negativeText`; seeds brought into Nova Canvas's range (0–858,993,459)
 * and seed 0 reported; a clear request error for reference images given as URLs; a mask (which
 * makes the package send INPAINTING with the first image) made pure black where to repaint on white.
 */
export const AMAZON_BEDROCK_ENVIRONMENT_VARIABLES = ['AWS_BEARER_TOKEN_BEDROCK', 'AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY'] as const;
const PROVIDER = 'amazon-bedrock';
/** Nova Canvas seeds (AWS's request schema). */
const MAX_SEED = 858_993_459;

type Entry = Capabilities;

const novaCanvas: Entry = {
  sizing: 'dimensions',
  // AWS: sides 320–4096 in steps of 16, at most 4,194,304 pixels, ratio 1:4 to 4:1.
  dimensions: { min: 320, max: 4096, multipleOf: 16, default: { width: 1024, height: 1024 } },
  aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
  steps: undefined,
  maxImagesPerCall: 5,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  guidance: { min: 1.1, max: 10, default: 6.5 },
  imageInput: { kind: 'reference_images', max: 5 },
  // AWS's Nova Canvas guide: INPAINTING repaints where its mask is pure black.
  acceptsMask: true,
  maxLoras: 0,
  safetyCheckerCanBeDisabled: false,
  outputFormats: ['png'],
  price: { unit: 'image', usd: 0.04 },
  notes:
    'Reference images (image variation) must be files or bytes, not URLs; with a mask, one image is inpainted (sent black where to repaint). quality and style through providerOptions.bedrock.',
};

export const AMAZON_BEDROCK_MODELS: readonly ModelCapabilities[] = [
  { provider: PROVIDER, known: true, modelId: 'amazon.nova-canvas-v1:0', displayName: 'Amazon Nova Canvas', ...novaCanvas },
];

/** What an id of this provider not listed above is assumed to take. */
export const AMAZON_BEDROCK_GENERIC: Capabilities = { ...novaCanvas, maxImagesPerCall: 1 };
// The package gives other ids one image per call and the same request shape.

/** The part of `@ai-sdk/amazon-bedrock` the adapter uses. */
type AmazonBedrockPackage = {
  createAmazonBedrock(settings: {
    apiKey?: string;
    region?: string;
    accessKeyId?: string;
    secretAccessKey?: string;
    sessionToken?: string;
    fetch?: typeof fetch;
  }): { image(modelId: string): ImageModelV3 };
};

export type AmazonBedrockAdapterOptions = LazyAdapterOptions<AmazonBedrockPackage>;

/** The Amazon Bedrock adapter; `amazonBedrock` below is the one the toolkit registers. */
export function createAmazonBedrockAdapter({
  importPackage = () => importOptionalPackage<AmazonBedrockPackage>('@ai-sdk/amazon-bedrock'),
}: AmazonBedrockAdapterOptions = {}): ProviderAdapter {
  return createLazyAdapter({
    models: AMAZON_BEDROCK_MODELS,
    genericCapabilities: AMAZON_BEDROCK_GENERIC,
    name: PROVIDER,
    optionsKey: 'bedrock',
    displayName: 'Amazon Bedrock',
    packageName: '@ai-sdk/amazon-bedrock',
    environmentVariables: AMAZON_BEDROCK_ENVIRONMENT_VARIABLES,
    importPackage,
    loadSettings: loadCredentials,
    createProvider: ({ createAmazonBedrock }, credentials) => createAmazonBedrock({ ...credentials, fetch: guardedFetch() }),

    mapCall: withWarnings((plan, call, warn) => {
      const urls = plan.referenceImages.filter((image) => image.kind === 'url');
      if (urls.length > 0) {
        // The package would throw a plain Error per call; this says what to do, and nothing is sent.
        throw new InvalidRequestError({
          issues: [{ field: 'referenceImages', value: urls.map((image) => image.source), message: 'Amazon Bedrock takes reference images as files or bytes only; download the image first' }],
        });
      }
      const images = plan.referenceImages.flatMap((image) => (image.kind === 'bytes' ? [image.data] : []));
      const mask = plan.mask === undefined ? undefined : inpaintingMask(plan, plan.mask, images.length, warn);
      const options: Record<string, JSONValue> = {};
      if (plan.negativePrompt !== undefined) options.negativeText = plan.negativePrompt;
      if (plan.guidance !== undefined) options.cfgScale = plan.guidance;
      const seed = seedFor(call.seed, warn);
      return {
        ...baseCall({ plan, call, optionsKey: 'bedrock', options, images, mask }),
        // Inpainting keeps the image's own size.
        ...('size' in plan.sizing && mask === undefined ? { size: plan.sizing.size } : {}),
        ...(seed === undefined ? {} : { seed }),
      };
    }),
  });
}

export const amazonBedrock: ProviderAdapter = createAmazonBedrockAdapter();

/**
 * The mask as Nova Canvas's INPAINTING reads it: pure black where to repaint on pure white, as
 * bytes (the package throws on URLs), for the one image it repaints.
 */
function inpaintingMask(plan: Plan, mask: ReferenceImage, imageCount: number, warn: Warn): Uint8Array {
  if (mask.kind === 'url') {
    throw new InvalidRequestError({ issues: [{ field: 'mask', value: mask.source, message: 'Amazon Bedrock takes a mask as a file or bytes only; download it first' }] });
  }
  if (imageCount > 1) {
    throw new InvalidRequestError({
      issues: [{ field: 'referenceImages', value: plan.resolved.referenceImages, message: 'with a mask, Nova Canvas repaints one image (INPAINTING): give one reference image' }],
    });
  }
  return maskAs(mask, 'black-on-white', { warn: (message) => warn('mask', `${plan.model.displayName} takes pure black and white masks: ${message}`) }) as Uint8Array;
}

/**
 * The seed sent: within Nova Canvas's range (the same seed always maps to the same value, so
 * results stay reproducible from the recorded seed), and a warning for 0, which the package drops.
 */
function seedFor(seed: number | undefined, warn: Warn): number | undefined {
  if (seed === undefined) return undefined;
  if (seed === 0) {
    warn('seed', '@ai-sdk/amazon-bedrock does not send seed 0 (it checks for a truthy seed), so that image is not reproducible; use another seed');
    return undefined;
  }
  if (seed <= MAX_SEED) return seed;
  warn('seed', `Nova Canvas takes seeds up to ${MAX_SEED}; larger seeds are sent modulo ${MAX_SEED + 1}`);
  return seed % (MAX_SEED + 1);
}

/**
 * An API key, else SigV4 access keys (with a session token when set). The region and the endpoint
 * (AWS_REGION, AWS_ENDPOINT_URL_BEDROCK_RUNTIME) are read by the package.
 */
function loadCredentials(): { apiKey: string } | { accessKeyId: string; secretAccessKey: string; sessionToken?: string } {
  const apiKey = readSecret('AWS_BEARER_TOKEN_BEDROCK');
  if (apiKey !== undefined) return { apiKey };
  const accessKeyId = readSecret('AWS_ACCESS_KEY_ID');
  const secretAccessKey = readSecret('AWS_SECRET_ACCESS_KEY');
  if (accessKeyId === undefined || secretAccessKey === undefined) {
    throw new MissingApiKeyError({ provider: 'Amazon Bedrock', environmentVariables: AMAZON_BEDROCK_ENVIRONMENT_VARIABLES });
  }
  const sessionToken = readSecret('AWS_SESSION_TOKEN');
  return { accessKeyId, secretAccessKey, ...(sessionToken === undefined ? {} : { sessionToken }) };
}
