import { errorMessage, ProviderError, TimeoutError } from '../errors/errors.js';
import { timeoutSignal } from './timeout.js';

/** Limits for downloading images that providers return as URLs. */
export type DownloadLimits = {
  /** Sent when the request has none (Together's CDN answers 403 to an empty one). */
  userAgent: string;
  timeoutMs: number;
  maxBytes: number;
};

export const DEFAULT_DOWNLOAD_LIMITS: DownloadLimits = {
  userAgent: 'ai-imagegen (+https://www.npmjs.com/package/ai-imagegen)',
  timeoutMs: 60_000,
  maxBytes: 50 * 1024 * 1024,
};

/**
 * A `fetch` for provider packages: every GET (image downloads, status polls) gets a User-Agent, a
 * timeout (a `TimeoutError` naming the host) and a size cap; other requests pass through untouched.
 */
export function guardedFetch(limits: DownloadLimits = DEFAULT_DOWNLOAD_LIMITS, base: typeof fetch = globalThis.fetch): typeof fetch {
  return async (input, init) => {
    const method = (init?.method ?? (input instanceof Request ? input.method : 'GET')).toUpperCase();
    if (method !== 'GET') return base(input, init);
    const headers = new Headers(init?.headers ?? (input instanceof Request ? input.headers : undefined));
    if (!headers.get('user-agent')) headers.set('user-agent', limits.userAgent);
    const url = urlOf(input);
    const host = hostOf(url);
    const signal = timeoutSignal(
      limits.timeoutMs,
      { operation: `the download from ${host}`, message: `no answer from ${host} within ${limits.timeoutMs / 1000}s (the download timeout)` },
      init?.signal ?? undefined,
    );
    const response = await base(input, { ...init, headers, signal });
    return capped(response, limits.maxBytes, url);
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
  let response: Response;
  try {
    response = await guardedFetch(limits, fetch)(url);
    if (!response.ok) {
      throw new ProviderError({ provider, modelId, statusCode: response.status, message: `Downloading the image from ${new URL(url).host} failed (HTTP ${response.status}).` });
    }
    return new Uint8Array(await response.arrayBuffer());
  } catch (error) {
    if (ProviderError.isInstance(error)) throw error;
    const failed = `Downloading the image from ${new URL(url).host} failed`;
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

function capped(response: Response, maxBytes: number, url: string): Response {
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    throw new DownloadLimitError(`the image at ${hostOf(url)} is ${declared} bytes, over the ${maxBytes}-byte download cap`);
  }
  if (response.body === null) return response;
  let received = 0;
  const counter = new TransformStream<Uint8Array, Uint8Array>({
    transform(chunk, controller) {
      received += chunk.byteLength;
      if (received > maxBytes) controller.error(new DownloadLimitError(`the image at ${hostOf(url)} went over the ${maxBytes}-byte download cap`));
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
