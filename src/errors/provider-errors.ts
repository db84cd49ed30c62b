import { APICallError, LoadAPIKeyError, NoImageGeneratedError, RetryError } from 'ai';
import {
  ImagegenError,
  InsufficientCreditsError,
  InvalidApiKeyError,
  InvalidResponseError,
  MissingApiKeyError,
  ModelAccessError,
  ModelNotFoundError,
  NoImageError,
  ProviderError,
  RateLimitError,
  SafetyCheckerError,
  TimeoutError,
  errorMessage,
} from './errors.js';
import { DownloadLimitError } from '../util/download.js';
import { isPlatformTimeout } from '../util/timeout.js';

/** Where an error came from: the call's provider and model, and the signal it was sent with. */
export type ErrorContext = {
  provider: string;
  modelId: string;
  environmentVariables: readonly string[];
  /**
   * The call's abort signal. Once it has fired, what the call throws is its reason (a cancel, or a
   * `TimeoutError`), even when a package threw a bare `AbortError` or some other error instead.
   */
  abortSignal?: AbortSignal | undefined;
  /** The catalog's replacement for the model, when it has one: a 404 names it. */
  replacement?: string | undefined;
};

/**
 * A cancel, passed on as it came: the abort signal's reason when that is an `Error` (Ctrl-C's, an
 * app's own), else the `AbortError` that was thrown for it. Never a timeout: those are
 * `TimeoutError`s.
 */
export type AbortLike = Error;

/**
 * Turns what `generateImage` throws into the toolkit's typed errors. A timeout becomes a
 * `TimeoutError` naming the provider and model (also the DOMException of an app's
 * `AbortSignal.timeout`); other aborts pass through as they are, so callers can tell a cancel from
 * a failure.
 */
export function toImagegenError(error: unknown, context: ErrorContext): ImagegenError | AbortLike {
  const call = { provider: context.provider, modelId: context.modelId };
  const timeout = findCause(error, TimeoutError.isInstance);
  if (timeout) return timeout.forCall(call);
  if (ImagegenError.isInstance(error)) return error;
  const signal = context.abortSignal;
  if (signal?.aborted) return reasonOf(signal.reason, error, call);
  const platformTimeout = findCause(error, isPlatformTimeout);
  if (platformTimeout) return fromPlatformTimeout(platformTimeout, call);
  if (isAbort(error)) return error;
  const tooLarge = findCause(error, (cause) => cause instanceof DownloadLimitError);
  if (tooLarge) {
    return new ProviderError({
      ...call,
      message: `${context.provider} answered for ${context.modelId}, but ${tooLarge.message}.`,
      cause: error,
    });
  }
  const last = RetryError.isInstance(error) ? error.lastError : error;
  if (ImagegenError.isInstance(last) || isAbort(last)) return last;
  const fields = { ...call, cause: error };

  if (LoadAPIKeyError.isInstance(last)) {
    return new MissingApiKeyError({ provider: context.provider, environmentVariables: context.environmentVariables });
  }
  if (NoImageGeneratedError.isInstance(last)) {
    return new NoImageError({ ...fields, detail: 'the response held no images (empty, or removed by a content filter)' });
  }
  if (APICallError.isInstance(last)) {
    const statusCode = last.statusCode;
    const providerMessage = providerMessageOf(last);
    // The provider package's own word on retrying (its error handler may know better than the status).
    const isRetryable = last.isRetryable;
    if (statusCode === undefined) {
      const refused = isConnectionRefused(last);
      return new ProviderError({
        ...fields,
        isRetryable,
        message:
          `Could not reach ${context.provider} at ${last.url} for ${context.modelId}: ${networkReason(last)}` +
          (refused ? ' (nothing is listening there). Check the base URL, or start the server it names.' : '. Check the network or the base URL.'),
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
    // A 404 about the model (Together: "Unable to access model …"); one about the path is a wrong base URL.
    if (statusCode === 404 && /model/i.test(providerMessage)) return new ModelNotFoundError({ ...fields, statusCode, providerMessage, replacement: context.replacement });
    if (statusCode === 404) return new ProviderError({ ...fields, statusCode, providerMessage: `${providerMessage} (at ${last.url}; check the base URL)` });
    if (statusCode === 422) return new SafetyCheckerError({ ...fields, statusCode, providerMessage });
    if (statusCode === 429) {
      return new RateLimitError({ ...fields, statusCode, providerMessage, retryAfterSeconds: retryAfter(last.responseHeaders) });
    }
    return new ProviderError({ ...fields, statusCode, providerMessage, isRetryable });
  }
  return new ProviderError({ ...fields, message: `${context.provider} failed for ${context.modelId}: ${errorMessage(last)}` });
}

/** What a call that ended after its signal fired stands for: the signal's reason. */
function reasonOf(reason: unknown, thrown: unknown, call: { provider: string; modelId: string }): TimeoutError | AbortLike {
  if (TimeoutError.isInstance(reason)) return reason.forCall(call);
  if (isPlatformTimeout(reason)) return fromPlatformTimeout(reason, call);
  if (reason instanceof Error) return reason;
  if (isAbort(thrown)) return thrown;
  return new DOMException(reason === undefined ? 'This operation was aborted' : String(reason), 'AbortError');
}

function fromPlatformTimeout(cause: Error, call: { provider: string; modelId: string }): TimeoutError {
  return new TimeoutError({ operation: 'the request', ...call, cause });
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

function findCause<T>(error: unknown, matches: (cause: unknown) => cause is T): T | undefined {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if (matches(current)) return current;
    current = (current as { cause?: unknown; lastError?: unknown }).lastError ?? (current as { cause?: unknown }).cause;
  }
  return undefined;
}

/** An abort as the AI SDK tells one (Next.js names its own `ResponseAborted`). */
function isAbort(error: unknown): error is AbortLike {
  return error instanceof Error && (error.name === 'AbortError' || error.name === 'ResponseAborted');
}

/**
 * A provider's 404 for a model as a typed `ModelNotFoundError` naming the catalog's replacement,
 * for `imageModel()`, whose other errors stay the AI SDK's own (its retries depend on them).
 */
export function notFoundError(error: unknown, model: { provider: string; modelId: string; deprecated?: { replacement: string } | undefined }): ImagegenError | undefined {
  if (!APICallError.isInstance(error) || error.statusCode !== 404) return undefined;
  const mapped = toImagegenError(error, { provider: model.provider, modelId: model.modelId, environmentVariables: [], replacement: model.deprecated?.replacement });
  return ModelNotFoundError.isInstance(mapped) ? mapped : undefined;
}

/** Whether the error, or one of its causes, is a refused connection (`ECONNREFUSED`). */
export function isConnectionRefused(error: unknown): boolean {
  for (let current = error, depth = 0; current !== undefined && current !== null && depth < 10; depth++) {
    if ((current as { code?: unknown }).code === 'ECONNREFUSED') return true;
    // undici reports a refused connection to a name with several addresses as an AggregateError.
    if (current instanceof AggregateError && current.errors.some((inner) => isConnectionRefused(inner))) return true;
    current = (current as { lastError?: unknown }).lastError ?? (current as { cause?: unknown }).cause;
  }
  return false;
}
