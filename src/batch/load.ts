import { readFile } from 'node:fs/promises';
import type { GenerateRequest } from '../pipeline/parse.js';
import type { ProvidersOption } from '../resolve-model.js';
import { validateJobs } from './engine.js';
import { decodeBatchFile, detectFormat, InvalidBatchInputError, parseBatchInput, type BatchJob, type InputFormat, type LineError } from './input.js';

/**
 * Reads and checks a batch file: every line parsed and validated against the catalog before
 * anything is sent. Throws `InvalidBatchInputError` (every bad line, with line and column) unless
 * `skipInvalid`, which drops the bad lines and returns them beside the good jobs.
 */
export async function loadBatchFile({
  file,
  format,
  defaults = {},
  providers,
  skipInvalid = false,
}: {
  file: string;
  format?: InputFormat | undefined;
  defaults?: Partial<GenerateRequest>;
  providers?: ProvidersOption | undefined;
  skipInvalid?: boolean;
}): Promise<{ jobs: BatchJob[]; skippedLines: LineError[] }> {
  const decoded = decodeBatchFile(await readFile(file));
  if ('error' in decoded) throw new InvalidBatchInputError({ file, lineErrors: [decoded.error] });
  const parsed = parseBatchInput({ text: decoded.text, format: format ?? detectFormat(file), defaults });
  const catalogErrors = await validateJobs(parsed.jobs, providers);
  const errors = [...parsed.errors, ...catalogErrors].sort((left, right) => left.line - right.line || left.column - right.column);
  if (errors.length > 0 && (!skipInvalid || parsed.jobs.length === 0)) throw new InvalidBatchInputError({ file, lineErrors: errors });
  const badLines = new Set(catalogErrors.map((error) => error.line));
  return { jobs: parsed.jobs.filter((job) => !badLines.has(job.line)), skippedLines: errors };
}
