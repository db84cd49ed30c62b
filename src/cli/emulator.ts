import { Command } from 'commander';
import type { CliIO } from './output.js';
import { numberOrRaw, parseFlag, UsageError, wholeNumber } from './output.js';

type EmulatorFlags = {
  port: string;
  host: string;
  latency?: string;
  rateLimit?: string;
  failRate?: string;
  apiKey?: string;
  seed?: string;
  quiet?: boolean;
};

/** `imagegen emulator`: a local server that speaks Together's image API, until Ctrl-C. */
export function emulatorCommand(io: CliIO, stopSignal: () => Promise<void>): Command {
  return new Command('emulator')
    .description("run a local server that speaks Together AI's image API (offline development, tests, load and fault drills)")
    .option('--port <port>', 'port (0 picks a free one)', '8787')
    .option('--host <host>', 'address to bind', '127.0.0.1')
    .option('--latency <duration>', 'added latency per request, e.g. 300ms')
    .option('--rate-limit <rate>', 'requests per minute before 429, e.g. 60/min')
    .option('--fail-rate <share>', 'share of requests answered 500/502/503/504, e.g. 0.05')
    .option('--api-key <key>', 'accept only this key (default: any non-empty key)')
    .option('--seed <n>', 'seed for jitter, failures and faults')
    .option('--quiet', 'no request log')
    .action(async (flags: EmulatorFlags) => {
      const { startEmulator, describeEmulator, parseDuration, parseRateLimit } = await import('../emulator/index.js');
      const port = wholeNumber('--port', flags.port, 0, 65535);
      const failRate = flags.failRate === undefined ? undefined : numberOrRaw(flags.failRate);
      const seed = flags.seed === undefined ? undefined : numberOrRaw(flags.seed);
      if (failRate !== undefined && (typeof failRate !== 'number' || failRate < 0 || failRate > 1)) {
        throw new UsageError(`--fail-rate must be a share from 0 to 1, e.g. 0.05 (got ${JSON.stringify(flags.failRate)})`);
      }
      if (seed !== undefined && typeof seed !== 'number') {
        throw new UsageError(`--seed must be a number (got ${JSON.stringify(flags.seed)})`);
      }
      const latency = flags.latency === undefined ? undefined : parseFlag('--latency', flags.latency, parseDuration);
      const rateLimit = flags.rateLimit === undefined ? undefined : parseFlag('--rate-limit', flags.rateLimit, parseRateLimit);
      const emulator = await startEmulator({
        port,
        host: flags.host,
        ...(latency === undefined ? {} : { latency }),
        ...(rateLimit === undefined ? {} : { rateLimit }),
        ...(failRate === undefined ? {} : { failRate }),
        ...(flags.apiKey === undefined ? {} : { apiKey: flags.apiKey }),
        ...(seed === undefined ? {} : { seed }),
        quiet: flags.quiet ?? false,
        log: (line) => io.stderr(`${line}\n`),
      }).catch((error: unknown) => {
        const code = (error as NodeJS.ErrnoException).code;
        if (code === 'EADDRINUSE') {
          throw new UsageError(
            `port ${port} on ${flags.host} is taken (another emulator still running?); pick another with --port, e.g. imagegen emulator --port ${port === 65535 ? 8788 : port + 1}, or --port 0 for any free one`,
          );
        }
        if (code === 'EACCES') throw new UsageError(`port ${port} on ${flags.host} needs privileges this user lacks; use --port 1024 or above, e.g. --port 8787`);
        throw error;
      });
      io.stdout(`${describeEmulator(emulator.url, flags.apiKey === undefined ? {} : { apiKey: flags.apiKey })}\n`);
      await stopSignal();
      await emulator.close();
    });
}

