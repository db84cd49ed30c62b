import { fork, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import type { BatchSummary } from '../src/batch/engine.js';
import type { JournalEntry } from '../src/batch/journal.js';
import { runCli } from '../src/cli/main.js';
import type { Emulator } from '../src/emulator/index.js';
import { parseBatchInput } from '../src/batch/input.js';
import { runQueuedBatch } from '../src/queue/follow.js';
import { runWorker, type RunWorkerOptions } from '../src/queue/worker.js';
import { memoryIO } from './helpers/cli.js';
import { emulatorPerTest } from './helpers/emulators.js';
import { ensureRedis, startRedis, type RedisServer } from './helpers/redis.js';

const redisBinary = await ensureRedis();
const SUITE = `batch --queue and imagegen worker on Debian's redis-server${'skipReason' in redisBinary ? ` (skipped: ${redisBinary.skipReason})` : ''}`;
const emulator = emulatorPerTest();

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup().catch(() => undefined);
});

async function redisServer(options: { persist?: boolean } = {}): Promise<RedisServer> {
  const server = await startRedis({ persist: options.persist ?? false });
  cleanups.push(() => server.close());
  return server;
}

async function workspace(lines: string[]): Promise<{ dir: string; file: string; out: string }> {
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-queue-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'requests.txt');
  await writeFile(file, `${lines.join('\n')}\n`);
  return { dir, file, out: path.join(dir, 'out') };
}

/** Workers in this process, stopped after the test; each call's start time is recorded. */
function workers(server: Emulator, { apiKey = 'test-key' }: { apiKey?: string } = {}) {
  const starts: number[] = [];
  const recording: typeof fetch = async (input, init) => {
    starts.push(Date.now());
    return fetch(input, init);
  };
  const togetherai = createTogetherAI({ apiKey, baseURL: server.url, fetch: recording });
  const start = (options: Omit<RunWorkerOptions, 'providers'>) => {
    const stop = new AbortController();
    const running = runWorker({ pollMs: 100, providers: { togetherai }, signal: stop.signal, ...options });
    cleanups.push(async () => {
      stop.abort();
      await running.catch(() => undefined);
    });
    return { stop, running };
  };
  return { starts, start };
}

async function batch(args: string[], cwd: string) {
  const io = memoryIO(cwd);
  const code = await runCli(['batch', ...args], io);
  const json = io.stdoutText().trim() === '' ? undefined : (JSON.parse(io.stdoutText()) as { summary: BatchSummary; images: { file: string }[] });
  return { code, json, stderr: io.stderrText() };
}

async function manifest(out: string): Promise<JournalEntry[]> {
  return (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as JournalEntry);
}

async function imageFiles(out: string): Promise<string[]> {
  return (await readdir(out)).filter((name) => /\.(png|jpg)$/.test(name)).sort();
}

const prompts = (count: number) => Array.from({ length: count }, (_, index) => `a fox number ${index}`);

describe.skipIf('skipReason' in redisBinary)(SUITE, { timeout: 60_000 }, () => {
  it('two workers make every image once; the follower prints the same summary and --json as a local run; a re-run sends 0 requests', async () => {
    const redis = await redisServer();
    const server = await emulator();
    const { dir, file, out } = await workspace(prompts(6));
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 2 });
    pool.start({ queue: redis.url, concurrency: 2 });
    const first = await batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    expect(first.code, first.stderr).toBe(0);
    expect(first.json?.summary).toMatchObject({ total: 6, done: 6, failed: 0, skipped: 0, images: 6, requests: 6, stopped: false });
    expect(first.json?.images.map((image) => image.file).sort()).toEqual(await imageFiles(out));
    expect(await imageFiles(out)).toHaveLength(6);
    expect(server.stats().requests).toBe(6);
    const entries = await manifest(out);
    expect(entries.map((entry) => entry.status)).toEqual(Array(6).fill('done'));
    expect(new Set(entries.map((entry) => entry.line))).toEqual(new Set([1, 2, 3, 4, 5, 6]));

    const again = await batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache'], dir);
    expect(again.code).toBe(0);
    expect(again.stderr).toContain('done 0 (0 cached), skipped 6 (done before), failed 0');
    expect(again.stderr).toContain('0 requests sent');
    expect(server.stats().requests).toBe(6);
    // Followed to its end: nothing of the run stays in Redis.
    const client = new Redis(redis.port, '127.0.0.1');
    cleanups.push(async () => client.disconnect());
    expect(await client.keys('*')).toEqual([]);
  });

  it('bad lines are refused before anything is queued: exit 2, Redis untouched', async () => {
    const redis = await redisServer();
    await emulator();
    const { dir, out } = await workspace([]);
    const file = path.join(dir, 'bad.jsonl');
    await writeFile(file, '{"prompt":"a fox"}\n{"prompt":"a whale","count":"two"}\n');
    const result = await batch([file, '-o', out, '--queue', redis.url], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/bad\.jsonl:2:\d+: count/);
    const client = new Redis(redis.port, '127.0.0.1');
    cleanups.push(async () => client.disconnect());
    expect(await client.keys('*')).toEqual([]);
  });

  it('a bad --queue URL is a usage error naming the flag, before the file is read; a Redis that cannot be reached at the start is named', async () => {
    const { dir, file, out } = await workspace(['a fox']);
    const result = await batch([file, '-o', out, '--queue', 'http://127.0.0.1:1'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--queue');
    expect(result.stderr).toContain('redis://');
    await emulator();
    const unreachable = await batch([file, '-o', out, '--queue', 'redis://127.0.0.1:1'], dir);
    expect(unreachable.code).toBe(2);
    expect(unreachable.stderr).toContain('cannot reach Redis at 127.0.0.1:1/0');
    expect(await readdir(out).catch(() => [])).not.toContain('manifest.jsonl');
  });

  it('one rate limit for all workers, paced evenly: three workers at 300/min start calls 200 ms apart, never a burst', async () => {
    const redis = await redisServer();
    const server = await emulator();
    const { dir, file, out } = await workspace(prompts(9));
    const pool = workers(server);
    for (let index = 0; index < 3; index++) pool.start({ queue: redis.url, concurrency: 3 });
    const result = await batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--rate-limit', '300/min', '--no-cache'], dir);
    expect(result.code, result.stderr).toBe(0);
    expect(pool.starts).toHaveLength(9);
    const gaps = pool.starts.slice(1).map((time, index) => time - pool.starts[index]!);
    // BullMQ's limiter starts one job per 200 ms; each call follows its job's start after its planning,
    // which varies by up to ~100 ms here (three workers, the follower and the emulator's rendering share
    // one event loop; bench/queue-workers.ts measures them apart). No burst (unpaced, the nine calls
    // start within a few ms), and no second holds more than its five calls plus one for that jitter.
    expect(Math.min(...gaps)).toBeGreaterThanOrEqual(40);
    for (const start of pool.starts) expect(pool.starts.filter((time) => time >= start && time < start + 1000).length).toBeLessThanOrEqual(6);
    expect(pool.starts.at(-1)! - pool.starts[0]!).toBeGreaterThanOrEqual(8 * 200 - 150);
  });

  it("the provider's 429s and spent windows hold every worker (worker.rateLimit): every job done, each 429 one retry", async () => {
    const redis = await redisServer();
    const server = await emulator({ rateLimit: '3/2s' });
    const { dir, file, out } = await workspace(prompts(9));
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 2 });
    pool.start({ queue: redis.url, concurrency: 2 });
    const result = await batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    expect(result.code, JSON.stringify(result.json?.summary)).toBe(0);
    expect(result.json?.summary).toMatchObject({ done: 9, failed: 0, images: 9 });
    const rateLimited = server.stats().byStatus['429'] ?? 0;
    // Four slots start together when a hold ends and three fit the window: a few 429s, each held
    // for its retry-after by every worker and counted as a retry.
    expect(rateLimited).toBeGreaterThan(0);
    expect(server.stats().requests).toBe(9 + rateLimited);
    expect(result.json?.summary.retries).toBe(rateLimited);
  });

  it('the circuit breaker stops the provider for every worker: a 401 is sent at most once per worker in flight', async () => {
    const redis = await redisServer();
    const server = await emulator({ apiKey: 'the-right-key', latency: 100 });
    const { dir, file, out } = await workspace(prompts(8));
    const pool = workers(server, { apiKey: 'a-wrong-key' });
    pool.start({ queue: redis.url, concurrency: 1 });
    pool.start({ queue: redis.url, concurrency: 1 });
    const result = await batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    expect(result.code).toBe(1);
    expect(result.json?.summary).toMatchObject({ done: 0, failed: 8 });
    expect(result.json?.summary.openCircuits).toHaveLength(1);
    expect(result.json?.summary.openCircuits[0]?.scope).toBe('togetherai');
    expect(server.stats().requests).toBeLessThanOrEqual(2);
    expect(result.json?.summary.failures.filter((failure) => failure.error.startsWith('not sent: togetherai answered HTTP 401'))).toHaveLength(8 - server.stats().requests);
  });

  it('kill -9 a worker mid-run: another takes its jobs after their lock runs out, and every image is in the output once', async () => {
    const redis = await redisServer();
    const server = await emulator({ latency: 1500 });
    const { dir, file, out } = await workspace(prompts(6));
    const child = fork(path.join(import.meta.dirname, 'helpers', 'queue-worker-child.ts'), [redis.url, '3', '1500'], {
      execArgv: ['--import', 'tsx'],
      env: { ...process.env },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    cleanups.push(async () => void child.kill('SIGKILL'));
    const running = batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    await until(() => server.stats().requests >= 3);
    child.kill('SIGKILL');
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 3, lockDurationMs: 1500 });
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.json?.summary).toMatchObject({ done: 6, failed: 0, images: 6 });
    expect(await imageFiles(out)).toHaveLength(6);
    // The killed worker's three calls were paid and are sent again: no more than its concurrency.
    expect(server.stats().requests).toBeGreaterThanOrEqual(6);
    expect(server.stats().requests).toBeLessThanOrEqual(9);
    const leftovers = (await readdir(out)).filter((name) => name.startsWith('.imagegen-tmp-'));
    expect(leftovers).toEqual([]);
  });

  it('Redis stopped and started again mid-run: the workers and the follower wait for it and carry on; nothing is lost', async () => {
    const redis = await redisServer({ persist: true });
    const server = await emulator({ latency: 300 });
    const { dir, file, out } = await workspace(prompts(8));
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 2 });
    const running = batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    await until(() => server.stats().requests >= 2);
    await redis.stop();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    await redis.start();
    const result = await running;
    expect(result.code, result.stderr).toBe(0);
    expect(result.json?.summary).toMatchObject({ done: 8, failed: 0, images: 8 });
    expect(await imageFiles(out)).toHaveLength(8);
    expect((await manifest(out)).filter((entry) => entry.status === 'done')).toHaveLength(8);
  });

  it('a shared cache in Redis: workers of another run reuse the images, sending nothing; entries are checked by SHA-256', async () => {
    const redis = await redisServer();
    const server = await emulator();
    const { dir, file, out } = await workspace(prompts(3));
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 2 });
    const first = await batch([file, '-o', out, '--size', '256x256', '--seed', '5', '--queue', redis.url, '--cache', redis.url, '--json'], dir);
    expect(first.json?.summary).toMatchObject({ done: 3, cached: 0, requests: 3 });
    const second = await batch([file, '-o', path.join(dir, 'out2'), '--size', '256x256', '--seed', '5', '--queue', redis.url, '--cache', redis.url, '--json'], dir);
    expect(second.json?.summary).toMatchObject({ done: 3, cached: 3, requests: 0 });
    expect(server.stats().requests).toBe(3);
    expect(await readFile(path.join(dir, 'out2', second.json!.images[0]!.file))).toEqual(await readFile(path.join(out, first.json!.images.find((image) => image.file === second.json!.images[0]!.file)!.file)));

    // An object whose bytes no longer match its hash is dropped and the request generated again.
    const client = new Redis(redis.port, '127.0.0.1');
    cleanups.push(async () => client.disconnect());
    const objects = await client.keys('imagegen:cache:objects:*');
    expect(objects).toHaveLength(3);
    for (const key of objects) await client.set(key, 'base64:AAAA');
    const third = await batch([file, '-o', path.join(dir, 'out3'), '--size', '256x256', '--seed', '5', '--queue', redis.url, '--cache', redis.url, '--json'], dir);
    expect(third.json?.summary).toMatchObject({ done: 3, cached: 0, requests: 3 });
  });

  it('a follower stopped mid-run (Ctrl-C) pauses the queue, lets the jobs in flight finish and records them; the same run again resumes', async () => {
    const redis = await redisServer();
    const server = await emulator({ latency: 400 });
    const { file, out } = await workspace(prompts(6));
    const pool = workers(server);
    pool.start({ queue: redis.url, concurrency: 1 });
    const jobs = parseBatchInput({ text: await readFile(file, 'utf8'), format: 'text', defaults: { size: '256x256' } }).jobs;
    const stop = new AbortController();
    const first = await runQueuedBatch({
      jobs,
      outDir: out,
      queue: redis.url,
      signal: stop.signal,
      onEvent: (event) => {
        if (event.type === 'done') stop.abort();
      },
    });
    expect(first.stopped).toBe(true);
    expect(first.done).toBeGreaterThanOrEqual(1);
    expect(first.done + first.pending).toBe(6);
    const sentBefore = server.stats().requests;
    expect(sentBefore).toBeLessThanOrEqual(first.done + 1);
    const second = await runQueuedBatch({ jobs, outDir: out, queue: redis.url });
    expect(second).toMatchObject({ stopped: false, failed: 0 });
    expect(second.done + second.skipped).toBe(6);
    expect(await imageFiles(out)).toHaveLength(6);
    expect(server.stats().requests).toBeLessThanOrEqual(6 + 1);
  });

  it('imagegen worker --exit-when-idle ends once no run has work; Ctrl-C (SIGTERM) lets its jobs in flight finish', async () => {
    const redis = await redisServer();
    const server = await emulator({ latency: 800 });
    const { dir, file, out } = await workspace(prompts(2));
    const io = memoryIO(dir);
    const idle = await runCli(['worker', '--queue', redis.url, '--exit-when-idle'], io);
    expect(idle).toBe(0);
    expect(io.stderrText()).toContain('done 0');
    const pool = workers(server);
    const worker = pool.start({ queue: redis.url, concurrency: 2 });
    const running = batch([file, '-o', out, '--size', '256x256', '--queue', redis.url, '--no-cache', '--json'], dir);
    await until(() => server.stats().requests >= 2);
    worker.stop.abort();
    const summary = await worker.running;
    expect(summary).toMatchObject({ done: 2, failed: 0 });
    const result = await running;
    expect(result.json?.summary).toMatchObject({ done: 2, failed: 0 });
  });
});

async function until(condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('timed out waiting');
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export type { ChildProcess };
