import { Command, CommanderError } from 'commander';
import { VERSION } from '../version.js';
import { EXIT_INVALID, EXIT_OK, exitCodeFor, formatError, type CliIO } from './output.js';

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
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  program.hook('preAction', async () => (await import('./settings.js')).applySettings(io, program.opts<{ config?: string; price: string[] }>()));
  // Ctrl-C once: stop taking new work and let what is in flight finish; twice: leave now (every
  // write is atomic and the journal drops a torn line, so a re-run resumes cleanly).
  const stop = new AbortController();
  const onInterrupt = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    io.stderr('\nstopping: no new requests; waiting for those in flight (Ctrl-C again to quit now)\n');
  };
  if (argv[0] === 'batch' || argv[0] === 'compare') process.on('SIGINT', onInterrupt);
  // Only the command being run is loaded (with the library behind it), so `--version` and a single
  // command start fast; help and a mistyped command name need them all, for the list and suggestions.
  const loaders: Record<string, () => Promise<Command>> = {
    generate: async () => (await import('./generate.js')).generateCommand(io, setExitCode),
    batch: async () => (await import('./batch.js')).batchCommand(io, setExitCode, stop.signal),
    compare: async () => (await import('./compare.js')).compareCommand(io, setExitCode, stop.signal),
    models: async () => (await import('./models.js')).modelsCommand(io),
    mcp: async () => (await import('./mcp.js')).mcpCommand(io),
    emulator: async () => {
      const { emulatorCommand, untilInterrupted } = await import('./emulator.js');
      return emulatorCommand(io, stopSignal ?? untilInterrupted);
    },
  };
  const first = argv[0];
  const wanted =
    first !== undefined && Object.hasOwn(loaders, first)
      ? [first]
      : argv.length === 1 && (first === '--version' || first === '-v')
        ? []
        : Object.keys(loaders);
  const commands = await Promise.all(wanted.map((name) => loaders[name]!()));
  for (const command of commands) {
    program.addCommand(command.exitOverride().configureOutput({ writeOut: io.stdout, writeErr: io.stderr }));
  }
  try {
    await program.parseAsync([...argv], { from: 'user' });
    return exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are successes; every other parse problem is a usage error.
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' || error.code === 'commander.help'
        ? EXIT_OK
        : EXIT_INVALID;
    }
    const verbose = argv.includes('--verbose');
    io.stderr(`${formatError(error, { verbose })}\n`);
    return exitCodeFor(error);
  } finally {
    process.off('SIGINT', onInterrupt);
  }
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
