import { APICallError, LoadAPIKeyError, NoImageGeneratedError, RetryError } from 'ai';
import {
  ImagegenError,
  InsufficientCreditsError,
  InvalidApiKeyError,
  InvalidResponseError,
  MissingApiKeyError,
  ModelAccessError,
  ProviderError,
  RateLimitError,
  SafetyCheckerError,
} from './errors.js';
import { DownloadLimitError } from './download.js';

type Context = { provider: string; modelId: string; environmentVariables: readonly string[] };

/**
 * Turns what `generateImage` throws into the toolkit's typed errors. Aborts pass through as they
 * are, so callers can tell a cancel from a failure.
 */
export function toImagegenError(error: unknown, context: Context): unknown {
  if (ImagegenError.isInstance(error) || isAbort(error)) return error;
  const tooLarge = findCause(error, (cause) => cause instanceof DownloadLimitError);
  if (tooLarge) {
    return new ProviderError({
      provider: context.provider,
      modelId: context.modelId,
      message: `${context.provider} answered for ${context.modelId}, but ${(tooLarge as Error).message}.`,
      cause: error,
    });
  }
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (ImagegenError.isInstance(last) || isAbort(last)) return last;
  const fields = { provider: context.provider, modelId: context.modelId, cause: error };

  if (LoadAPIKeyError.isInstance(last)) {
    return new MissingApiKeyError({ provider: context.provider, environmentVariables: context.environmentVariables });
  }
  if (NoImageGeneratedError.isInstance(last)) {
    return new InvalidResponseError({ ...fields, detail: 'the response held no images' });
  }
  if (APICallError.isInstance(last)) {
    const statusCode = last.statusCode;
    const providerMessage = providerMessageOf(last);
    if (statusCode === undefined) {
      return new ProviderError({
        ...fields,
        message: `Could not reach ${context.provider} for ${context.modelId}: ${networkReason(last)}. Check the network or the base URL.`,
      });
    }
    if (statusCode >= 200 && statusCode < 300) {
      return new InvalidResponseError({ ...fields, statusCode, detail: `${last.message} (the body was not the JSON expected)` });
    }
    if (statusCode === 401) {
      return new InvalidApiKeyError({ ...fields, statusCode, providerMessage, environmentVariables: context.environmentVariables });
    }
    if (statusCode === 402) return new InsufficientCreditsError({ ...fields, statusCode, providerMessage });
    if (statusCode === 403) return new ModelAccessError({ ...fields, statusCode, providerMessage });
    if (statusCode === 422) return new SafetyCheckerError({ ...fields, statusCode, providerMessage });
    if (statusCode === 429) {
      return new RateLimitError({ ...fields, statusCode, providerMessage, retryAfterSeconds: retryAfter(last.responseHeaders) });
    }
    return new ProviderError({ ...fields, statusCode, providerMessage });
  }
  const message = last instanceof Error ? last.message : String(last);
  return new ProviderError({ ...fields, message: `${context.provider} failed for ${context.modelId}: ${message}` });
}

function providerMessageOf(error: APICallError): string {
  if (error.responseBody) {
    try {
      const body = JSON.parse(error.responseBody) as { error?: { message?: unknown } | string; message?: unknown; detail?: unknown };
      const candidate =
        typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message ?? body.detail);
      if (typeof candidate === 'string') return candidate;
    } catch {
      // Not JSON: fall back to the AI SDK's message.
    }
  }
  return error.message;
}

function networkReason(error: APICallError): string {
  const cause = error.cause as { code?: string; cause?: { code?: string; message?: string }; message?: string } | undefined;
  return cause?.cause?.code ?? cause?.code ?? cause?.cause?.message ?? cause?.message ?? error.message;
}

function retryAfter(headers: Record<string, string> | undefined): number | undefined {
  const value = headers?.['retry-after'];
  if (value === undefined) return undefined;
  const seconds = Number(value);
  if (Number.isFinite(seconds)) return seconds;
  const date = Date.parse(value);
  return Number.isNaN(date) ? undefined : Math.max(0, Math.round((date - Date.now()) / 1000));
}

function findCause(error: unknown, matches: (cause: unknown) => boolean): unknown {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (matches(current)) return current;
    current = (current as { cause?: unknown; lastError?: unknown }).lastError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'TimeoutError');
}
