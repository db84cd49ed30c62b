import { Command, CommanderError } from 'commander';
import { createRequire } from 'node:module';
import '../providers/index.js';
import { batchCommand } from './batch.js';
import { compareCommand } from './compare.js';
import { emulatorCommand, untilInterrupted } from './emulator.js';
import { generateCommand } from './generate.js';
import { modelsCommand } from './models.js';
import { applySettings, CONFIG_FILE_NAME } from './settings.js';
import { EXIT_INVALID, EXIT_OK, exitCodeFor, formatError, type CliIO } from './output.js';

const packageVersion = (createRequire(import.meta.url)('../../package.json') as { version: string }).version;

/** Runs the CLI and returns its exit code; the only place that decides one. */
export async function runCli(
  argv: readonly string[],
  io: CliIO,
  { stopSignal = untilInterrupted }: { stopSignal?: () => Promise<void> } = {},
): Promise<number> {
  let exitCode = EXIT_OK;
  const setExitCode = (code: number) => (exitCode = code);
  const program = new Command('imagegen')
    .description('Generate images through the Vercel AI SDK (Together AI FLUX first, any AI SDK image provider).')
    .version(packageVersion, '-v, --version')
    .option('--price <model=price>', 'override a price estimate, e.g. togetherai:black-forest-labs/FLUX.2-pro=0.03/image (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--config <file>', `config file with price overrides (default ./${CONFIG_FILE_NAME} when present)`)
    .exitOverride()
    .configureOutput({ writeOut: io.stdout, writeErr: io.stderr })
    .showHelpAfterError('(run with --help for usage)');
  program.hook('preAction', () => applySettings(io, program.opts<{ config?: string; price: string[] }>()));
  // Ctrl-C once: stop taking new work and let what is in flight finish; twice: leave now (every
  // write is atomic and the journal drops a torn line, so a re-run resumes cleanly).
  const stop = new AbortController();
  const onInterrupt = () => {
    if (stop.signal.aborted) process.exit(130);
    stop.abort();
    io.stderr('\nstopping: no new requests; waiting for those in flight (Ctrl-C again to quit now)\n');
  };
  if (argv[0] === 'batch' || argv[0] === 'compare') process.on('SIGINT', onInterrupt);
  const commands = [
    generateCommand(io, setExitCode),
    batchCommand(io, setExitCode, stop.signal),
    compareCommand(io, setExitCode, stop.signal),
    modelsCommand(io),
    emulatorCommand(io, stopSignal),
  ];
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
