import type { JSONValue } from '@ai-sdk/provider';
import type { Plan, PlannedCall } from '../pipeline/plan.js';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { InvalidApiKeyError, InvalidResponseError, MissingApiKeyError, ProviderError, registerSecret } from '../errors.js';
import { readEnvironment, toDataUrl, withWarnings, type ProviderAdapter, type ProviderCall, type ResponseCapture } from './adapter.js';
import { TOGETHER_GENERIC, TOGETHER_MODELS } from './together-models.js';

/**
 * Together AI through `@ai-sdk/togetherai`. What we add over the AI SDK provider (FACTS.md):
 * `n` up to 4 in one request, aspect ratio honoured (table dimensions or `aspect_ratio`),
 * guidance under the name each model reads, `prompt_upsampling`, input images as `image_url` /
 * `reference_images`,
 * and Together's `id` and `timings`, which the AI SDK drops, captured from the raw response.
 */
export const TOGETHER_ENVIRONMENT_VARIABLES = ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY'] as const;
export const TOGETHER_BASE_URL_VARIABLE = 'TOGETHER_BASE_URL';
const TOGETHER_DEFAULT_BASE_URL = 'https://api.together.xyz/v1';

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
  models: TOGETHER_MODELS,
  genericCapabilities: TOGETHER_GENERIC,

  createModel(modelId, { capture } = {}) {
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

  mapCall: withWarnings((plan: Plan, call: PlannedCall): ProviderCall => ({
      prompt: plan.prompt,
      n: call.n,
      maxImagesPerCall: plan.model.acceptsN ? plan.model.maxImagesPerCall : 1,
      ...('size' in plan.sizing ? { size: plan.sizing.size } : {}),
      ...(call.seed === undefined ? {} : { seed: call.seed }),
      providerOptions: { togetherai: { ...togetherOptions(plan), ...(plan.providerOptions?.togetherai as Record<string, JSONValue>) } },
  })),

  // An app's own `createTogetherAI(...)` model: the AI SDK's Together model (2.x and 3.x alike)
  // sends through `this.config.fetch`, so a copy whose config wraps that fetch captures the `id`
  // and `timings` it drops. Anything else (a wrapped or custom model) is used as it is.
  captureResponses(model, capture) {
    const config: unknown = (model as { config?: unknown }).config;
    if (!model.provider.startsWith('togetherai') || !isTogetherConfig(config)) return undefined;
    const appFetch = config.fetch;
    const copy = Object.create(model) as typeof model;
    Object.defineProperty(copy, 'config', {
      value: { ...config, fetch: capturingFetch(capture, (input, init) => (appFetch ?? globalThis.fetch)(input, init)) },
    });
    return copy;
  },

  // `GET /models` [openapi `ModelInfoList`]: every model type; image models have `type: "image"`.
  async listModels({ fetch, apiKey = loadTogetherApiKey(), baseURL = readEnvironment(TOGETHER_BASE_URL_VARIABLE), abortSignal }) {
    if (apiKey === undefined) {
      throw new MissingApiKeyError({ provider: 'Together AI', environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
    }
    registerSecret(apiKey);
    const url = `${(baseURL ?? TOGETHER_DEFAULT_BASE_URL).replace(/\/+$/, '')}/models`;
    const response = await fetch(url, { headers: { authorization: `Bearer ${apiKey}`, accept: 'application/json' }, ...(abortSignal ? { signal: abortSignal } : {}) });
    const text = await response.text();
    if (!response.ok) {
      const fields = { provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, providerMessage: errorMessageOf(text) };
      if (response.status === 401) throw new InvalidApiKeyError({ ...fields, environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
      throw new ProviderError(fields);
    }
    let body: unknown;
    try {
      body = JSON.parse(text);
    } catch {
      throw new InvalidResponseError({ provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, detail: 'the model list is not JSON' });
    }
    // The schema says a bare array; OpenAI-style `{ data: [...] }` is accepted too.
    const items = Array.isArray(body) ? body : Array.isArray((body as { data?: unknown })?.data) ? (body as { data: unknown[] }).data : undefined;
    if (items === undefined) {
      throw new InvalidResponseError({ provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, detail: 'the model list is not an array' });
    }
    return items.flatMap((item) => {
      const model = item as { id?: unknown; type?: unknown; display_name?: unknown; organization?: unknown };
      if (typeof model?.id !== 'string' || model.type !== 'image') return [];
      return [{
        id: model.id,
        ...(typeof model.display_name === 'string' ? { displayName: model.display_name } : {}),
        ...(typeof model.organization === 'string' ? { organization: model.organization } : {}),
      }];
    });
  },

  // The AI SDK provider warns "aspectRatio is not supported" whenever `size` is passed (upstream PR
  // 17110); the toolkit never passes it `aspectRatio`, so that warning is always wrong here.
  filterWarnings: (warnings) =>
    warnings.filter((warning) => !(warning.type === 'unsupported' && warning.feature === 'aspectRatio')),
};

/** The config the AI SDK's Together model keeps: `{ provider, baseURL, headers(), fetch? }`. */
function isTogetherConfig(config: unknown): config is { baseURL: string; headers: () => unknown; fetch?: typeof fetch } {
  if (typeof config !== 'object' || config === null) return false;
  const fields = config as Record<string, unknown>;
  return typeof fields.baseURL === 'string' && typeof fields.headers === 'function' && (fields.fetch === undefined || typeof fields.fetch === 'function');
}

/** The `providerOptions.togetherai` body fields for a plan, named as Together's schema names them. */
function togetherOptions(plan: Plan): Record<string, JSONValue> {
  const options: Record<string, JSONValue> = {};
  if ('aspectRatio' in plan.sizing) options.aspect_ratio = plan.sizing.aspectRatio;
  if (plan.steps !== undefined) options.steps = plan.steps;
  if (plan.negativePrompt !== undefined) options.negative_prompt = plan.negativePrompt;
  // Which name carries guidance is decided per model in together-models.ts (`guidanceParameter`).
  if (plan.guidance !== undefined) options[plan.model.guidanceParameter ?? 'guidance_scale'] = plan.guidance;
  if (plan.promptUpsampling !== undefined) options.prompt_upsampling = plan.promptUpsampling;
  const images = plan.referenceImages.map((image) => (image.kind === 'url' ? image.url : toDataUrl(image.data, image.mediaType)));
  if (images.length > 0) {
    if (plan.model.imageInput.kind === 'reference_images') options.reference_images = images;
    else options.image_url = images[0]!;
  }
  if (plan.loras !== undefined) options.image_loras = plan.loras.map((lora) => ({ ...lora }));
  if (plan.disableSafetyChecker) options.disable_safety_checker = true;
  if (plan.outputFormat !== undefined) options.output_format = plan.outputFormat;
  if (plan.responseFormat === 'url') options.response_format = 'url';
  return options;
}

function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return text.slice(0, 200) || 'no message';
}

/** A 1×1 PNG that stands in for images Together returned as URLs (see `capturingFetch`). */
const URL_STAND_IN = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==';

/**
 * A fetch that hands Together's `id`, `timings` and image URLs to `capture` before the AI SDK drops
 * them. The AI SDK provider can only parse `b64_json` items, so a `url` response (`responseFormat:
 * "url"`) reaches it with a stand-in image per item; the toolkit builds its images from the URLs.
 */
export function capturingFetch(capture: ResponseCapture, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.ok) return response;
    let body: { id?: unknown; data?: { timings?: { inference?: number }; url?: unknown; b64_json?: unknown }[] };
    try {
      body = (await response.clone().json()) as typeof body;
    } catch {
      return response; // A body that is not JSON is reported by the AI SDK's own parser.
    }
    const items = Array.isArray(body.data) ? body.data : [];
    const urls = items.map((item) => (typeof item?.url === 'string' && typeof item.b64_json !== 'string' ? item.url : undefined));
    capture({
      ...(typeof body.id === 'string' ? { id: body.id } : {}),
      timings: items.map((item) => item?.timings),
      ...(urls.some(Boolean) ? { urls } : {}),
    });
    if (!urls.some(Boolean)) return response;
    const rewritten = { ...body, data: items.map((item) => ({ ...item, b64_json: URL_STAND_IN })) };
    return new Response(JSON.stringify(rewritten), { status: response.status, statusText: response.statusText, headers: response.headers });
  };
}
