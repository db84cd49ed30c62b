// A rate limit shared by every process that holds one (edge-safe: only the type and the hook).

/**
 * A rate limiter shared across processes and machines: `take()` resolves when this process may
 * start one provider call, so all of them together keep to one limit. `createRedisRateLimiter`
 * (Node entry) is one on Redis; anything with this method will do.
 */
export type RequestLimiter = {
  /** Waits for a turn; rejects with the signal's reason when it is aborted first. */
  take(options?: { signal?: AbortSignal | undefined }): Promise<void>;
};

/** Runs a provider call in its turn: the hook `generateImages` puts around each call. */
export async function inTurn<T>(limiter: RequestLimiter | undefined, signal: AbortSignal | undefined, call: () => Promise<T>): Promise<T> {
  if (limiter !== undefined) await limiter.take(signal === undefined ? {} : { signal });
  return call();
}
