/**
 * Beyond one machine, measured from the outside with real processes: Debian's redis-server, the
 * emulator in a child process (it logs each call's start and status), `imagegen batch --queue` as a
 * user runs it, and workers as child processes (test/helpers/queue-worker-child.ts: `runWorker`
 * with a short job lock, so a killed worker's jobs move on in seconds).
 *
 * - queue-workers: 3 workers, 120/min, 500 images: the share of the limit reached once running, 429s.
 * - queue-kill: the same with one worker killed (kill -9) mid-run: images delivered, duplicates.
 * - shared-limiter: two app processes, one Redis limiter of 60/min: calls in any 60 s.
 * - worker-memory: a worker's peak RSS for 100 and 1,000 images of 1024x1024.
 */
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { EmulatorOptions } from '../src/emulator/index.js';
import { ensureRedis, startRedis, type RedisServer } from '../test/helpers/redis.js';
import type { BenchmarkOptions, BenchmarkOutcome, TableRow } from './run.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const WORKER_CHILD = path.join(ROOT, 'test', 'helpers', 'queue-worker-child.ts');

type Call = { startedAt: number; outcome: string };

/** The emulator in its own process, logging each call. */
async function emulatorProcess(options: EmulatorOptions): Promise<{ url: string; calls: () => Promise<Call[]>; close: () => Promise<void> }> {
  const child = fork(path.join(import.meta.dirname, 'emulator-child.ts'), [JSON.stringify(options)], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const ask = <T>(type: string, answer: string): Promise<T> =>
    new Promise((resolve) => {
      const onMessage = (message: { type: string } & Record<string, unknown>) => {
        if (message.type !== answer) return;
        child.off('message', onMessage);
        resolve(message as T);
      };
      child.on('message', onMessage);
      child.send({ type });
    });
  const url = await new Promise<string>((resolve) => child.once('message', (message: { url: string }) => resolve(message.url)));
  return {
    url,
    calls: async () => (await ask<{ calls: Call[] }>('calls', 'calls')).calls,
    close: async () => {
      child.send({ type: 'close' });
      await new Promise((resolve) => child.once('exit', resolve));
    },
  };
}

function workerProcess(queue: string, emulatorUrl: string, { concurrency, lockMs }: { concurrency: number; lockMs: number }): ChildProcess {
  return fork(WORKER_CHILD, [queue, String(concurrency), String(lockMs)], {
    execArgv: ['--import', 'tsx'],
    cwd: ROOT,
    env: { ...process.env, TOGETHER_API_KEY: 'bench-key', TOGETHER_BASE_URL: emulatorUrl },
    stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
  });
}

/** `imagegen batch … --queue … --json` in a child process, as a user runs it. */
function follow(args: string[], emulatorUrl: string): Promise<{ code: number | null; summary: Record<string, number> | undefined; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'batch', ...args, '--json'], {
    cwd: ROOT,
    env: { ...process.env, TOGETHER_API_KEY: 'bench-key', TOGETHER_BASE_URL: emulatorUrl, NO_COLOR: '1' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  return new Promise((resolve) =>
    child.once('exit', (code) => {
      const summary = stdout.trim() === '' ? undefined : (JSON.parse(stdout) as { summary: Record<string, number> }).summary;
      resolve({ code, summary, stderr: stderr.slice(-2000) });
    }),
  );
}

async function setUp(images: number): Promise<{ dir: string; file: string; out: string; redis: RedisServer }> {
  const binary = await ensureRedis();
  if (!('path' in binary)) throw new Error(`the queue benchmarks need redis-server: ${binary.skipReason}`);
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-bench-queue-'));
  const file = path.join(dir, 'requests.txt');
  await writeFile(file, `${Array.from({ length: images }, (_, index) => `a harbour at dusk, frame ${index + 1}`).join('\n')}\n`);
  return { dir, file, out: path.join(dir, 'out'), redis: await startRedis() };
}

const imagesIn = async (out: string) => (await readdir(out)).filter((name) => /\.(png|jpg)$/.test(name)).length;

/** Calls per minute from the first to the last call, and 429s after the first minute (once running). */
function pace(calls: Call[]): { perMinute: number; rateLimited: number; rateLimitedOnceRunning: number; maxInAnyMinute: number } {
  const starts = calls.map((call) => call.startedAt).sort((left, right) => left - right);
  const first = starts[0] ?? 0;
  const spanMs = (starts.at(-1) ?? 0) - first;
  let maxInAnyMinute = 0;
  for (const [index, start] of starts.entries()) {
    let count = 0;
    for (let next = index; next < starts.length && starts[next]! < start + 60_000; next++) count++;
    maxInAnyMinute = Math.max(maxInAnyMinute, count);
  }
  return {
    perMinute: spanMs > 0 ? Math.round(((starts.length - 1) / spanMs) * 60_000 * 10) / 10 : 0,
    rateLimited: calls.filter((call) => call.outcome === '429').length,
    rateLimitedOnceRunning: calls.filter((call) => call.outcome === '429' && call.startedAt >= first + 60_000).length,
    maxInAnyMinute,
  };
}

export async function runQueueWorkers({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const images = quick ? 40 : 500;
  const rate = 120;
  const { dir, file, out, redis } = await setUp(images);
  const emulator = await emulatorProcess({ rateLimit: `${rate}/min` });
  const workers = [0, 1, 2].map(() => workerProcess(redis.url, emulator.url, { concurrency: 4, lockMs: 30_000 }));
  try {
    const started = Date.now();
    const result = await follow([file, '-o', out, '--size', '512x512', '--queue', redis.url, '--rate-limit', `${rate}/min`, '--no-cache'], emulator.url);
    const measured = pace(await emulator.calls());
    const delivered = await imagesIn(out);
    log(`  3 workers at ${rate}/min: ${delivered}/${images} images in ${((Date.now() - started) / 1000).toFixed(1)} s, ${measured.perMinute}/min, ${measured.rateLimited} × 429, exit ${result.code}`);
    const share = measured.perMinute / rate;
    return {
      rows: [
        {
          benchmark: 'queue: 3 workers, one limit',
          variant: `${images} images, --rate-limit ${rate}/min, emulator limit ${rate}/min, 3 worker processes × 4`,
          result: `${measured.perMinute}/min (${Math.round(share * 1000) / 10}% of the limit), ${measured.rateLimitedOnceRunning} × 429 once running (${measured.rateLimited} in all), at most ${measured.maxInAnyMinute} calls in any 60 s, ${delivered}/${images} images`,
          target: '≥ 90% of the limit, 0 × 429 once running',
          met: share >= 0.9 && measured.rateLimitedOnceRunning === 0 && delivered === images && result.code === 0,
        },
      ],
      raw: { images, rate, delivered, exitCode: result.code, summary: result.summary, ...measured },
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await emulator.close();
    await redis.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runQueueKill({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const images = quick ? 60 : 500;
  const concurrency = 4;
  const { dir, file, out, redis } = await setUp(images);
  const emulator = await emulatorProcess({ latency: '400ms' });
  const workers = [0, 1, 2].map(() => workerProcess(redis.url, emulator.url, { concurrency, lockMs: 5000 }));
  try {
    const running = follow([file, '-o', out, '--size', '512x512', '--queue', redis.url, '--rate-limit', '600/min', '--no-cache'], emulator.url);
    // Mid-run: a third of the images are made.
    while ((await emulator.calls()).length < images / 3) await new Promise((resolve) => setTimeout(resolve, 100));
    workers[0]!.kill('SIGKILL');
    const result = await running;
    const calls = (await emulator.calls()).filter((call) => call.outcome === '200').length;
    const delivered = await imagesIn(out);
    const duplicates = calls - images;
    log(`  kill -9 one of 3 workers: ${delivered}/${images} images, ${calls} calls (${duplicates} sent twice), exit ${result.code}`);
    return {
      rows: [
        {
          benchmark: 'queue: kill -9 a worker',
          variant: `${images} images, 600/min, 3 workers × ${concurrency}, one killed a third of the way (job lock 5 s)`,
          result: `${delivered}/${images} images, ${duplicates} sent twice`,
          target: `${images}/${images}, duplicates ≤ ${concurrency} (the killed worker's concurrency)`,
          met: delivered === images && duplicates <= concurrency && result.code === 0,
        },
      ],
      raw: { images, concurrency, delivered, calls, duplicates, exitCode: result.code, summary: result.summary },
    };
  } finally {
    for (const worker of workers) worker.kill('SIGKILL');
    await emulator.close();
    await redis.close();
    await rm(dir, { recursive: true, force: true });
  }
}

export async function runSharedLimiter({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const seconds = quick ? 15 : 90;
  const rate = 60;
  const binary = await ensureRedis();
  if (!('path' in binary)) throw new Error(`the shared limiter benchmark needs redis-server: ${binary.skipReason}`);
  const redis = await startRedis();
  const emulator = await emulatorProcess({});
  try {
    const apps = [0, 1].map(() =>
      fork(path.join(import.meta.dirname, 'shared-limiter-app.ts'), [redis.url, String(rate), String(seconds * 1000)], {
        execArgv: ['--import', 'tsx'],
        cwd: ROOT,
        env: { ...process.env, TOGETHER_API_KEY: 'bench-key', TOGETHER_BASE_URL: emulator.url },
        stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
      }),
    );
    await Promise.all(apps.map((app) => new Promise((resolve) => app.once('exit', resolve))));
    const measured = pace(await emulator.calls());
    log(`  two apps, one Redis limiter of ${rate}/min for ${seconds} s: at most ${measured.maxInAnyMinute} calls in any 60 s (${measured.perMinute}/min)`);
    const row: TableRow = {
      benchmark: 'shared limiter, two app processes',
      variant: `createRedisRateLimiter ${rate}/min in each, generateImages in a loop for ${seconds} s`,
      result: `at most ${measured.maxInAnyMinute} calls in any 60 s (${measured.perMinute}/min overall)`,
      target: `≤ ${rate} a minute together`,
      met: measured.maxInAnyMinute <= rate,
    };
    return { rows: [row], raw: { seconds, rate, ...measured } };
  } finally {
    await emulator.close();
    await redis.close();
  }
}

export async function runWorkerMemory({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const sizes = quick ? [20, 60] : [100, 1000];
  const results: { images: number; peakRssMiB: number; peaks: Record<string, number> }[] = [];
  const emulator = await emulatorProcess({});
  try {
    for (const images of sizes) {
      const { dir, file, out, redis } = await setUp(images);
      try {
        const worker = fork(WORKER_CHILD, [redis.url, '6', '30000'], {
          execArgv: ['--import', 'tsx'],
          cwd: ROOT,
          env: { ...process.env, TOGETHER_API_KEY: 'bench-key', TOGETHER_BASE_URL: emulator.url, WORKER_EXIT_WHEN_IDLE: '0', WORKER_REPORT_MEMORY: '1' },
          stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
        });
        let memory: { peakRssKb: number; peaks: Record<string, number> } | undefined;
        worker.on('message', (message: { type: string; peakRssKb?: number; peaks?: Record<string, number> }) => {
          if (message.type === 'memory') memory = { peakRssKb: message.peakRssKb!, peaks: message.peaks! };
        });
        const result = await follow([file, '-o', out, '--size', '1024x1024', '--queue', redis.url, '--no-cache'], emulator.url);
        worker.kill('SIGTERM');
        await new Promise((resolve) => worker.once('exit', resolve));
        if (memory === undefined || result.code !== 0) throw new Error(`worker-memory: no report (exit ${result.code}): ${result.stderr}`);
        const peakRssMiB = Math.round((memory.peakRssKb / 1024) * 10) / 10;
        log(`  worker, ${images} images: peak RSS ${peakRssMiB} MiB (${Object.entries(memory.peaks).map(([name, bytes]) => `${name} ${(bytes / 2 ** 20).toFixed(1)}`).join(', ')} MiB)`);
        results.push({ images, peakRssMiB, peaks: memory.peaks });
      } finally {
        await redis.close();
        await rm(dir, { recursive: true, force: true });
      }
    }
  } finally {
    await emulator.close();
  }
  const growth = (results.at(-1)!.peakRssMiB - results[0]!.peakRssMiB) / results[0]!.peakRssMiB;
  return {
    rows: [
      {
        benchmark: 'peak RSS, a worker',
        variant: 'imagegen worker, 1024x1024, concurrency 6, fresh process per size',
        result: `${results.map((result) => `${result.images} img: ${result.peakRssMiB} MiB`).join(', ')} (${growth >= 0 ? '+' : ''}${(growth * 100).toFixed(1)}%)`,
        target: 'flat (≤ +10% from 100 to 1,000)',
        met: growth <= 0.1,
      },
    ],
    raw: { sizes: results, growthPercent: Math.round(growth * 1000) / 10 },
  };
}
