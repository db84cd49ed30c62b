import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import type { CliTelemetry, OtelFlags } from './otel.js';
import { EXIT_INTERRUPTED, EXIT_INVALID, EXIT_OK, exitCodeFor, formatError, type CliIO, type CommandContext } from './output.js';

/** The program's own flags that take a value, which may come before the command's name. */
const GLOBAL_FLAGS_WITH_VALUE = ['--price', '--config', '--otel-endpoint'];

/** Runs the CLI and returns its exit code; the only place that decides one. */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  { stopSignal }: { stopSignal?: () => Promise<void> } = {},
): Promise<number> {
  let exitCode = EXIT_OK;
  const setExitCode = (code: number) => (exitCode = code);
  const program = new Command('imagegen')
    .description('Generate images through the Vercel AI SDK (Together AI FLUX first, any AI SDK image provider).')
    .version(VERSION, '-v, --version')
    .option('--price <model=price>', 'override a price estimate, e.g. togetherai:black-forest-labs/FLUX.2-pro=0.03/image (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--config <file>', 'config file with price overrides (default ./imagegen.config.json when present)')
    .option('--otel', 'export OpenTelemetry spans over OTLP/HTTP (default endpoint http://localhost:4318; also on when OTEL_EXPORTER_OTLP_ENDPOINT is set)')
    .option('--otel-endpoint <url>', 'OTLP/HTTP endpoint for spans (implies --otel)')
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  program.hook('preAction', async () => (await import('./settings.js')).applySettings(io, program.opts<{ config?: string; price: string[] }>()));
  // Stop signals are handled here and nowhere else, the same for every command: Ctrl-C (SIGINT),
  // SIGTERM (`timeout`, `docker stop`, systemd) and SIGHUP (the terminal closed). Once: stop, i.e.
  // no new request starts and those in flight finish (batch, compare), the request is cancelled
  // (generate, models --refresh), the server closes (emulator, MCP). Twice: leave now, saying what
  // is kept (every write is atomic and the journal drops a torn line, so a re-run resumes cleanly).
  const stop = new AbortController();
  let quitNote = 'every file written so far is whole; nothing half-written is left';
  let cliTelemetry: CliTelemetry | undefined;
  let stoppedBy: StopSignal | undefined;
  const context: CommandContext = {
    io,
    setExitCode,
    stop: stop.signal,
    setQuitNote: (note) => (quitNote = note),
    telemetry: () => (cliTelemetry === undefined ? {} : { telemetry: cliTelemetry.settings }),
  };
  // Span export (--otel, OTEL_*) for the commands that send: set up once the command is known, flushed before exiting.
  program.hook('preAction', async (_program, command) => {
    if (!['generate', 'batch', 'compare', 'mcp'].includes(command.name())) return;
    cliTelemetry = await (await import('./otel.js')).startCliTelemetry({ flags: program.opts<OtelFlags>(), io, functionId: `imagegen ${command.name()}` });
  });
  const onSignal = (signal: StopSignal) => {
    if (stop.signal.aborted) {
      io.stderr(`\nquit (${STOP_SIGNALS[signal].name} twice): ${quitNote}\n`);
      process.exit(STOP_SIGNALS[signal].exitCode);
    }
    stoppedBy = signal;
    // The terminal is gone: writing to it fails (EIO), which must not crash the run while it stops.
    if (signal === 'SIGHUP') for (const stream of [process.stdout, process.stderr]) stream.on('error', () => undefined);
    stop.abort(new Error(`interrupted (${STOP_SIGNALS[signal].name})`));
  };
  const listeners = (Object.keys(STOP_SIGNALS) as StopSignal[]).map((signal) => [signal, () => onSignal(signal)] as const);
  const commandName = commandWord(argv);
  for (const [signal, listener] of listeners) process.on(signal, listener);
  const isServer = commandName === 'emulator' || commandName === 'mcp';
  // A worker too: its supervisor's SIGTERM lets its jobs in flight finish, like Ctrl-C (every command listens to the stop signals above).
  const untilStopped = () => new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
  // Only the command being run is loaded (with the library behind it), so `--version` and a single
  // command start fast; help and a mistyped command name need them all, for the list and suggestions.
  const loaders: Record<string, () => Promise<Command>> = {
    generate: async () => (await import('./generate.js')).generateCommand(context),
    batch: async () => (await import('./batch.js')).batchCommand(context),
    compare: async () => (await import('./compare.js')).compareCommand(context),
    models: async () => (await import('./models.js')).modelsCommand(context),
    mcp: async () => (await import('./mcp.js')).mcpCommand(context),
    emulator: async () => (await import('./emulator.js')).emulatorCommand(io, stopSignal ?? untilStopped),
    worker: async () => (await import('./worker.js')).workerCommand(context),
    cache: async () => (await import('./cache.js')).cacheCommand(context),
  };
  const wanted =
    commandName !== undefined && Object.hasOwn(loaders, commandName)
      ? [commandName]
      : argv.length === 1 && (argv[0] === '--version' || argv[0] === '-v')
        ? []
        : Object.keys(loaders);
  const commands = await Promise.all(wanted.map((name) => loaders[name]!()));
  for (const command of commands) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }));
  }
  // A stopped run ends with 128 + the signal's number (130 for Ctrl-C), as shells expect, after its
  // summary; a server that was asked to stop simply ends.
  const stoppedCode = () => (stoppedBy !== undefined && !isServer ? STOP_SIGNALS[stoppedBy].exitCode : undefined);
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return stoppedCode() ?? exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every other parse problem is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
        ? EXIT_OK
        : EXIT_INVALID;
    }
    const verbose = argv.includes('--verbose');
    io.stderr(`${formatError(error, { verbose })}\n`);
    return stoppedCode() ?? exitCodeFor(error);
  } finally {
    await cliTelemetry?.shutdown().catch(() => undefined);
    for (const [signal, listener] of listeners) process.off(signal, listener);
  }
}

type StopSignal = 'SIGINT' | 'SIGTERM' | 'SIGHUP';

/** The signals that stop a command, how messages name them, and the exit code each ends with (128 + its number). */
const STOP_SIGNALS: Record<StopSignal, { name: string; exitCode: number }> = {
  SIGINT: { name: 'Ctrl-C', exitCode: EXIT_INTERRUPTED },
  SIGTERM: { name: 'SIGTERM', exitCode: 128 + 15 },
  SIGHUP: { name: 'SIGHUP', exitCode: 128 + 1 },
};

/** The command's name: the first word that is neither a global flag nor a global flag's value. */
function commandWord(argv: readonly string[]): string | undefined {
  let isValue = false;
  for (const word of argv) {
    if (isValue) isValue = false;
    else if (GLOBAL_FLAGS_WITH_VALUE.includes(word)) isValue = true;
    else if (!word.startsWith('-')) return word;
  }
  return undefined;
}

/** The process's IO. */
export function processIO(): CliIO {
  return {
    stdout: (text) => process.stdout.write(text),
    stderr: (text) => process.stderr.write(text),
    env: process.env,
    cwd: process.cwd(),
    isTTY: Boolean(process.stderr.isTTY),
  };
}
