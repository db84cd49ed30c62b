/**
 * Peak RSS of the batch engine for growing batches of 1024x1024 images, each size in a fresh child
 * process (bench/memory-child.ts), so one size's garbage does not count against the next. The
 * emulator runs here in the parent: rendering and its buffers are not the client's memory.
 */
import { execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { startEmulator } from '../src/emulator/index.js';
import type { MemoryChildReport } from './memory-child.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const run = promisify(execFile);

const SIZE = '1024x1024';
/** Enough requests in flight to keep both of a small machine's cores rendering. */
const CONCURRENCY = 6;
const LIMIT_MIB = 300;
/** "Flat": the largest batch peaks at most this much above the smallest. */
const FLAT_TOLERANCE = 0.1;

const FULL = [100, 500, 1000];
const QUICK = [20, 60];

type SizeResult = MemoryChildReport & {
  requestedImages: number;
  maxRssMiB: number;
  startMaxRssMiB: number;
  heapAfterGcMiB: number | undefined;
};

export async function runMemory({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const sizes = quick ? QUICK : FULL;
  const emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
  const repository = path.dirname(import.meta.dirname);
  const results: SizeResult[] = [];
  try {
    for (const images of sizes) {
      const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-bench-memory-'));
      try {
        const { stdout } = await run(
          process.execPath,
          ['--expose-gc', '--import', 'tsx', path.join(import.meta.dirname, 'memory-child.ts'), '--images', String(images), '--concurrency', String(CONCURRENCY), '--size', SIZE, '--out', outDir],
          {
            cwd: repository,
            env: { ...process.env, TOGETHER_API_KEY: 'bench-key', TOGETHER_BASE_URL: emulator.url },
            maxBuffer: 1024 * 1024,
          },
        );
        const report = JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as MemoryChildReport;
        const result: SizeResult = {
          requestedImages: images,
          ...report,
          maxRssMiB: toMiB(report.maxRssKb),
          startMaxRssMiB: toMiB(report.startMaxRssKb),
          heapAfterGcMiB: report.heapUsedAfterGcBytes === undefined ? undefined : toMiB(report.heapUsedAfterGcBytes / 1024),
        };
        log(
          `  ${images} images: peak RSS ${result.maxRssMiB} MiB (${result.startMaxRssMiB} MiB before the batch, ` +
            `heap after GC ${result.heapAfterGcMiB} MiB), ${(report.durationMs / 1000).toFixed(1)} s`,
        );
        results.push(result);
      } finally {
        await rm(outDir, { recursive: true, force: true });
      }
    }
  } finally {
    await emulator.close();
  }

  const smallest = results[0]!;
  const largest = results.at(-1)!;
  const growth = (largest.maxRssKb - smallest.maxRssKb) / smallest.maxRssKb;
  const allDone = results.every((result) => result.images === result.requestedImages && result.failed === 0);
  const under = results.every((result) => result.maxRssMiB < LIMIT_MIB);
  const flat = growth <= FLAT_TOLERANCE;
  return {
    rows: [
      {
        benchmark: 'peak RSS',
        variant: `runBatch, ${SIZE}, concurrency ${CONCURRENCY}, fresh process per size`,
        result:
          `${results.map((result) => `${result.requestedImages} img: ${result.maxRssMiB} MiB`).join(', ')} ` +
          `(${formatPercent(growth * 100)} from ${smallest.requestedImages} to ${largest.requestedImages}; ${smallest.startMaxRssMiB} MiB before the batch; ` +
          `heap after GC ${results.map((result) => result.heapAfterGcMiB).join(' / ')} MiB)`,
        target: `flat (≤ +${FLAT_TOLERANCE * 100}%), < ${LIMIT_MIB} MiB, every image written`,
        met: under && flat && allDone,
      },
    ],
    raw: {
      settings: { size: SIZE, concurrency: CONCURRENCY, latencyMs: 0, imagesPerRequest: 1, measure: "the child's own peak RSS (/proc VmHWM; getrusage's maxRSS is inherited from the parent across fork and exec) at its end (KiB); then a forced GC for the heap it keeps" },
      growthPercent: Math.round(growth * 1000) / 10,
      sizes: results,
    },
  };
}

function toMiB(kilobytes: number): number {
  return Math.round((kilobytes / 1024) * 10) / 10;
}

function formatPercent(percent: number): string {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}
