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
const summary = await runBatch({ jobs, outDir: values.out, concurrency: Number(values.concurrency), cache: false });
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
};
process.stdout.write(`${JSON.stringify(report)}\n`);
