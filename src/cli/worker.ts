import { Command } from 'commander';
import { parseRedisUrl } from '../queue/connection.js';
import type { CommandContext } from './output.js';
import { EXIT_FAILURE, EXIT_OK, wholeNumber } from './output.js';

type WorkerFlags = { queue: string; concurrency: string; exitWhenIdle?: boolean; json?: boolean };

/** `imagegen worker --queue URL`: serves the runs `imagegen batch --queue` put on that Redis. */
export function workerCommand({ io, setExitCode, stop, setQuitNote }: CommandContext): Command {
  return new Command('worker')
    .description('take the jobs of `imagegen batch --queue` runs from Redis and generate them (any number of workers, on any machines sharing the output folder)')
    .requiredOption('--queue <redis-url>', 'the Redis the runs are on: redis://HOST:PORT[/DB]')
    .option('-c, --concurrency <n>', 'jobs in flight at once in this worker', '4')
    .option('--exit-when-idle', 'end once no run has a job waiting or in flight (for scripts)')
    .option('--json', 'print the summary as JSON on stdout')
    .action(async (flags: WorkerFlags) => {
      const target = parseRedisUrl(flags.queue, '--queue');
      const concurrency = wholeNumber('--concurrency', flags.concurrency, 1);
      setQuitNote('the jobs this worker had in flight go back to the queue once their lock runs out (30 s) and another worker takes them; every file written is whole');
      const { runWorker } = await import('../queue/worker.js');
      io.stderr(`worker: serving the runs on ${target.label} (${concurrency} at once); Ctrl-C or SIGTERM finishes the jobs in flight, then ends\n`);
      const summary = await runWorker({
        queue: flags.queue,
        concurrency,
        exitWhenIdle: flags.exitWhenIdle ?? false,
        signal: stop,
        onEvent: (event) => {
          if (event.type === 'run') io.stderr(`worker: run ${event.queue} → ${event.outDir}${event.requestsPerMinute === undefined ? '' : ` at ${event.requestsPerMinute}/min for all workers`}\n`);
          else if (event.type === 'failed' && !event.willRetry) io.stderr(`worker: failed line ${event.line}: ${event.error}\n`);
          else if (event.type === 'circuit-open') io.stderr(`worker: not sending ${event.scope} any more (all workers): ${event.reason}\n`);
          else if (event.type === 'stopping') io.stderr(`worker: stopping: ${event.inFlight} job(s) in flight finish first\n`);
          else if (event.type === 'redis') io.stderr(event.state === 'lost' ? `worker: Redis unreachable (${event.error ?? 'connection lost'}); waiting for it\n` : 'worker: Redis is back\n');
        },
      });
      if (flags.json) io.stdout(`${JSON.stringify(summary)}\n`);
      else io.stderr(`worker: done ${summary.done} (${summary.cached} cached), failed ${summary.failed}, ${summary.requests} requests, ${summary.runs} run(s)\n`);
      setExitCode(summary.failed > 0 ? EXIT_FAILURE : EXIT_OK);
    });
}
