import { ImagegenError, InvalidRequestError, redactSecrets } from '../errors.js';

/** Where a command writes; injected so tests can run commands in-process. */
export type CliIO = {
  stdout: (text: string) => void;
  stderr: (text: string) => void;
  env: Record<string, string | undefined>;
  cwd: string;
  isTTY: boolean;
};

export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
export const EXIT_INVALID = 2;

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
      return `  - ${label}: ${issue.message} (got ${JSON.stringify(issue.value) ?? 'nothing'})`;
    });
    text = `error: invalid input, nothing was sent:\n${lines.join('\n')}`;
  } else if (error instanceof Error) {
    text = `error: ${error.message}`;
  } else {
    text = `error: ${String(error)}`;
  }
  if (verbose && error instanceof Error && error.stack) text += `\n${error.stack}`;
  return redactSecrets(text);
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
    throw new UsageError(`${flag}: ${(error as Error).message}`);
  }
}

/** `setTimeout`'s limit: 2^31 - 1 ms, about 24.8 days. */
const MAX_TIMER_MS = 2_147_483_647;

/** A `--timeout` duration: above zero and within what a timer can wait, or a `UsageError`. */
export function timeoutFlag(flag: string, value: string, parse: (text: string) => number): number {
  const milliseconds = parseFlag(flag, value, parse);
  if (milliseconds < 1 || milliseconds > MAX_TIMER_MS) {
    throw new UsageError(`${flag} must be more than 0 and at most 24 days, e.g. 120s or 10m (got ${JSON.stringify(value)})`);
  }
  return milliseconds;
}
