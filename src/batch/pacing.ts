import PQueue from 'p-queue';
import { ProviderError } from '../errors/errors.js';

/** Longest wait a provider's rate-limit headers can impose on a queue (longer ones are not trusted). */
export const MAX_PAUSE_SECONDS = 120;

/** What a request needs to know of its job to be paced: its provider and model. */
type Target = { provider: string; modelId: string };

/**
 * The provider side of a batch run: one queue per provider (concurrency, requests per minute),
 * pauses when a provider says its window is spent, and circuits opened by errors that would repeat
 * for every request of a provider (401, 402) or model (403, 404).
 */
export class ProviderPacing {
  readonly #queues = new Map<string, PQueue>();
  readonly #resumeAt = new Map<string, number>();
  readonly #resumeTimers = new Map<string, ReturnType<typeof setTimeout>>();
  readonly #circuits = new Map<string, string>();
  readonly #concurrency: number;
  readonly #requestsPerMinute: number | undefined;

  constructor({ concurrency, requestsPerMinute }: { concurrency: number; requestsPerMinute: number | undefined }) {
    this.#concurrency = concurrency;
    this.#requestsPerMinute = requestsPerMinute;
  }

  queueFor(provider: string): PQueue {
    let queue = this.#queues.get(provider);
    if (!queue) {
      const rate = this.#requestsPerMinute;
      queue = new PQueue({
        concurrency: this.#concurrency,
        ...(rate === undefined ? {} : { interval: Math.ceil(60_000 / rate), intervalCap: 1 }),
      });
      this.#queues.set(provider, queue);
    }
    return queue;
  }

  /**
   * Holds every request to a provider until `milliseconds` from now: when it says its window is
   * spent (a 429's `retry-after`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), the
   * requests queued behind would only collect 429s. One timer per provider, replaced when the pause
   * grows; it keeps the process alive, since the run is waiting on it.
   */
  pause(provider: string, milliseconds: number): void {
    const until = Date.now() + milliseconds;
    if ((this.#resumeAt.get(provider) ?? 0) >= until) return;
    this.#resumeAt.set(provider, until);
    const queue = this.queueFor(provider);
    queue.pause();
    clearTimeout(this.#resumeTimers.get(provider));
    this.#resumeTimers.set(
      provider,
      setTimeout(() => {
        this.#resumeTimers.delete(provider);
        queue.start();
      }, milliseconds),
    );
  }

  /** On a stop: a pause only holds back requests that will not be sent now. */
  clearPauses(): void {
    for (const timer of this.#resumeTimers.values()) clearTimeout(timer);
    this.#resumeTimers.clear();
  }

  /** Why requests to this provider or model are not sent any more, if they are not. */
  circuitOf({ provider, modelId }: Target): string | undefined {
    return this.#circuits.get(provider) ?? this.#circuits.get(`${provider}:${modelId}`);
  }

  /**
   * 401 and 402 are about the account (every model of the provider), 403 and 404 about the model:
   * once seen, the rest of those jobs would only get the same answer, so they are not sent.
   * Returns the scope opened, when this error opened one.
   */
  tripCircuit(target: Target, error: unknown, line: number): { scope: string; reason: string; line: number } | undefined {
    const circuit = circuitOpenedBy(target, error, line);
    if (circuit === undefined || this.#circuits.has(circuit.scope)) return undefined;
    this.#circuits.set(circuit.scope, circuit.notSent);
    return { scope: circuit.scope, reason: circuit.reason, line };
  }
}

/**
 * The circuit an error opens, if it is one that would repeat for every request: 401 and 402 for
 * the provider, 403 and 404 for the model. `notSent` is what the jobs held back by it say;
 * `reason` the error itself. Shared by a local run and the queue's workers.
 */
export function circuitOpenedBy({ provider, modelId }: Target, error: unknown, line: number): { scope: string; reason: string; notSent: string } | undefined {
  if (!ProviderError.isInstance(error) || error.statusCode === undefined) return undefined;
  const status = error.statusCode;
  const scope = status === 401 || status === 402 ? provider : status === 403 || status === 404 ? `${provider}:${modelId}` : undefined;
  if (scope === undefined) return undefined;
  const notSent = `not sent: ${scope} answered HTTP ${status} on line ${line} (${error.message.replace(/\.$/, '')}), which would repeat for every request; fix it and re-run to retry`;
  return { scope, reason: error.message, notSent };
}

/** Milliseconds until the provider's window resets, when its headers say none is left; else `undefined`. */
export function exhaustedWindowMs(headers: Record<string, string> | undefined): number | undefined {
  const remaining = Number(headers?.['x-ratelimit-remaining']);
  const reset = Number(headers?.['x-ratelimit-reset']);
  if (remaining !== 0 || !Number.isFinite(reset) || reset <= 0 || reset > MAX_PAUSE_SECONDS) return undefined;
  return reset * 1000;
}
