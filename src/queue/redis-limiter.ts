// Node-only: a rate limit on Redis that app instances share, paced evenly like a local run.
import { InvalidRequestError } from '../errors/errors.js';
import type { RequestLimiter } from '../sharing/limiter.js';
import { connectionOptions, KEY_PREFIX, missingPackage, parseRedisUrl } from './connection.js';

/** What the limiter needs of a Redis client: an ioredis client has it (typed here so apps need not install ioredis's types). */
export type RedisEvalClient = { eval(script: string, numberOfKeys: number, ...keysAndArguments: string[]): Promise<unknown> };

export type RedisRateLimiterOptions = {
  /** `redis://HOST:PORT[/DB]`, or an ioredis client of the app's own (left open on `close()`). */
  redis: string | RedisEvalClient;
  /** For all holders together: one call every `60000 / requestsPerMinute` ms (plus 1%), never a burst. */
  requestsPerMinute: number;
  /** Limits of different keys (accounts, providers) are apart. @default 'default' */
  name?: string;
};

export type RedisRateLimiter = RequestLimiter & { close(): Promise<void> };

/** Slots this much further apart than the rate: 60/min books one call every 1,010 ms. */
const HEADROOM = 1.01;

/**
 * Books the next free slot atomically: the key holds when the next call may start; a caller takes
 * the later of that and now, moves it on by one interval, and waits until its slot. Redis's own
 * clock is used, so the machines' clocks need not agree. This is the generic cell rate algorithm
 * with no burst allowance.
 *
 * Why not rate-limiter-flexible (looked at first): its Redis store keeps windows in whole seconds
 * (`EX`), so 120/min (one call every 500 ms) cannot be expressed without allowing a burst of 120 at
 * the start of each minute; BullMQ's limiter paces jobs taken from a queue, not calls an app makes.
 */
const BOOK_SLOT = `
local now = redis.call('TIME')
local nowMs = tonumber(now[1]) * 1000 + math.floor(tonumber(now[2]) / 1000)
local interval = tonumber(ARGV[1])
local nextFree = tonumber(redis.call('GET', KEYS[1]) or '0')
local slot = math.max(nextFree, nowMs)
redis.call('SET', KEYS[1], slot + interval, 'PX', slot + interval - nowMs + 1000)
return slot - nowMs
`;

/**
 * A rate limiter on Redis for `generateImages({ ... }, { rateLimiter })`: every process that
 * creates one with the same Redis and name shares the limit, paced evenly.
 *
 * @example
 * const rateLimiter = await createRedisRateLimiter({ redis: process.env.REDIS_URL!, requestsPerMinute: 60 });
 * await generateImages({ prompt: 'a fox' }, { rateLimiter });
 */
export async function createRedisRateLimiter({ redis, requestsPerMinute, name = 'default' }: RedisRateLimiterOptions): Promise<RedisRateLimiter> {
  if (!(Number.isFinite(requestsPerMinute) && requestsPerMinute > 0)) {
    throw new InvalidRequestError({ issues: [{ field: 'requestsPerMinute', value: requestsPerMinute, message: 'must be a number of requests per minute above 0, e.g. 60' }] });
  }
  let client: RedisEvalClient;
  let disconnect: (() => void) | undefined;
  if (typeof redis === 'string') {
    const target = parseRedisUrl(redis, 'redis');
    const { Redis: RedisClient } = await import('ioredis').catch((error: unknown) => {
      throw missingPackage(error, 'createRedisRateLimiter', 'ioredis');
    });
    const own = new RedisClient(connectionOptions(target));
    // Reconnects on its own; calls wait for it.
    own.on('error', () => {});
    client = own;
    disconnect = () => own.disconnect();
  } else {
    client = redis;
  }
  // 1% apart more than the rate asks: a call that starts late (a slow round trip, a busy event loop)
  // would otherwise let the call 60 slots after it land inside the same 60 s, 61 in a minute.
  const intervalMs = Math.max(1, Math.ceil((60_000 / requestsPerMinute) * HEADROOM));
  const key = `${KEY_PREFIX}:limiter:${name}`;
  return {
    async take({ signal } = {}) {
      signal?.throwIfAborted();
      const waitMs = Number(await client.eval(BOOK_SLOT, 1, key, String(intervalMs)));
      if (waitMs > 0) await sleep(waitMs, signal);
    },
    async close() {
      disconnect?.();
    },
  };
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal?.reason);
    };
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
