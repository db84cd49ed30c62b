import type { ImageModelV3, ImageModelV3CallOptions } from '@ai-sdk/provider';
import type { ModelCapabilities } from '../shared/capabilities.js';
import type { Plan } from '../shared/plan.js';
import { RATIO_DIMENSIONS } from '../shared/sizing.js';
import { deriveSeed } from '../util/random.js';
import { renderPlaceholder } from '../placeholder/render.js';
import { withWarnings, type ProviderAdapter } from './adapter.js';

/**
 * `local:placeholder`: an AI SDK image model that renders a deterministic placeholder picture from
 * prompt + seed, labelled with prompt, model, seed and size (see render.ts). Not a diffusion model: it is for offline development, tests and
 * dry runs, and goes through the same `generateImage` path as every other provider.
 */
export const LOCAL_MODEL: ModelCapabilities = {
  provider: 'local',
  modelId: 'placeholder',
  displayName: 'Local placeholder renderer (offline, not a diffusion model)',
  known: true,
  sizing: 'dimensions',
  dimensions: { min: 8, max: 4096, multipleOf: 8, default: { width: 1024, height: 1024 } },
  aspectRatios: Object.keys(RATIO_DIMENSIONS),
  steps: { min: 1, max: 50, default: 4 },
  maxImagesPerCall: 4,
  acceptsN: true,
  acceptsSeed: true,
  negativePrompt: true,
  guidance: { min: 0, max: 20, default: 3.5 },
  imageInput: { kind: 'reference_images', max: 8 },
  maxLoras: 2,
  safetyCheckerCanBeDisabled: true,
  outputFormats: ['png', 'jpeg'],
  price: { unit: 'image', usd: 0 },
  notes: 'Draws a labelled placeholder from prompt + seed only; steps, guidance, negative prompt and input images are accepted and printed in the label, not drawn.',
};


export type LocalImageModelOptions = {
  /** Simulated latency per call, in milliseconds. @default 0 */
  latencyMs?: number;
};

/** Creates the placeholder model (an `ImageModelV3`). */
export function createLocalImageModel(modelId = 'placeholder', { latencyMs = 0 }: LocalImageModelOptions = {}): ImageModelV3 {
  return {
    specificationVersion: 'v3',
    provider: 'local',
    modelId,
    maxImagesPerCall: LOCAL_MODEL.maxImagesPerCall,
    async doGenerate({ prompt, n, size, aspectRatio, seed, providerOptions, abortSignal }: ImageModelV3CallOptions) {
      const [width, height] = size
        ? (size.split('x').map(Number) as [number, number])
        : (() => {
            const table = (aspectRatio && RATIO_DIMENSIONS[aspectRatio]) || LOCAL_MODEL.dimensions.default;
            return [table.width, table.height] as const;
          })();
      const format = providerOptions.local?.format === 'jpeg' ? 'jpeg' : 'png';
      const settings = typeof providerOptions.local?.settings === 'string' ? providerOptions.local.settings : undefined;
      if (latencyMs > 0) await delay(latencyMs, abortSignal);
      abortSignal?.throwIfAborted();
      const baseSeed = seed ?? 0;
      const seeds = Array.from({ length: n }, (_, index) => deriveSeed(baseSeed, index));
      return {
        images: seeds.map((imageSeed) => renderPlaceholder({ prompt: prompt ?? '', seed: imageSeed, width, height, format, model: `local:${modelId}`, settings })),
        warnings: [],
        providerMetadata: { local: { images: seeds.map((imageSeed) => ({ seed: imageSeed, width, height })) } },
        response: { timestamp: new Date(), modelId, headers: undefined },
      };
    },
  };
}

export const local: ProviderAdapter = {
  name: 'local',
  optionsKey: 'local',
  environmentVariables: [],
  models: [LOCAL_MODEL],
  createModel: (modelId) => createLocalImageModel(modelId),
  mapCall: withWarnings((plan, call) => {
    return {
      prompt: plan.prompt,
      n: call.n,
      maxImagesPerCall: LOCAL_MODEL.maxImagesPerCall,
      ...('size' in plan.sizing ? { size: plan.sizing.size } : { aspectRatio: plan.sizing.aspectRatio }),
      ...(call.seed === undefined ? {} : { seed: call.seed }),
      providerOptions: {
        local: {
          ...(plan.outputFormat ? { format: plan.outputFormat } : {}),
          ...(describeSettings(plan) === '' ? {} : { settings: describeSettings(plan) }),
          ...(plan.providerOptions?.local as object),
        },
      },
    };
  }),
};

/** The settings beside prompt, seed, size and model that the picture was asked with, for its label. */
export function describeSettings(plan: Plan): string {
  const parts = [
    plan.steps === undefined ? undefined : `steps ${plan.steps}`,
    plan.guidance === undefined ? undefined : `guidance ${plan.guidance}`,
    plan.negativePrompt === undefined ? undefined : `not: ${plan.negativePrompt}`,
    plan.referenceImages.length === 0 ? undefined : `${plan.referenceImages.length} input image${plan.referenceImages.length === 1 ? '' : 's'}`,
    plan.loras === undefined || plan.loras.length === 0 ? undefined : `${plan.loras.length} lora${plan.loras.length === 1 ? '' : 's'}`,
    plan.promptUpsampling === undefined ? undefined : `upsampling ${plan.promptUpsampling ? 'on' : 'off'}`,
    plan.disableSafetyChecker ? 'safety off' : undefined,
    plan.outputFormat === undefined ? undefined : plan.outputFormat,
  ];
  return parts.filter((part) => part !== undefined).join(', ');
}

function delay(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, milliseconds);
    signal?.addEventListener('abort', () => {
      clearTimeout(timer);
      reject(signal.reason);
    }, { once: true });
  });
}
