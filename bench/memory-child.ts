/**
 * One batch in a fresh process, for the memory benchmark: `--images N --concurrency C --out DIR`,
 * with TOGETHER_API_KEY and TOGETHER_BASE_URL pointing at the parent's emulator. Prints one JSON line:
 * the batch summary's counts and the process's peak RSS, so only the client's memory is measured.
 */
import { parseArgs } from 'node:util';
import { peakRssKb } from './peak-rss.js';
import { runBatch } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';

export type MemoryChildReport = {
  images: number;
  failed: number;
  requests: number;
  durationMs: number;
  /** Peak RSS once the toolkit is loaded, before the batch: the floor every size shares. */
  startMaxRssKb: number;
  maxRssKb: number;
  heapUsedBytes: number;
  /**
   * Heap still in use after a forced collection: what the batch really keeps. A peak that grows
   * while this stays put is the collector putting work off, not a leak.
   */
  heapUsedAfterGcBytes: number | undefined;
  /**
   * Where the memory is, sampled every 20 ms during the batch (bytes, peaks of each): the V8 heap,
   * `external` (Buffers and ArrayBuffers outside it), and the rest of RSS (native: malloc arenas,
   * the thread pool, code). A peak RSS that grows while the heap and external stay put is native.
   */
  peaks: { rss: number; heapTotal: number; external: number; arrayBuffers: number; native: number };
};

const { values } = parseArgs({
  options: {
    images: { type: 'string' },
    concurrency: { type: 'string', default: '6' },
    size: { type: 'string', default: '1024x1024' },
    out: { type: 'string' },
  },
});
if (values.images === undefined || values.out === undefined) throw new Error('usage: memory-child.ts --images N --out DIR [--concurrency C]');

const prompts = Array.from({ length: Number(values.images) }, (_, index) => `a city skyline at night, frame ${index + 1}`);
const { jobs } = parseBatchInput({ text: prompts.join('\n'), format: 'text', defaults: { size: values.size } });
const startMaxRssKb = peakRssKb();
const peaks = { rss: 0, heapTotal: 0, external: 0, arrayBuffers: 0, native: 0 };
const sample = () => {
  const usage = process.memoryUsage();
  peaks.rss = Math.max(peaks.rss, usage.rss);
  peaks.heapTotal = Math.max(peaks.heapTotal, usage.heapTotal);
  peaks.external = Math.max(peaks.external, usage.external);
  peaks.arrayBuffers = Math.max(peaks.arrayBuffers, usage.arrayBuffers);
  peaks.native = Math.max(peaks.native, usage.rss - usage.heapTotal - usage.external);
};
const sampler = setInterval(sample, 20);
const summary = await runBatch({ jobs, outDir: values.out, concurrency: Number(values.concurrency), cache: false });
clearInterval(sampler);
sample();
const maxRssKb = peakRssKb();
const heapUsedBytes = process.memoryUsage().heapUsed;
// Only after the peak is read: `--expose-gc` gives this, and a collection must not lower the peak.
const collect = (globalThis as { gc?: () => void }).gc;
collect?.();
const report: MemoryChildReport = {
  images: summary.images,
  failed: summary.failed,
  requests: summary.requests,
  durationMs: summary.durationMs,
  startMaxRssKb,
  maxRssKb,
  heapUsedBytes,
  heapUsedAfterGcBytes: collect === undefined ? undefined : process.memoryUsage().heapUsed,
  peaks,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
