import { anySignal } from '../util/any-signal.js';
/**
 * Keys kept out of messages. Two stores: the environment's keys, process-wide (a process reads a
 * handful, and they stay as long as the process anyway), and the keys one provider call sent, in
 * a `RequestSecrets` that only that call and the errors it made hold, so in a server of many
 * tenants a tenant's key leaves memory with its request. No model's private fields are read: a
 * call's keys are what its HTTP requests carried, seen by `observeCredentials` when the provider
 * sends through it (its public `fetch` option).
 */

const environmentSecrets = new Set<string>();

/** Registers a key read from the environment (or given as an option), redacted everywhere from now on. */
export function registerSecret(secret: string | undefined): void {
  if (secret && secret.length >= 4) environmentSecrets.add(secret);
}

/**
 * Replaces the environment's keys, the `secrets` given (a request's own), and anything shaped like a
 * bearer token with `***`.
 */
export function redactSecrets(text: string, secrets?: Iterable<string>): string {
  let result = text.replace(/(Bearer\s+)[^\s"',]+/gi, '$1***');
  for (const secret of environmentSecrets) result = result.split(secret).join('***');
  for (const secret of secrets ?? []) result = result.split(secret).join('***');
  return result;
}

/** Header names that carry a credential in the @ai-sdk packages (Authorization, x-key, x-goog-api-key, …). */
const CREDENTIAL_HEADER = /authorization|api[-_]?key|^x-key$|token|secret/i;
/** The scheme word before a credential in an Authorization header. */
const SCHEME = /^(bearer|key|token|basic)\s+/i;

const bySignal = new WeakMap<AbortSignal, RequestSecrets>();

/** The keys one provider call sent: redacted from that call's errors, and from nothing else. */
export class RequestSecrets {
  readonly #values = new Set<string>();

  /** The values of the credential headers among `headers` (with and without their scheme word). */
  addHeaders(headers: HeadersInit | undefined): void {
    if (headers === undefined) return;
    for (const [name, value] of new Headers(headers)) {
      if (!CREDENTIAL_HEADER.test(name)) continue;
      this.add(value);
      this.add(value.replace(SCHEME, '').trim());
    }
  }

  add(secret: string): void {
    if (secret.length >= 4) this.#values.add(secret);
  }

  /** `text` without the environment's keys and this call's. */
  redact(text: string): string {
    return redactSecrets(text, this.#values);
  }

  /**
   * A signal for the call, following `parent`, by which `observeCredentials` finds this store: the
   * AI SDK passes a call's `abortSignal` through to the provider's `fetch` as it is.
   */
  signalFor(parent: AbortSignal | undefined): AbortSignal {
    const signal = parent === undefined ? new AbortController().signal : anySignal([parent]);
    bySignal.set(signal, this);
    return signal;
  }
}

/**
 * A `fetch` that notes the credentials each request carries for redaction from the errors of the
 * call that sent it (found by the request's signal), then sends it unchanged through `fetchFunction`
 * (the global `fetch`, read at call time, by default). Give it to a provider as its `fetch` option:
 * `createOpenAI({ apiKey, fetch: observeCredentials() })`.
 */
export function observeCredentials(fetchFunction?: typeof fetch): typeof fetch {
  return (input, init) => {
    const request = input instanceof Request ? input : undefined;
    const signal = init?.signal ?? request?.signal;
    const secrets = signal ? bySignal.get(signal) : undefined;
    if (secrets !== undefined) {
      secrets.addHeaders(request?.headers);
      secrets.addHeaders(init?.headers);
    }
    return (fetchFunction ?? globalThis.fetch)(input, init);
  };
}
