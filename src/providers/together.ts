import type { JSONValue } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { MissingApiKeyError, registerSecret } from '../errors.js';
import type { Plan, PlannedCall } from '../plan.js';
import { readEnvironment, toDataUrl, type ProviderAdapter, type ProviderCall, type ResponseCapture } from './adapter.js';
import './together-models.js';

/**
 * Together AI through `@ai-sdk/togetherai`. What we add over the AI SDK provider (FACTS.md):
 * `n` up to 4 in one request, aspect ratio honoured (table dimensions or `aspect_ratio`),
 * `guidance_scale` (the official name), input images as `image_url` / `reference_images`,
 * and Together's `id` and `timings`, which the AI SDK drops, captured from the raw response.
 */
export const TOGETHER_ENVIRONMENT_VARIABLES = ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY'] as const;
export const TOGETHER_BASE_URL_VARIABLE = 'TOGETHER_BASE_URL';

/** The key from `TOGETHER_API_KEY` or `TOGETHER_AI_API_KEY`, or `undefined`. */
export function loadTogetherApiKey(): string | undefined {
  for (const name of TOGETHER_ENVIRONMENT_VARIABLES) {
    const value = readEnvironment(name);
    if (value !== undefined) {
      registerSecret(value);
      return value;
    }
  }
  return undefined;
}

export const together: ProviderAdapter = {
  name: 'togetherai',
  optionsKey: 'togetherai',
  environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES,

  createModel(modelId, { capture }) {
    const apiKey = loadTogetherApiKey();
    if (apiKey === undefined) {
      throw new MissingApiKeyError({ provider: 'Together AI', environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
    }
    const baseURL = readEnvironment(TOGETHER_BASE_URL_VARIABLE);
    return createTogetherAI({
      apiKey,
      ...(baseURL === undefined ? {} : { baseURL }),
      ...(capture === undefined ? {} : { fetch: capturingFetch(capture) }),
    }).image(modelId);
  },

  mapCall(plan: Plan, call: PlannedCall): ProviderCall {
    return {
      prompt: plan.prompt,
      n: call.n,
      maxImagesPerCall: plan.model.acceptsN ? plan.model.maxImagesPerCall : 1,
      ...('size' in plan.sizing ? { size: plan.sizing.size } : {}),
      ...(call.seed === undefined ? {} : { seed: call.seed }),
      providerOptions: { togetherai: { ...togetherOptions(plan), ...(plan.providerOptions?.togetherai as Record<string, JSONValue>) } },
    };
  },
};

/** The `providerOptions.togetherai` body fields for a plan, named as Together's schema names them. */
function togetherOptions(plan: Plan): Record<string, JSONValue> {
  const options: Record<string, JSONValue> = {};
  if ('aspectRatio' in plan.sizing) options.aspect_ratio = plan.sizing.aspectRatio;
  if (plan.steps !== undefined) options.steps = plan.steps;
  if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
  if (plan.guidance !== undefined) options.guidance_scale = plan.guidance;
  const images = plan.referenceImages.map((image) => image.url ?? toDataUrl(image.data!, image.mediaType!));
  if (images.length > 0) {
    if (plan.model.imageInput.kind === 'reference_images') options.reference_images = images;
    else options.image_url = images[0]!;
  }
  if (plan.loras !== undefined) options.image_loras = plan.loras;
  if (plan.disableSafetyChecker) options.disable_safety_checker = true;
  if (plan.outputFormat !== undefined) options.output_format = plan.outputFormat;
  return options;
}

/** A fetch that hands Together's `id` and `timings` to `capture` before the AI SDK drops them. */
export function capturingFetch(capture: ResponseCapture, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (response.ok) {
      try {
        const body = (await response.clone().json()) as { id?: unknown; data?: { timings?: { inference?: number } }[] };
        capture({
          ...(typeof body.id === 'string' ? { id: body.id } : {}),
          ...(Array.isArray(body.data) ? { timings: body.data.map((item) => item?.timings) } : {}),
        });
      } catch {
        // A body that is not JSON is reported by the AI SDK's own parser.
      }
    }
    return response;
  };
}
