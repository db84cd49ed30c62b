import { InvalidRequestError, MissingApiKeyError, MissingProviderPackageError, type ImagegenError } from '../errors/errors.js';
import { bytesForImage } from '../files/folder-checks.js';
import { readImageFile } from '../files/files.js';
import { prepareGeneration, type GenerateImagesOptions, type PreparedGeneration } from '../generate.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import { byPosition, detectFormat, InvalidBatchInputError, lineErrors, type BatchJob, type InputFormat, type LineError } from './input.js';
import { readBatchJobs } from './read.js';

export type BatchFileOptions = {
  file: string;
  /** @default from the file name */
  format?: InputFormat | undefined;
  defaults?: Partial<GenerateRequest> | undefined;
  providers?: ProvidersOption | undefined;
  /** Reads reference images given as file paths. @default readImageFile */
  readFile?: GenerateImagesOptions['readFile'];
};

/** What the one planning pass over a batch file found. */
export type BatchFileCheck = {
  /** Jobs that passed every check (the ones a run sends). */
  valid: number;
  /** Every problem, in file order: line errors and catalog errors. */
  errors: LineError[];
  /** Lines whose request the catalog refused (a run skips them with `skipInvalid`). */
  invalidLines: ReadonlySet<number>;
  /** The first missing key or provider package of each provider used (when `checkKeys`). */
  keyProblems: ImagegenError[];
  /** Room the largest image of the file needs on disk. */
  bytesNeeded: number;
};

/**
 * Reads a batch file as a stream and checks every line, planning each job once against the
 * catalog (its reference files read once): the one pass before anything is sent. `onJob` sees each
 * valid job with its plan, for the dry run's estimate and for a `PlanStore` the run takes plans
 * from; `checkKeys` checks the key of the first valid job of each provider, collected rather than
 * thrown, since bad lines are told first. Memory holds the problems found, never the jobs.
 */
export async function checkBatchFile({
  file,
  format,
  defaults,
  providers,
  readFile = readImageFile,
  checkKeys = false,
  keys = true,
  onJob,
}: BatchFileOptions & {
  checkKeys?: boolean | undefined;
  /** `false` when `onJob` needs no job keys: they are most of a line's cost. @default true */
  keys?: boolean | undefined;
  onJob?: ((job: BatchJob, prepared: PreparedGeneration) => void | Promise<void>) | undefined;
}): Promise<BatchFileCheck> {
  const errors: LineError[] = [];
  const invalidLines = new Set<number>();
  const keysChecked = new Set<string>();
  const keyProblems: ImagegenError[] = [];
  let valid = 0;
  let bytesNeeded = bytesForImage(256, 256);
  const plan = (job: BatchJob, checkKey: boolean) => prepareGeneration(job.request, { ...(providers === undefined ? {} : { providers }), readFile, checkKey });
  for await (const item of readBatchJobs({ file, format: format ?? detectFormat(file), defaults, keys })) {
    if ('fatal' in item) throw new InvalidBatchInputError({ file, lineErrors: [item.fatal] });
    if ('errors' in item) {
      errors.push(...item.errors);
      continue;
    }
    const { job } = item;
    const provider = (job.request.model ?? '').split(':')[0] ?? '';
    const checkKey = checkKeys && !keysChecked.has(provider);
    let planned: PreparedGeneration;
    try {
      planned = await plan(job, checkKey);
    } catch (error) {
      if (checkKey && (MissingApiKeyError.isInstance(error) || MissingProviderPackageError.isInstance(error))) {
        // The key is checked after the request is validated: the job itself is good.
        keysChecked.add(provider);
        keyProblems.push(error);
        planned = await plan(job, false);
      } else {
        if (!InvalidRequestError.isInstance(error)) throw error;
        invalidLines.add(job.line);
        errors.push(...lineErrors(job, error.issues));
        continue;
      }
    }
    if (checkKey) keysChecked.add(provider);
    valid++;
    bytesNeeded = Math.max(bytesNeeded, bytesForImage(planned.plan.width, planned.plan.height));
    await onJob?.(job, planned);
  }
  return { valid, errors: errors.sort(byPosition), invalidLines, keyProblems, bytesNeeded };
}

/**
 * The valid jobs of a batch file already checked by `checkBatchFile`, read again as a stream: the
 * run's pass, which plans nothing itself (the engine takes a job's plan from the check pass's
 * `PlanStore`, or plans it when it sends it).
 */
export async function* validBatchJobs({
  file,
  format,
  defaults,
  invalidLines,
}: Pick<BatchFileOptions, 'file' | 'format' | 'defaults'> & { invalidLines: ReadonlySet<number> }): AsyncGenerator<BatchJob> {
  for await (const item of readBatchJobs({ file, format: format ?? detectFormat(file), defaults })) {
    if ('job' in item && !invalidLines.has(item.job.line)) yield item.job;
  }
}

/**
 * Reads and checks a batch file: every line parsed and validated against the catalog before
 * anything is sent. Throws `InvalidBatchInputError` (every bad line, with line and column) unless
 * `skipInvalid`, which drops the bad lines and returns them beside the good jobs.
 */
export async function loadBatchFile({
  skipInvalid = false,
  ...options
}: BatchFileOptions & { skipInvalid?: boolean }): Promise<{ jobs: BatchJob[]; skippedLines: LineError[] }> {
  const jobs: BatchJob[] = [];
  const check = await checkBatchFile({ ...options, onJob: (job) => void jobs.push(job) });
  throwUnlessUsable({ file: options.file, check, skipInvalid });
  return { jobs, skippedLines: check.errors };
}

/** Throws `InvalidBatchInputError` when the file has problems, unless `skipInvalid` and some jobs are good. */
export function throwUnlessUsable({ file, check, skipInvalid }: { file: string; check: BatchFileCheck; skipInvalid: boolean }): void {
  if (check.errors.length > 0 && (!skipInvalid || check.valid === 0)) throw new InvalidBatchInputError({ file, lineErrors: check.errors, validLines: check.valid });
}
