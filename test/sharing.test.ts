import { mkdtemp, readdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createStorage } from 'unstorage';
import { afterEach, describe, expect, it } from 'vitest';
import { ImageCache } from '../src/batch/cache.js';
import { runCli } from '../src/cli/main.js';
import { generateImages } from '../src/generate.js';
import { GeneratedImage } from '../src/image.js';
import { createRedisRateLimiter } from '../src/queue/redis-limiter.js';
import { redisStorage } from '../src/queue/shared-cache.js';
import { StorageImageCache } from '../src/sharing/image-cache.js';
import { renderPlaceholder } from '../src/placeholder/render.js';
import { memoryIO } from './helpers/cli.js';
import { emulatorPerTest } from './helpers/emulators.js';
import { ensureRedis, startRedis } from './helpers/redis.js';

const emulator = emulatorPerTest();
const redisBinary = await ensureRedis();
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

const folder = async () => {
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-sharing-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
};

function image(seed: number, size = 64): GeneratedImage {
  const bytes = renderPlaceholder({ prompt: `image ${seed}`, seed, width: size, height: size, format: 'png' });
  return new GeneratedImage({ uint8Array: bytes, index: 0, seed, provider: 'local', modelId: 'placeholder', request: { prompt: 'x', model: 'local:placeholder', count: 1, safetyChecker: false }, timings: undefined, responseId: undefined });
}

describe('the seeded cache on any storage, with a size cap', () => {
  it('StorageImageCache over unstorage (memory): a put is served back, checked by SHA-256', async () => {
    const storage = createStorage();
    const cache = new StorageImageCache({ storage: storage as never });
    await cache.put('k1', [image(1)]);
    const hit = await cache.get('k1');
    expect(hit?.[0]?.bytes).toEqual(image(1).uint8Array);
    expect(await cache.get('missing')).toBeUndefined();
    const [object] = await storage.getKeys('objects');
    await storage.setItemRaw(object!, image(2).uint8Array);
    expect(await cache.get('k1')).toBeUndefined();
    expect(await storage.getKeys('requests')).toEqual([]);
  });

  it('prune drops the least recently used requests until under the cap, and objects nothing lists', async () => {
    const dir = await folder();
    const cache = new ImageCache(dir);
    const sizes: number[] = [];
    for (let seed = 1; seed <= 4; seed++) {
      const made = image(seed, 96);
      sizes.push(made.uint8Array.length);
      await cache.put(`key${seed}`, [made]);
      // Older first: key1 least recently used, unless served since.
      const old = new Date(Date.now() - (10 - seed) * 60_000);
      await utimes(path.join(dir, 'requests', `key${seed}.json`), old, old);
    }
    await cache.get('key1');
    // A torn put's object, old enough to be an orphan, and one a put in flight has just written.
    const orphan = path.join(dir, 'objects', `${'0'.repeat(64)}.png`);
    await writeFile(orphan, 'orphan');
    const longAgo = new Date(Date.now() - 60 * 60_000);
    await utimes(orphan, longAgo, longAgo);
    await writeFile(path.join(dir, 'objects', `${'1'.repeat(64)}.png`), 'a put in flight');
    const total = sizes.reduce((sum, size) => sum + size, 0);
    const result = await cache.prune({ maxBytes: total - sizes[1]! / 2 });
    expect(result).toMatchObject({ removedRequests: 1, removedObjects: 2, bytesBefore: total });
    expect(await cache.get('key2')).toBeUndefined();
    for (const key of ['key1', 'key3', 'key4']) expect(await cache.get(key)).toBeDefined();
    // The young one is kept: its record may be written next.
    expect((await readdir(path.join(dir, 'objects'))).length).toBe(4);
  });

  it('a cache with maxBytes keeps itself under it as it fills', async () => {
    const cache = new StorageImageCache({ storage: createStorage() as never, maxBytes: 3 * image(1).uint8Array.length });
    for (let seed = 1; seed <= 8; seed++) await cache.put(`key${seed}`, [image(seed)]);
    const kept = (await Promise.all(Array.from({ length: 8 }, (_, index) => cache.get(`key${index + 1}`)))).filter(Boolean);
    expect(kept.length).toBeGreaterThan(0);
    expect(kept.length).toBeLessThanOrEqual(3);
    expect(await cache.get('key8')).toBeDefined();
  });

  it('imagegen cache prune --max-size, on the cache folder', async () => {
    const dir = await folder();
    const cache = new ImageCache(dir);
    for (let seed = 1; seed <= 3; seed++) await cache.put(`key${seed}`, [image(seed)]);
    const io = memoryIO(dir);
    expect(await runCli(['cache', 'prune', '--cache-dir', dir, '--max-size', '1', '--json'], io)).toBe(0);
    expect(JSON.parse(io.stdoutText())).toMatchObject({ removedRequests: 3, removedObjects: 3, bytesAfter: 0 });
    const bad = memoryIO(dir);
    expect(await runCli(['cache', 'prune', '--max-size', 'lots'], bad)).toBe(2);
    expect(bad.stderrText()).toContain('--max-size');
  });
});

describe.skipIf('skipReason' in redisBinary)(`for apps: a limiter and a cache shared in Redis${'skipReason' in redisBinary ? ` (skipped: ${redisBinary.skipReason})` : ''}`, { timeout: 60_000 }, () => {
  it('two processes’ limiters (two clients) on one Redis keep one pace together: 600/min is one call every 100 ms', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const first = await createRedisRateLimiter({ redis: redis.url, requestsPerMinute: 600 });
    const second = await createRedisRateLimiter({ redis: redis.url, requestsPerMinute: 600 });
    cleanups.push(() => first.close(), () => second.close());
    const times: number[] = [];
    const started = Date.now();
    await Promise.all(Array.from({ length: 10 }, (_, index) => (index % 2 === 0 ? first : second).take().then(() => times.push(Date.now() - started))));
    times.sort((left, right) => left - right);
    const gaps = times.slice(1).map((time, index) => time - times[index]!);
    // Slots are 101 ms apart in Redis's clock; each caller wakes after a round trip and a timer,
    // which a busy machine delays by tens of ms. Unpaced, all ten would start within a few ms: so
    // no two within 20 ms, and no 300 ms holds more than its three slots plus one for that jitter.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(20);
    for (const time of times) expect(times.filter((other) => other >= time && other < time + 300).length).toBeLessThanOrEqual(4);
    expect(times.at(-1)!).toBeGreaterThanOrEqual(9 * 100 - 20);
    await expect(createRedisRateLimiter({ redis: redis.url, requestsPerMinute: 0 })).rejects.toThrow(/requestsPerMinute/);
  });

  it('generateImages with a shared limiter and a Redis cache: another app instance gets the seeded images without a request', async () => {
    const redis = await startRedis();
    cleanups.push(() => redis.close());
    const server = await emulator();
    const providers = { togetherai: createTogetherAI({ apiKey: 'test-key', baseURL: server.url }) };
    const rateLimiter = await createRedisRateLimiter({ redis: redis.url, requestsPerMinute: 600 });
    cleanups.push(() => rateLimiter.close());
    const appOne = await redisStorage(redis.url);
    const appTwo = await redisStorage(redis.url);
    cleanups.push(() => appOne.dispose(), () => appTwo.dispose());
    const request = { prompt: 'a lighthouse', seed: 11, size: '256x256' };
    const made = await generateImages(request, { providers, rateLimiter, cache: new StorageImageCache({ storage: appOne }) });
    expect(made.requests).toBe(1);
    const served = await generateImages(request, { providers, rateLimiter, cache: new StorageImageCache({ storage: appTwo }) });
    expect(served.requests).toBe(0);
    expect(served.images[0]?.uint8Array).toEqual(made.images[0]?.uint8Array);
    expect(served.image).toBe(served.images[0]);
    expect(server.stats().requests).toBe(1);
    // Unseeded requests are not reproducible: never served from the cache.
    const unseeded = await generateImages({ prompt: 'a lighthouse', size: '256x256' }, { providers, cache: new StorageImageCache({ storage: appTwo }) });
    expect(unseeded.requests).toBe(1);
  });
});

describe('concurrent puts', () => {
  it('a first put’s size check does not take the objects of another put still in flight (both are served back)', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-cache-race-'));
    try {
      // A size cap, as the CLI's cache has (5 GB): its first put checks the size, pruning orphans.
      const cache = new ImageCache(dir, { maxBytes: 5e9 });
      const images = Array.from({ length: 8 }, (_, index) => image(index + 1, 64));
      await Promise.all(images.map((made, index) => cache.put(`key${index}`, [made])));
      for (let index = 0; index < images.length; index++) expect((await cache.get(`key${index}`))?.length).toBe(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
