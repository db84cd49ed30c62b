import { APICallError } from '@ai-sdk/provider';
import { createBinaryResponseHandler, createStatusCodeErrorResponseHandler, getFromApi } from '@ai-sdk/provider-utils';
import { errorMessage, ProviderError, TimeoutError } from '../errors/errors.js';
import { timeoutSignal } from './timeout.js';

/** Limits for what the toolkit fetches itself: images providers return as URLs, live model lists. */
export type DownloadLimits = {
  /** Sent when the request has none (Together's CDN answers 403 to an empty one). */
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
  /** What is fetched, for messages: "the model list". @default "the image" (caps), "the download" (timeouts) */
  what?: string;
};

export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = {
  userAgent: 'ai-imagegen (+https://www.npmjs.com/package/ai-imagegen)',
  timeoutMs: 60_000,
  maxBytes: 50 * 1024 * 1024,
};

/**
 * The largest answer to a generation request the toolkit reads: 512 MiB (four 4K PNGs in base64 are
 * about 130 MiB). Past it the call fails instead of holding the process's memory.
 */
export const MAX_ANSWER_BYTES = 512 * 1024 * 1024;

/**
 * A `fetch` for provider packages: every GET (image downloads, status polls) gets a User-Agent, a
 * timeout (a `TimeoutError` naming the host) and a size cap; a generation's answer (POST) gets a size
 * cap (`MAX_ANSWER_BYTES`), its deadline being the call's own.
 */
export function guardedFetch(limits: DownloadLimits = DEFAULT_DOWNLOAD_LIMITS, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    // A generation's answer: its deadline is the call's (`timeoutMs`), its size capped here.
    if (method !== 'GET') return capped(await base(input, init), MAX_ANSWER_BYTES, urlOf(input), 'the answer');
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.get('user-agent')) headers.set('user-agent', limits.userAgent);
    const url = urlOf(input);
    const host = hostOf(url);
    const what = limits.what ?? 'the download';
    // The deadline covers the whole body, not only the headers: a server that drips bytes is cut off too.
    const signal = timeoutSignal(
      limits.timeoutMs,
      { operation: `${what} from ${host}`, message: `no answer from ${host} within ${limits.timeoutMs / 1000}s (${limits.what === undefined ? 'the download timeout' : `the deadline for ${what}`})` },
      init?.signal ?? undefined,
    );
    const response = await base(input, { ...init, headers, signal });
    return capped(response, limits.maxBytes, url, limits.what ?? 'the image');
  };
}

/**
 * Downloads an image URL within the limits; throws `ProviderError` naming the URL's host on failure,
 * `TimeoutError` when it takes longer than `limits.timeoutMs`.
 */
export async function downloadImage(
  url: string,
  { provider, modelId, limits = DEFAULT_DOWNLOAD_LIMITS, fetch = globalThis.fetch }: {
    provider: string;
    modelId: string;
    limits?: DownloadLimits;
    fetch?: typeof globalThis.fetch;
  },
): Promise<Uint8Array> {
  try {
    const { value } = await getFromApi({
      url,
      fetch: guardedFetch(limits, fetch),
      successfulResponseHandler: createBinaryResponseHandler(),
      failedResponseHandler: createStatusCodeErrorResponseHandler(),
    });
    return value;
  } catch (error) {
    if (APICallError.isInstance(error) && error.statusCode !== undefined && (error.statusCode < 200 || error.statusCode >= 300)) {
      throw new ProviderError({ provider, modelId, statusCode: error.statusCode, message: `Downloading the image from ${new URL(url).host} failed (HTTP ${error.statusCode}).` });
    }
    const failed = `Downloading the image from ${new URL(url).host} failed`;
    const tooLarge = findDownloadLimit(error);
    if (tooLarge) throw new ProviderError({ provider, modelId, message: `${failed}: ${tooLarge.message}`, cause: error });
    if (TimeoutError.isInstance(error)) {
      throw new TimeoutError({ operation: error.operation, timeoutMs: error.timeoutMs, provider, modelId, message: `${failed}: no answer within ${limits.timeoutMs / 1000}s`, cause: error });
    }
    throw new ProviderError({ provider, modelId, message: `${failed}: ${errorMessage(error)}`, cause: error });
  }
}

/** A download went over the size cap; found in the cause chain of whatever the provider package throws. */
export class DownloadLimitError extends Error {
  override name = 'DownloadLimitError';
}

/** The `DownloadLimitError` in an error's cause chain (provider-utils wraps what a body read throws). */
export function findDownloadLimit(error: unknown): DownloadLimitError | undefined {
  for (let current = error, depth = 0; current instanceof Error && depth < 10; depth++) {
    if (current instanceof DownloadLimitError) return current;
    current = current.cause;
  }
  return undefined;
}

export function capped(response: Response, maxBytes: number, url: string, what: string): Response {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    throw new DownloadLimitError(`${what} at ${hostOf(url)} is ${declared} bytes, over the ${maxBytes}-byte download cap`);
  }
  if (response.body === null) return response;
  let received = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      received += chunk.byteLength;
      if (received > maxBytes) controller.error(new DownloadLimitError(`${what} at ${hostOf(url)} went over the ${maxBytes}-byte download cap`));
      else controller.enqueue(chunk);
    },
  });
  return new Response(response.body.pipeThrough(counter), { status: response.status, statusText: response.statusText, headers: response.headers });
}

function hostOf(url: string): string {
  try {
    return new URL(url).host;
  } catch {
    return url;
  }
}

function urlOf(input: Parameters<typeof fetch>[0]): string {
  return typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
}
