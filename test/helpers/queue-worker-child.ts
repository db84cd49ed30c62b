/**
 * `imagegen worker` in a process of its own, with a short job lock so a kill -9 hands its jobs on
 * within seconds (the CLI keeps BullMQ's 30 s). Args: queue URL, concurrency, lock ms. Used by the
 * queue tests and the benchmarks; SIGTERM finishes its jobs in flight.
 */
import { runWorker } from '../../src/queue/worker.js';

const [queue, concurrency = '2', lockMs = '2000'] = process.argv.slice(2);
const stop = new AbortController();
process.on('SIGTERM', () => stop.abort());
const summary = await runWorker({
  queue: queue!,
  concurrency: Number(concurrency),
  lockDurationMs: Number(lockMs),
  pollMs: 200,
  exitWhenIdle: process.env.WORKER_EXIT_WHEN_IDLE === '1',
  signal: stop.signal,
  onEvent: (event) => process.send?.(event),
});
process.send?.({ type: 'summary', summary });
process.disconnect?.();
