import type { TelemetryOptions } from '../telemetry/settings.js';
import { stat, readdir } from 'node:fs/promises';
import path from 'node:path';
import { closestName } from '../util/closest-name.js';
import { errorMessage, ImagegenError, InvalidRequestError, redactSecrets } from '../errors/errors.js';
import { inDoorWords } from '../errors/doors.js';
import { MAX_TIMEOUT_MS } from '../util/timeout.js';

/** Where a command writes; injected so tests can run commands in-process. */
export type CliIO = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  isTTY: boolean;
};

/** The model used when none is named and no Together key is set: an offline placeholder renderer. */
export const LOCAL_FALLBACK_MODEL = 'local:placeholder';

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;
/** Stopped by Ctrl-C: 128 + SIGINT, as shells report it. */
export const EXIT_INTERRUPTED = 130;

/** What `main` gives a command: where to write, its exit code, the stop signal (Ctrl-C). */
export type CommandContext = {
  io: CliIO;
  setExitCode: (code: number) => void;
  /** Aborted on the first Ctrl-C; `main` exits 130 once the command has returned. */
  stop: AbortSignal;
  /** What a second Ctrl-C (quit at once) says is kept, e.g. the output folder and how to resume. */
  setQuitNote: (note: string) => void;
  /** `{ telemetry }` when `--otel` or the `OTEL_*` variables turned span export on (set before the command runs), else `{}`. */
  telemetry: () => TelemetryOptions;
};

/** A command-line mistake (unknown flag, bad value): exit 2, nothing sent. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** Request fields → the flag that sets them, so CLI errors name what the user typed. */
const FLAGS: Record<string, string> = {
  prompt: '<prompt>',
  model: '--model',
  size: '--size',
  aspectRatio: '--aspect-ratio',
  count: '--count',
  steps: '--steps',
  seed: '--seed',
  negativePrompt: '--negative',
  guidance: '--guidance',
  referenceImages: '--image',
  mask: '--mask',
  safetyChecker: '--no-safety-checker',
  promptUpsampling: '--prompt-upsampling',
  outputFormat: '--format',
};

/** Exit code for an error: 2 when nothing was sent because the input was wrong, else 1. */
export function exitCodeFor(error: unknown): number {
  if (error instanceof UsageError) return EXIT_INVALID;
  if (ImagegenError.isInstance(error) && ['invalid-request', 'missing-api-key', 'missing-package'].includes(error.kind)) {
    return EXIT_INVALID;
  }
  return EXIT_FAILURE;
}

/** One clear paragraph; the stack only with `--verbose`. Never a key. */
export function formatError(error: unknown, { verbose }: { verbose: boolean }): string {
  let text: string;
  if (InvalidRequestError.isInstance(error) && 'lineErrors' in error) {
    text = `error: ${error.message}`;
  } else if (InvalidRequestError.isInstance(error)) {
    const lines = error.issues.map((issue) => {
      const root = issue.field.split('.')[0] ?? issue.field;
      const flag = FLAGS[root];
      const label = flag && flag !== issue.field ? `${flag} (${issue.field})` : issue.field;
      return `  - ${label}: ${issue.message} (got ${shown(issue.value)})`;
    });
    text = `error: invalid input, nothing was sent:\n${lines.join('\n')}`;
  } else if (error instanceof Error) {
    text = `error: ${error.message}`;
  } else {
    text = `error: ${String(error)}`;
  }
  if (verbose && error instanceof Error && error.stack) text += `\n${error.stack}`;
  return redactSecrets(inDoorWords(text, 'shell'));
}

/** A value as JSON, or what it is when it cannot be shown so (too deep, circular). */
function shown(value: unknown): string {
  try {
    return JSON.stringify(value) ?? 'nothing';
  } catch {
    return 'an object too deeply nested (or circular) to show';
  }
}

/** `"12"` → 12; anything else is passed on as given, for the schema to name it. */
export function numberOrRaw(value: string): number | string {
  const number = Number(value);
  return value.trim() !== '' && Number.isFinite(number) ? number : value;
}

/** A whole-number flag within bounds, or a `UsageError` naming the flag, the value and the range. */
export function wholeNumber(flag: string, value: string, minimum: number, maximum?: number): number {
  const number = numberOrRaw(value);
  if (typeof number !== 'number' || !Number.isInteger(number) || number < minimum || (maximum !== undefined && number > maximum)) {
    const range = maximum === undefined ? `, ${minimum} or more` : ` from ${minimum} to ${maximum}`;
    throw new UsageError(`${flag} must be a whole number${range} (got ${JSON.stringify(value)})`);
  }
  return number;
}

/** A flag read by `parser`, its error turned into a `UsageError` naming the flag. */
export function parseFlag<T>(flag: string, value: string, parser: (text: string) => T): T {
  try {
    return parser(value);
  } catch (error) {
    throw new UsageError(`${flag}: ${errorMessage(error)}`);
  }
}


/**
 * A `--timeout` duration: with a unit, above zero and within what a timer can wait, or a
 * `UsageError`. A bare number is refused rather than guessed: `5` read as milliseconds gives up
 * before any provider answers, read as seconds surprises whoever meant milliseconds; either way a
 * paid request is lost, and the unit costs one letter.
 */
export function timeoutFlag(flag: string, value: string, parse: (text: string) => number): number {
  if (/^\s*\d+(\.\d+)?\s*$/.test(value)) {
    throw new UsageError(`${flag} needs a unit: ${value.trim()}s for seconds, ${value.trim()}m for minutes or ${value.trim()}ms for milliseconds (got ${JSON.stringify(value)}), e.g. ${flag} ${value.trim()}s`);
  }
  const milliseconds = parseFlag(flag, value, parse);
  if (milliseconds < 1 || milliseconds > MAX_TIMEOUT_MS) {
    throw new UsageError(`${flag} must be more than 0 and at most 24 days, e.g. 120s or 10m (got ${JSON.stringify(value)})`);
  }
  return milliseconds;
}

/**
 * A whole-number flag whose bounds depend on the model (`-n`, `--steps`, `--seed`): only "is it a
 * whole number" is checked here; the catalog checks the range, alongside every other field.
 */
export function integerFlag(flag: string, value: string, example: number): number {
  const number = numberOrRaw(value);
  if (typeof number !== 'number' || !Number.isInteger(number)) {
    throw new UsageError(`${flag} must be a whole number, e.g. ${flag.split('/').pop()} ${example} (got ${JSON.stringify(value)})`);
  }
  return number;
}

/** A number flag (`--guidance 3.5`), or a `UsageError` naming the flag and the value. */
export function numberFlag(flag: string, value: string): number {
  const number = numberOrRaw(value);
  if (typeof number !== 'number') throw new UsageError(`${flag} must be a number, e.g. 3.5 (got ${JSON.stringify(value)})`);
  return number;
}

/** `--budget`: an amount in USD above 0 (`5`, `0.50`, `$5`), or a `UsageError` naming the flag. */
export function budgetFlag(flag: string, value: string): number {
  const number = numberOrRaw(value.trim().replace(/^\$/, ''));
  if (typeof number !== 'number' || !Number.isFinite(number) || number <= 0) {
    throw new UsageError(`${flag} must be an amount in USD above 0, e.g. 5 or 0.50 (got ${JSON.stringify(value)})`);
  }
  return number;
}

/** Models with no price cannot be bounded by `--budget`: refused before anything is sent. */
export function checkPricedForBudget(flag: string, unpricedModels: readonly string[]): void {
  if (unpricedModels.length === 0) return;
  throw new UsageError(
    `${flag} cannot bound ${unpricedModels.join(', ')}: no price is known for ${unpricedModels.length === 1 ? 'it' : 'them'}; ` +
      `give one with --price ${unpricedModels[0]}=<usd>/image (or in imagegen.config.json)`,
  );
}

/** One of `choices`, or a `UsageError` naming the flag, the value and the choices. */
export function choiceFlag<Choice extends string>(flag: string, value: string, choices: readonly Choice[]): Choice {
  const choice = choices.find((candidate) => candidate === value);
  if (choice === undefined) {
    throw new UsageError(`${flag} must be ${choices.slice(0, -1).join(', ')} or ${choices.at(-1)} (got ${JSON.stringify(value)})`);
  }
  return choice;
}

/** The formats every provider can be asked for. */
export const OUTPUT_FORMATS = ['png', 'jpeg'] as const;

/** `--format`: png or jpeg, or a `UsageError` listing them. */
export function formatFlag(value: string): (typeof OUTPUT_FORMATS)[number] {
  const format = value.toLowerCase() === 'jpg' ? 'jpeg' : value.toLowerCase();
  if (!(OUTPUT_FORMATS as readonly string[]).includes(format)) {
    throw new UsageError(`--format must be ${OUTPUT_FORMATS.join(' or ')} (got ${JSON.stringify(value)}), e.g. --format jpeg`);
  }
  return format as (typeof OUTPUT_FORMATS)[number];
}

/**
 * The absolute path of an input file that exists, or a `UsageError` saying it does not, with the
 * closest name in that folder when one is a slip away (`promts.txt` → `prompts.txt`) and the
 * command that would work.
 */
export async function existingFile({ cwd, file, what, retry }: { cwd: string; file: string; what: string; retry: (file: string) => string }): Promise<string> {
  const absolute = path.resolve(cwd, file);
  const stats = await stat(absolute).catch((error: NodeJS.ErrnoException) => error);
  if (!(stats instanceof Error)) {
    if (stats.isDirectory()) throw new UsageError(`${what} ${file} is a folder; give a file in it, e.g. ${retry(path.join(file, 'prompts.txt'))}`);
    return absolute;
  }
  if (stats.code !== 'ENOENT' && stats.code !== 'ENOTDIR') throw new UsageError(`${what} ${file} cannot be read (${stats.code ?? stats.message})`);
  const folder = path.dirname(absolute);
  const names = await readdir(folder).catch(() => [] as string[]);
  const match = closestName(path.basename(absolute), names);
  const suggestion = match === undefined ? '' : `; did you mean ${path.join(path.dirname(file), match)}? ${retry(path.join(path.dirname(file), match))}`;
  throw new UsageError(`${what} ${file} does not exist (looked in ${folder})${suggestion}`);
}

/** A file as a script in `cwd` opens it: relative when inside `cwd`, else absolute. */
export function pathFromHere(cwd: string, file: string): string {
  const relative = path.relative(cwd, path.resolve(cwd, file));
  return relative === '' || relative.startsWith('..') || path.isAbsolute(relative) ? path.resolve(cwd, file) : relative;
}
