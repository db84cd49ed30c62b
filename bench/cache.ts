/**
 * The seeded-request cache: the same seeded batch run twice against one cache directory, each time
 * into a fresh output folder. The second run should be served from disk without a single request.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { ImageCache } from '../src/batch/cache.js';
import { runBatch } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import { startEmulator } from '../src/emulator/index.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const SIZE = '256x256';
const LATENCY_MS = 300;
const TARGET_SPEEDUP = 50;

const FULL = { requests: 40 };
const QUICK = { requests: 10 };

type RunResult = { durationMs: number; requests: number; images: number; cached: number; failed: number };

export async function runCache({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const { requests } = quick ? QUICK : FULL;
  const emulator = await startEmulator({ port: 0, seed: 1, quiet: true, latency: LATENCY_MS });
  process.env.TOGETHER_API_KEY = 'bench-key';
  process.env.TOGETHER_BASE_URL = emulator.url;
  const text = Array.from({ length: requests }, (_, index) =>
    JSON.stringify({ prompt: `a tide pool, detail ${index + 1}`, seed: 1000 + index, size: SIZE }),
  ).join('\n');
  const { jobs } = parseBatchInput({ text, format: 'jsonl' });
  const workspace = await mkdtemp(path.join(tmpdir(), 'imagegen-bench-cache-'));
  const cache = new ImageCache(path.join(workspace, 'cache'));

  const timedRun = async (name: string): Promise<RunResult> => {
    const before = emulator.stats().requests;
    const started = performance.now();
    // The batch engine's default concurrency, as `imagegen batch` runs it.
    const summary = await runBatch({ jobs, outDir: path.join(workspace, name), cache });
    const durationMs = performance.now() - started;
    return {
      durationMs: Math.round(durationMs * 10) / 10,
      requests: emulator.stats().requests - before,
      images: summary.images,
      cached: summary.cached,
      failed: summary.failed,
    };
  };
  let first: RunResult;
  let second: RunResult;
  try {
    first = await timedRun('first');
    second = await timedRun('second');
  } finally {
    await emulator.close();
    await rm(workspace, { recursive: true, force: true });
  }

  const speedup = Math.round((first.durationMs / second.durationMs) * 10) / 10;
  log(`  first ${first.durationMs} ms, second ${second.durationMs} ms (${speedup}x), ${second.requests} requests on the second run`);
  const describe = (result: RunResult) =>
    `${(result.durationMs / 1000).toFixed(3)} s, ${result.requests} requests, ${result.images} images (${result.cached} from cache)`;
  return {
    rows: [
      {
        benchmark: 'cache',
        variant: `first run (${requests} seeded requests, ${LATENCY_MS} ms latency)`,
        result: describe(first),
        target: 'baseline',
        met: undefined,
      },
      {
        benchmark: 'cache',
        variant: 'second run (same cache, fresh out dir)',
        result: `${describe(second)}; ${speedup}x faster`,
        target: `0 requests, ≥ ${TARGET_SPEEDUP}x faster`,
        met: second.requests === 0 && second.images === first.images && speedup >= TARGET_SPEEDUP,
      },
    ],
    raw: { settings: { requests, size: SIZE, latencyMs: LATENCY_MS, concurrency: 'runBatch default (4)' }, first, second, speedup },
  };
}
