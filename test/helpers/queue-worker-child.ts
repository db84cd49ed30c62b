/**
 * `imagegen worker` in a process of its own, with a short job lock so a kill -9 hands its jobs on
 * within seconds (the CLI keeps BullMQ's 30 s). Args: queue URL, concurrency, lock ms. Used by the
 * queue tests and the benchmarks; SIGTERM finishes its jobs in flight.
 */
import { readFileSync } from 'node:fs';
import { runWorker } from '../../src/queue/worker.js';

const [queue, concurrency = '2', lockMs = '2000'] = process.argv.slice(2);
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
// For the memory benchmark: peaks of RSS and its parts, sampled while it works, sent before it ends.
const peaks = { rss: 0, heapTotal: 0, external: 0, native: 0 };
const sampler =
  process.env.WORKER_REPORT_MEMORY === '1'
    ? setInterval(() => {
        const usage = process.memoryUsage();
        peaks.rss = Math.max(peaks.rss, usage.rss);
        peaks.heapTotal = Math.max(peaks.heapTotal, usage.heapTotal);
        peaks.external = Math.max(peaks.external, usage.external);
        peaks.native = Math.max(peaks.native, usage.rss - usage.heapTotal - usage.external);
      }, 20)
    : undefined;
const summary = await runWorker({
  queue: queue!,
  concurrency: Number(concurrency),
  lockDurationMs: Number(lockMs),
  pollMs: 200,
  exitWhenIdle: process.env.WORKER_EXIT_WHEN_IDLE === '1',
  signal: stop.signal,
  onEvent: (event) => process.send?.(event),
});
if (sampler !== undefined) {
  clearInterval(sampler);
  // The kernel's own high-water mark (VmHWM), not only what the samples caught.
  const peakRssKb = Number(/VmHWM:\s*(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))?.[1] ?? 0);
  process.send?.({ type: 'memory', peakRssKb, peaks });
}
process.send?.({ type: 'summary', summary });
process.disconnect?.();
