import {
  APICallError,
  InvalidArgumentError,
  JSONParseError,
  TypeValidationError,
  type ImageModelV3,
  type ImageModelV3CallOptions,
  type JSONObject,
  type SharedV3Warning,
} from '@ai-sdk/provider';
import { z } from 'zod';
import { base64ToBytes } from '../../util/base64.js';
import { VERSION } from '../../version.js';
import { toDataUrl } from '../adapter.js';

/** How a `TogetherImageModel` reaches Together: what `createTogetherAI(...)` keeps in its models' `config`. */
export type TogetherImageModelConfig = {
  modelId: string;
  /** e.g. `https://api.together.xyz/v1`, no trailing slash. */
  baseURL: string;
  /** Called per request: `Authorization` and whatever else the app set. */
  headers: () => Record<string, string | undefined>;
  fetch?: typeof globalThis.fetch | undefined;
  /** Images one request may ask for (`n`), from the catalog. */
  maxImagesPerCall: number;
  /** The clock of `response.timestamp`, for tests. @default () => new Date() */
  currentDate?: (() => Date) | undefined;
};

/** What Together says about one image, under `providerMetadata.togetherai.images[i]`. */
export type TogetherImageMetadata = {
  /** The response's `id`, on every image of the response. */
  id?: string;
  /** Where Together keeps the image, when asked for `response_format: "url"`. */
  url?: string;
  seed?: number;
  timings?: { inference?: number };
};

/**
 * Together's `POST /images/generations` as an AI SDK image model. It sends what
 * `@ai-sdk/togetherai`'s model sends for the same call options, and adds what that model drops:
 * `url` responses (the image comes back empty, its URL in the metadata, nothing downloaded), the
 * response `id` and per-image `timings`, all through `providerMetadata.togetherai.images`.
 */
export class TogetherImageModel implements ImageModelV3 {
  readonly specificationVersion = 'v3';
  readonly provider = 'togetherai.image';
  readonly modelId: string;
  readonly maxImagesPerCall: number;
  private readonly config: TogetherImageModelConfig;

  constructor(config: TogetherImageModelConfig) {
    this.config = config;
    this.modelId = config.modelId;
    this.maxImagesPerCall = config.maxImagesPerCall;
  }

  async doGenerate({
    prompt,
    n,
    size,
    aspectRatio,
    seed,
    files,
    mask,
    providerOptions,
    headers,
    abortSignal,
  }: ImageModelV3CallOptions): Promise<Awaited<ReturnType<ImageModelV3['doGenerate']>>> {
    if (mask !== undefined) {
      // The AI SDK model's own message, word for word.
      throw new Error(
        'Together AI does not support mask-based image editing. Use FLUX Kontext models (e.g., black-forest-labs/FLUX.1-kontext-pro) with a reference image and descriptive prompt instead.',
      );
    }
    const warnings: SharedV3Warning[] = [];
    if (aspectRatio !== undefined) {
      warnings.push({ type: 'unsupported', feature: 'aspectRatio', details: 'This model does not support the `aspectRatio` option. Use `size` instead.' });
    }
    let imageUrl: string | undefined;
    if (files !== undefined && files.length > 0) {
      const [file] = files as [(typeof files)[number]];
      imageUrl = file.type === 'url' ? file.url : typeof file.data === 'string' ? `data:${file.mediaType};base64,${file.data}` : toDataUrl(file.data, file.mediaType);
      if (files.length > 1) {
        warnings.push({ type: 'other', message: 'Together AI only supports a single input image. Additional images are ignored.' });
      }
    }
    const options = parseTogetherOptions(providerOptions);
    const [width, height] = size === undefined ? [] : size.split('x').map((side) => Number.parseInt(side, 10));
    // Field order as `@ai-sdk/togetherai` writes them; the app's provider options go last and win.
    const body = {
      model: this.modelId,
      prompt,
      ...(seed == null ? {} : { seed }),
      ...(n > 1 ? { n } : {}),
      ...(size === undefined ? {} : { width, height }),
      ...(imageUrl === undefined ? {} : { image_url: imageUrl }),
      response_format: 'base64',
      ...options,
    };
    const url = `${this.config.baseURL}/images/generations`;
    const { value: response, responseHeaders } = await postJson({
      url,
      headers: requestHeaders(this.config.headers(), headers),
      body,
      abortSignal,
      fetch: this.config.fetch ?? globalThis.fetch,
    });

    const items = response.data;
    const id = typeof response.id === 'string' ? response.id : undefined;
    const byUrl = items.some((item) => typeof item.b64_json !== 'string');
    return {
      // A url item has no bytes to give; the images of one response are all strings or all bytes.
      images: byUrl ? items.map((item) => (typeof item.b64_json === 'string' ? base64ToBytes(item.b64_json) : new Uint8Array(0))) : items.map((item) => item.b64_json as string),
      warnings,
      providerMetadata: { togetherai: { images: items.map((item) => imageMetadata(item, id)) } },
      response: { timestamp: this.config.currentDate?.() ?? new Date(), modelId: this.modelId, headers: responseHeaders },
    };
  }
}

/** The fields `@ai-sdk/togetherai` checks in `providerOptions.togetherai`; others pass through as they are. */
const togetherOptionsSchema = z.looseObject({
  steps: z.number().nullish(),
  guidance: z.number().nullish(),
  negative_prompt: z.string().nullish(),
  disable_safety_checker: z.boolean().nullish(),
});

function parseTogetherOptions(providerOptions: ImageModelV3CallOptions['providerOptions']): Record<string, unknown> | undefined {
  const options = providerOptions?.togetherai;
  if (options == null) return undefined;
  const parsed = togetherOptionsSchema.safeParse(options);
  if (!parsed.success) {
    throw new InvalidArgumentError({
      argument: 'providerOptions',
      message: 'invalid togetherai provider options',
      cause: TypeValidationError.wrap({ value: options, cause: parsed.error }),
    });
  }
  return parsed.data;
}

/** The response fields read; Together's others (`model`, `object`, `index`, `type`) are let be. */
const togetherResponseSchema = z.object({
  id: z.string().nullish(),
  data: z.array(
    z
      .object({
        b64_json: z.string().optional(),
        url: z.string().optional(),
        seed: z.number().optional(),
        timings: z.object({ inference: z.number().optional() }).nullish(),
      })
      .refine((item) => item.b64_json !== undefined || item.url !== undefined, { message: 'an image needs b64_json or url' }),
  ),
});

type TogetherResponse = z.infer<typeof togetherResponseSchema>;

function imageMetadata(item: TogetherResponse['data'][number], id: string | undefined): JSONObject {
  const metadata: JSONObject = {};
  if (id !== undefined) metadata.id = id;
  if (item.url !== undefined && item.b64_json === undefined) metadata.url = item.url;
  if (item.seed !== undefined) metadata.seed = item.seed;
  if (item.timings?.inference !== undefined) metadata.timings = { inference: item.timings.inference };
  return metadata;
}

/**
 * The app's headers and the call's, keys lower-cased, with this package named after the AI SDK's own
 * user-agent parts (as `@ai-sdk/provider-utils` adds its own).
 */
function requestHeaders(...sources: (Record<string, string | undefined> | undefined)[]): Record<string, string> {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  for (const source of sources) {
    for (const [name, value] of Object.entries(source ?? {})) {
      if (value !== undefined) headers[name.toLowerCase()] = value;
    }
  }
  headers['user-agent'] = [headers['user-agent'], `ai-imagegen/${VERSION}`].filter(Boolean).join(' ');
  return headers;
}

/**
 * POSTs JSON and reads a JSON answer, failing as `@ai-sdk/provider-utils`' `postJsonToApi` does, so
 * `generateImage`'s retries (by `isRetryable`, honouring `retry-after`) and the toolkit's error
 * mapping see the same errors: an `APICallError` for an error status (retryable on 408, 409, 429 and
 * 5xx), for a body that is not the JSON expected, and (retryable) for a network failure; an abort
 * passes through as it is.
 */
async function postJson({
  url,
  headers,
  body,
  abortSignal,
  fetch,
}: {
  url: string;
  headers: Record<string, string>;
  body: Record<string, unknown>;
  abortSignal: AbortSignal | undefined;
  fetch: typeof globalThis.fetch;
}): Promise<{ value: TogetherResponse; responseHeaders: Record<string, string> }> {
  const requestBodyValues = body;
  try {
    const response = await fetch(url, { method: 'POST', headers, body: JSON.stringify(body), ...(abortSignal ? { signal: abortSignal } : {}) });
    const responseHeaders = Object.fromEntries(response.headers);
    const fields = { url, requestBodyValues, statusCode: response.status, responseHeaders };
    let responseBody: string;
    try {
      responseBody = await response.text();
    } catch (error) {
      if (isAbortError(error)) throw error;
      throw new APICallError({ ...fields, message: `Failed to process ${response.ok ? 'successful' : 'error'} response`, cause: error });
    }
    if (!response.ok) {
      const message = errorMessageOf(responseBody) ?? response.statusText;
      throw new APICallError({ ...fields, message, responseBody });
    }
    let json: unknown;
    try {
      json = JSON.parse(responseBody);
    } catch (error) {
      throw new APICallError({ ...fields, message: 'Invalid JSON response', responseBody, cause: new JSONParseError({ text: responseBody, cause: error }) });
    }
    const parsed = togetherResponseSchema.safeParse(json);
    if (!parsed.success) {
      throw new APICallError({ ...fields, message: 'Invalid JSON response', responseBody, cause: TypeValidationError.wrap({ value: json, cause: parsed.error }) });
    }
    return { value: parsed.data, responseHeaders };
  } catch (error) {
    throw asNetworkError(error, url, requestBodyValues);
  }
}

/** Together's `{ error: { message } }`, as the AI SDK reads it; `undefined` for anything else. */
function errorMessageOf(responseBody: string): string | undefined {
  if (responseBody.trim() === '') return undefined;
  try {
    const message = (JSON.parse(responseBody) as { error?: { message?: unknown } } | null)?.error?.message;
    return typeof message === 'string' ? message : undefined;
  } catch {
    return undefined;
  }
}

const FETCH_FAILED_MESSAGES = new Set(['fetch failed', 'failed to fetch']);
const RETRYABLE_NETWORK_CODES = new Set([
  'ConnectionRefused',
  'ConnectionClosed',
  'FailedToOpenSocket',
  'ECONNRESET',
  'ECONNREFUSED',
  'ETIMEDOUT',
  'EPIPE',
  'UND_ERR_SOCKET',
  'UND_ERR_HEADERS_TIMEOUT',
  'UND_ERR_BODY_TIMEOUT',
  'UND_ERR_CONNECT_TIMEOUT',
]);

/** A failed connection becomes a retryable `APICallError`, as `@ai-sdk/provider-utils`' `handleFetchError` makes it. */
function asNetworkError(error: unknown, url: string, requestBodyValues: unknown): unknown {
  if (isAbortError(error)) return error;
  if (error instanceof TypeError && FETCH_FAILED_MESSAGES.has(error.message.toLowerCase()) && error.cause != null) {
    const cause = error.cause as { message?: unknown };
    return new APICallError({ message: `Cannot connect to API: ${String(cause.message)}`, cause, url, requestBodyValues, isRetryable: true });
  }
  const networkError = findNetworkError(error);
  if (networkError === undefined) return error;
  if (APICallError.isInstance(error)) {
    return new APICallError({
      message: error.message,
      cause: error.cause,
      url: error.url,
      requestBodyValues: error.requestBodyValues,
      ...(error.statusCode === undefined ? {} : { statusCode: error.statusCode }),
      ...(error.responseHeaders === undefined ? {} : { responseHeaders: error.responseHeaders }),
      ...(error.responseBody === undefined ? {} : { responseBody: error.responseBody }),
      isRetryable: true,
    });
  }
  const message = error instanceof Error ? error.message : networkError.message;
  return new APICallError({ message: `Cannot connect to API: ${message}`, cause: error, url, requestBodyValues, isRetryable: true });
}

function findNetworkError(error: unknown): Error | undefined {
  const visited = new Set<unknown>();
  for (let current = error; current instanceof Error && !visited.has(current); current = current.cause) {
    visited.add(current);
    const code = (current as { code?: unknown }).code;
    if (typeof code === 'string' && RETRYABLE_NETWORK_CODES.has(code)) return current;
  }
  return undefined;
}

function isAbortError(error: unknown): boolean {
  return (
    (error instanceof Error || error instanceof DOMException) &&
    (error.name === 'AbortError' || error.name === 'ResponseAborted' || error.name === 'TimeoutError')
  );
}

