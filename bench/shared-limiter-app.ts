/**
 * One "app instance" for the shared-limiter benchmark: generateImages in a loop for a while, every
 * call waiting its turn on one Redis limiter. Args: Redis URL, requests per minute, duration (ms).
 * Four requests at once, so the limiter, not the loop, sets the pace.
 */
import { generateImages } from '../src/generate.js';
import { createRedisRateLimiter } from '../src/queue/redis-limiter.js';

const [redis, rate, durationMs] = process.argv.slice(2);
const rateLimiter = await createRedisRateLimiter({ redis: redis!, requestsPerMinute: Number(rate) });
const until = Date.now() + Number(durationMs);
await Promise.all(
  Array.from({ length: 4 }, async (_, lane) => {
    for (let index = 0; Date.now() < until; index++) {
      await generateImages({ prompt: `a lantern ${lane}-${index}`, size: '256x256' }, { rateLimiter, maxRetries: 0 }).catch(() => undefined);
    }
  }),
);
await rateLimiter.close();
