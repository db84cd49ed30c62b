/**
 * The toolkit's errors: a small hierarchy with a type guard each. Every message says what happened
 * and what to do; none ever carries an API key (see `redactSecrets`).
 */
import { redactSecrets, type RequestSecrets } from './redaction.js';

export { redactSecrets, registerSecret } from './redaction.js';
import { ADVICE } from './doors.js';
import { plainText, printableLines } from '../util/plain-text.js';

const marker = Symbol.for('ai-imagegen.error');
/** The keys of the call an error came from, for the renderings made later (JSON, inspect). */
const callSecrets = new WeakMap<object, RequestSecrets>();

export type ImagegenErrorKind =
  | 'invalid-request'
  | 'missing-api-key'
  | 'missing-package'
  | 'invalid-api-key'
  | 'safety-checker'
  | 'rate-limit'
  | 'insufficient-credits'
  | 'model-access'
  | 'model-not-found'
  | 'provider'
  | 'invalid-response'
  | 'no-image'
  | 'timeout'
  | 'budget';

export class ImagegenError extends Error {
  readonly [marker] = true;
  readonly kind: ImagegenErrorKind;

  constructor({ kind, message, cause }: { kind: ImagegenErrorKind; message: string; cause?: unknown }) {
    // Whatever a provider put into it (a message, an id, a URL), a message is safe to print.
    super(printableLines(redactSecrets(message)), cause === undefined ? undefined : { cause });
    this.kind = kind;
    this.name = 'ImagegenError';
  }

  static isInstance(error: unknown): error is ImagegenError {
    return typeof error === 'object' && error !== null && marker in error;
  }

  /** `JSON.stringify(error)`: the error's own fields and its message, never a key. */
  toJSON(): Record<string, unknown> {
    const fields: Record<string, unknown> = { name: this.name, message: this.message };
    for (const [name, value] of Object.entries(this)) fields[name] = value;
    return JSON.parse(redactText(this, JSON.stringify(fields))) as Record<string, unknown>;
  }

  /** `console.log(error)` and `util.inspect`: Node's own rendering (cause included), redacted. */
  [Symbol.for('nodejs.util.inspect.custom')](
    _depth: number,
    options: Record<string, unknown>,
    inspect: (value: unknown, options: Record<string, unknown>) => string,
  ): string {
    return redactText(this, inspect(this, { ...options, customInspect: false }));
  }
}

function redactText(error: ImagegenError, text: string): string {
  return callSecrets.get(error)?.redact(text) ?? redactSecrets(text);
}

/**
 * Redacts the keys a provider call sent from the error it made: its message, stack and provider
 * message now, and its JSON and inspected forms (cause chain included) whenever they are made. The
 * error holds those keys, and nothing else does.
 */
export function redactCallSecrets(error: ImagegenError, secrets: RequestSecrets): void {
  callSecrets.set(error, secrets);
  error.message = secrets.redact(error.message);
  if (error.stack !== undefined) error.stack = secrets.redact(error.stack);
  const provider = error as { providerMessage?: unknown };
  if (typeof provider.providerMessage === 'string') {
    Object.defineProperty(error, 'providerMessage', { value: secrets.redact(provider.providerMessage), enumerable: true, writable: false, configurable: true });
  }
}

/** One problem with a request: the field, the value given and what is allowed. */
export type RequestIssue = { field: string; value: unknown; message: string };

export class InvalidRequestError extends ImagegenError {
  readonly issues: readonly RequestIssue[];

  constructor({ issues, context }: { issues: readonly RequestIssue[]; context?: string }) {
    const lines = issues.map((issue) => `  - ${issue.field}: ${issue.message} (got ${describeValue(issue.value)})`);
    super({
      kind: 'invalid-request',
      message: `Invalid ${context ?? 'request'}; nothing was sent:\n${lines.join('\n')}`,
    });
    this.name = 'InvalidRequestError';
    this.issues = issues;
  }

  static override isInstance(error: unknown): error is InvalidRequestError {
    return ImagegenError.isInstance(error) && error.kind === 'invalid-request';
  }
}

/**
 * A model its provider has retired, refused before anything is sent: an `InvalidRequestError` on
 * the `model` field that also names the replacement. A model only announced as deprecated still
 * runs, with a warning.
 */
export class RetiredModelError extends InvalidRequestError {
  /** The model as given, e.g. `togetherai:black-forest-labs/FLUX.1-dev`. */
  readonly model: string;
  /** The model to use instead, as `"provider:modelId"`. */
  readonly replacement: string;
  /** ISO date the provider retired it, when it published one. */
  readonly retiredOn: string | undefined;

  constructor({ model, replacement, retiredOn, reason }: { model: string; replacement: string; retiredOn: string | undefined; reason: string }) {
    super({ issues: [{ field: 'model', value: model, message: `${reason}; use ${replacement} instead` }] });
    this.name = 'RetiredModelError';
    this.model = model;
    this.replacement = replacement;
    this.retiredOn = retiredOn;
  }

  static override isInstance(error: unknown): error is RetiredModelError {
    return InvalidRequestError.isInstance(error) && 'replacement' in error && 'retiredOn' in error;
  }
}

export class MissingApiKeyError extends ImagegenError {
  readonly provider: string;
  readonly environmentVariables: readonly string[];

  constructor({ provider, environmentVariables }: { provider: string; environmentVariables: readonly string[] }) {
    super({
      kind: 'missing-api-key',
      message:
        `No API key for ${provider}. Set ${environmentVariables.join(' or ')} in the environment, ` +
        `${ADVICE.providerInstance.library}.`,
    });
    this.name = 'MissingApiKeyError';
    this.provider = provider;
    this.environmentVariables = environmentVariables;
  }

  static override isInstance(error: unknown): error is MissingApiKeyError {
    return ImagegenError.isInstance(error) && error.kind === 'missing-api-key';
  }
}

/** A provider whose AI SDK package is not installed (providers load lazily). */
export class MissingProviderPackageError extends ImagegenError {
  readonly provider: string;
  readonly packageName: string;

  constructor({ provider, packageName, cause }: { provider: string; packageName: string; cause?: unknown }) {
    super({
      kind: 'missing-package',
      message: `The ${provider} provider needs the package ${packageName}, which is not installed. Run: npm install ${packageName}`,
      cause,
    });
    this.name = 'MissingProviderPackageError';
    this.provider = provider;
    this.packageName = packageName;
  }

  static override isInstance(error: unknown): error is MissingProviderPackageError {
    return ImagegenError.isInstance(error) && error.kind === 'missing-package';
  }
}

type ProviderErrorFields = {
  provider: string;
  modelId: string;
  statusCode?: number | undefined;
  providerMessage?: string | undefined;
  /** Whether the provider says trying again may help (`APICallError.isRetryable`), when it says. */
  isRetryable?: boolean | undefined;
  cause?: unknown;
};

/** A failure reported by the provider (or the network on the way to it). */
export class ProviderError extends ImagegenError {
  readonly provider: string;
  readonly modelId: string;
  readonly statusCode: number | undefined;
  readonly providerMessage: string | undefined;
  /** Whether the provider said trying again may help; `undefined` when it did not say. */
  readonly isRetryable: boolean | undefined;

  constructor(fields: ProviderErrorFields & { kind?: ImagegenErrorKind; message?: string }) {
    const status = fields.statusCode === undefined ? '' : ` (HTTP ${fields.statusCode})`;
    super({
      kind: fields.kind ?? 'provider',
      message:
        fields.message ??
        `${fields.provider} failed for ${fields.modelId}${status}: ${tidy(fields.providerMessage) ?? 'no message'}.`,
      cause: fields.cause,
    });
    this.name = 'ProviderError';
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.statusCode = fields.statusCode;
    this.providerMessage = fields.providerMessage === undefined ? undefined : plainText(redactSecrets(fields.providerMessage));
    this.isRetryable = fields.isRetryable;
  }

  static override isInstance(error: unknown): error is ProviderError {
    return ImagegenError.isInstance(error) && error instanceof Error && 'statusCode' in error;
  }
}

export class InvalidApiKeyError extends ProviderError {
  constructor(fields: ProviderErrorFields & { environmentVariables: readonly string[] }) {
    super({
      ...fields,
      kind: 'invalid-api-key',
      message:
        `${fields.provider} rejected the API key (HTTP ${fields.statusCode ?? 401}): ${tidy(fields.providerMessage) ?? 'unauthorized'}. ` +
        `Check ${fields.environmentVariables.join(' or ')}.`,
    });
    this.name = 'InvalidApiKeyError';
  }

  static override isInstance(error: unknown): error is InvalidApiKeyError {
    return ImagegenError.isInstance(error) && error.kind === 'invalid-api-key';
  }
}

export class SafetyCheckerError extends ProviderError {
  constructor(fields: ProviderErrorFields) {
    super({
      ...fields,
      kind: 'safety-checker',
      message:
        `${fields.provider}'s safety checker rejected the request for ${fields.modelId} (HTTP ${fields.statusCode ?? 422}): ` +
        `${tidy(fields.providerMessage) ?? 'flagged'}. Change the prompt, or ${ADVICE.safetyCheckerOff.library} on a model that allows it.`,
    });
    this.name = 'SafetyCheckerError';
  }

  static override isInstance(error: unknown): error is SafetyCheckerError {
    return ImagegenError.isInstance(error) && error.kind === 'safety-checker';
  }
}

export class RateLimitError extends ProviderError {
  /** Seconds the provider asked us to wait, when it said. */
  readonly retryAfterSeconds: number | undefined;

  constructor(fields: ProviderErrorFields & { retryAfterSeconds?: number | undefined }) {
    const wait = fields.retryAfterSeconds === undefined ? '' : ` It asked to retry after ${fields.retryAfterSeconds}s.`;
    super({
      ...fields,
      kind: 'rate-limit',
      message:
        `${fields.provider} rate-limited the request for ${fields.modelId} (HTTP 429) and retries ran out: ` +
        `${tidy(fields.providerMessage) ?? 'too many requests'}.${wait} ${ADVICE.fewerCalls.library}.`,
    });
    this.name = 'RateLimitError';
    this.retryAfterSeconds = fields.retryAfterSeconds;
  }

  static override isInstance(error: unknown): error is RateLimitError {
    return ImagegenError.isInstance(error) && error.kind === 'rate-limit';
  }
}

/** HTTP 402: the account has no credits left (Together runs image models only with a positive balance). */
export class InsufficientCreditsError extends ProviderError {
  constructor(fields: ProviderErrorFields) {
    super({
      ...fields,
      kind: 'insufficient-credits',
      message:
        `${fields.provider} refused the request for ${fields.modelId}: the account is out of credits (HTTP ${fields.statusCode ?? 402}): ` +
        `${tidy(fields.providerMessage) ?? 'payment required'}. Add credits to the ${fields.provider} account (its billing settings) and run again; ` +
        `nothing was generated, so nothing was charged.`,
    });
    this.name = 'InsufficientCreditsError';
  }

  static override isInstance(error: unknown): error is InsufficientCreditsError {
    return ImagegenError.isInstance(error) && error.kind === 'insufficient-credits';
  }
}

/**
 * HTTP 403: the account may not use this model. On Together, partner models (Black Forest Labs
 * pro/max/flex, Google, ByteDance, Ideogram) need sharing data with the partner turned on.
 */
export class ModelAccessError extends ProviderError {
  constructor(fields: ProviderErrorFields) {
    const remedy =
      fields.provider === 'togetherai'
        ? `This is a partner model: allow sharing data with third-party model partners in your Together account settings (privacy), or pick a model Together hosts itself (${ADVICE.listTogetherModels.library}).`
        : `Check that the account and key are allowed to use this model.`;
    super({
      ...fields,
      kind: 'model-access',
      message: `${fields.provider} refused access to ${fields.modelId} (HTTP ${fields.statusCode ?? 403}): ${tidy(fields.providerMessage) ?? 'forbidden'}. ${remedy}`,
    });
    this.name = 'ModelAccessError';
  }

  static override isInstance(error: unknown): error is ModelAccessError {
    return ImagegenError.isInstance(error) && error.kind === 'model-access';
  }
}

/**
 * HTTP 404 for a model: the provider does not serve it (any more). When the catalog knows what
 * replaced it, `replacement` names it and so does the message.
 */
export class ModelNotFoundError extends ProviderError {
  readonly replacement: string | undefined;

  constructor(fields: ProviderErrorFields & { replacement?: string | undefined }) {
    const instead = fields.replacement === undefined ? '' : ` The catalog names its replacement: use ${fields.replacement} instead.`;
    super({
      ...fields,
      kind: 'model-not-found',
      message: `${fields.provider} does not serve ${fields.modelId} (HTTP ${fields.statusCode ?? 404}): ${tidy(fields.providerMessage) ?? 'not found'}.${instead}`,
    });
    this.name = 'ModelNotFoundError';
    this.replacement = fields.replacement;
  }

  static override isInstance(error: unknown): error is ModelNotFoundError {
    return ImagegenError.isInstance(error) && error.kind === 'model-not-found';
  }
}

/** The provider answered, but not with usable images (bad JSON, bad base64, not an image). */
export class InvalidResponseError extends ProviderError {
  constructor(fields: ProviderErrorFields & { detail: string }) {
    super({
      ...fields,
      kind: 'invalid-response',
      message: `${fields.provider} returned an unusable response for ${fields.modelId}: ${fields.detail}.`,
    });
    this.name = 'InvalidResponseError';
  }

  static override isInstance(error: unknown): error is InvalidResponseError {
    return ImagegenError.isInstance(error) && error.kind === 'invalid-response';
  }
}

/**
 * The provider answered without error but with no image: its content filter removed them, or the
 * result was empty. Asking again with the same request gets the same answer, so it is not retried.
 */
export class NoImageError extends ProviderError {
  constructor(fields: ProviderErrorFields & { detail?: string }) {
    super({
      ...fields,
      kind: 'no-image',
      isRetryable: false,
      message:
        `${fields.provider} returned no image for ${fields.modelId}: ${fields.detail ?? 'the result was empty or filtered (content policy)'}. ` +
        'Nothing was retried: the same request gets the same answer; change the prompt or the model.',
    });
    this.name = 'NoImageError';
  }

  static override isInstance(error: unknown): error is NoImageError {
    return ImagegenError.isInstance(error) && error.kind === 'no-image';
  }
}

/** What timed out, and within which limit; `provider` and `modelId` when a provider call did. */
export type TimeoutFields = {
  /** What was waited for, e.g. `the request` or `the download from cdn.example.com`. */
  operation: string;
  /** The limit, when known (an app's own `AbortSignal.timeout(ms)` does not say). */
  timeoutMs?: number | undefined;
  provider?: string | undefined;
  modelId?: string | undefined;
  /** The whole message, when the caller words it; otherwise it is made from the fields. */
  message?: string | undefined;
  cause?: unknown;
};

/**
 * Something took longer than its limit: a provider call (the batch's `timeoutMs`, the CLI's
 * `--timeout`), the download of an image URL, or an app's `AbortSignal.timeout(...)`. Its `name`
 * is `TimeoutError`, as on the DOMException of `AbortSignal.timeout`, so the AI SDK passes it on
 * as a cancel instead of wrapping it as a network failure.
 */
export class TimeoutError extends ImagegenError {
  readonly operation: string;
  readonly timeoutMs: number | undefined;
  readonly provider: string | undefined;
  readonly modelId: string | undefined;
  /** The caller's own wording, kept apart so `forCall` can put the provider in front of it. */
  readonly #wording: string | undefined;

  constructor(fields: TimeoutFields) {
    super({ kind: 'timeout', message: fields.message ?? describeTimeout(fields), cause: fields.cause });
    this.name = 'TimeoutError';
    this.operation = fields.operation;
    this.timeoutMs = fields.timeoutMs;
    this.provider = fields.provider;
    this.modelId = fields.modelId;
    this.#wording = fields.message;
  }

  /**
   * This timeout as met by a call to `provider` for `modelId`: itself when it already names them,
   * else the same limit with them added (a signal made before the model was known cannot name it).
   */
  forCall({ provider, modelId }: { provider: string; modelId: string }): TimeoutError {
    if (this.provider !== undefined) return this;
    return new TimeoutError({
      operation: this.operation,
      timeoutMs: this.timeoutMs,
      provider,
      modelId,
      message: this.#wording === undefined ? undefined : `${provider} failed for ${modelId}: ${this.#wording}`,
      cause: this.cause,
    });
  }

  static override isInstance(error: unknown): error is TimeoutError {
    return ImagegenError.isInstance(error) && error.kind === 'timeout';
  }
}

/**
 * A request not sent because its spend would pass a budget (`maxCostUsd`, a `Budget`, `--budget`):
 * what was spent, what is in flight, and what this request would have cost. Nothing was sent for it.
 */
export class BudgetExceededError extends ImagegenError {
  readonly limitUsd: number;
  /** Spent so far: actual costs where the provider reported them, estimates otherwise. */
  readonly spentUsd: number;
  /** Estimated cost of requests sent and not yet answered. */
  readonly inFlightUsd: number;
  /** What the refused request was estimated to cost; `undefined` when its price is unknown. */
  readonly requestUsd: number | undefined;

  constructor({ limitUsd, spentUsd, inFlightUsd, requestUsd, model }: { limitUsd: number; spentUsd: number; inFlightUsd: number; requestUsd: number | undefined; model: string }) {
    const usd = (value: number) => `$${value.toFixed(4)}`;
    super({
      kind: 'budget',
      message:
        requestUsd === undefined
          ? `Not sent: the price of ${model} is unknown, so a budget of ${usd(limitUsd)} cannot bound it; give it a price (setPriceOverrides() or --price ${model}=<usd>/image)`
          : `Not sent: ${model} would cost about ${usd(requestUsd)}, and with ${usd(spentUsd)} spent` +
            `${inFlightUsd > 0 ? ` and ${usd(inFlightUsd)} in flight` : ''} that passes the budget of ${usd(limitUsd)}`,
    });
    this.name = 'BudgetExceededError';
    this.limitUsd = limitUsd;
    this.spentUsd = spentUsd;
    this.inFlightUsd = inFlightUsd;
    this.requestUsd = requestUsd;
  }

  static override isInstance(error: unknown): error is BudgetExceededError {
    return ImagegenError.isInstance(error) && error.kind === 'budget';
  }
}

function describeTimeout({ operation, timeoutMs, provider, modelId }: TimeoutFields): string {
  const limit = timeoutMs === undefined ? 'before its abort signal timed out' : `within ${timeoutMs / 1000}s`;
  return provider !== undefined && modelId !== undefined
    ? `${provider} did not answer for ${modelId} ${limit}`
    : `${operation} did not finish ${limit}`;
}

/** The message of anything thrown: an `Error`'s own, else the value as text. */
export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

/**
 * A provider's message made printable (no control characters, at most `MAX_PROVIDER_TEXT`
 * characters) and without trailing full stops, to sit inside a sentence of ours.
 */
const tidy = (text: string | undefined) => (text === undefined ? undefined : plainText(redactSecrets(text)).replace(/\.+$/, ''));

function describeValue(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value instanceof Uint8Array) return `${value.byteLength} bytes`;
  let text: string;
  try {
    text = JSON.stringify(value) ?? String(value);
  } catch {
    text = typeof value === 'object' ? 'an object too deeply nested (or circular) to show' : String(value);
  }
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}
