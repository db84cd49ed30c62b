/**
 * One batch file checked in a fresh process, for the validation benchmark:
 * `--file F --mode stream|resume|whole`. `stream` is `checkBatchFile` (what `imagegen batch` does
 * before it sends anything: read as a stream, every job planned once, the plans of the first jobs
 * kept in a `PlanStore` for the run, within its default budget, no job kept); `resume` the
 * same with job keys made, as in an output folder with a journal (done jobs are told by key);
 * `whole` is the way it was before: the whole text read, parsed into jobs, every job planned.
 * Prints one JSON line: lines checked, problems, time and this process's peak RSS.
 */
import { readFile } from 'node:fs/promises';
import { parseArgs } from 'node:util';
import { peakRssKb } from './peak-rss.js';
import { validateJobs } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import { checkBatchFile } from '../src/batch/load.js';
import { PlanStore } from '../src/batch/plan-store.js';

export type ValidationChildReport = { valid: number; errors: number; keptPlans: number; durationMs: number; startMaxRssKb: number; maxRssKb: number };

const { values } = parseArgs({ options: { file: { type: 'string' }, mode: { type: 'string', default: 'stream' } } });
if (values.file === undefined || !['stream', 'resume', 'whole'].includes(values.mode)) throw new Error('usage: validation-child.ts --file F [--mode stream|resume|whole]');

const startMaxRssKb = peakRssKb();
const started = performance.now();
let valid: number;
let errors: number;
let keptPlans = 0;
if (values.mode !== 'whole') {
  const plans = new PlanStore();
  const check = await checkBatchFile({ file: values.file, keys: values.mode === 'resume', onJob: (job, prepared) => void plans.keep(job, prepared) });
  keptPlans = plans.size.jobs;
  valid = check.valid;
  errors = check.errors.length;
} else {
  const parsed = parseBatchInput({ text: await readFile(values.file, 'utf8'), format: 'jsonl' });
  const catalogErrors = await validateJobs(parsed.jobs);
  valid = parsed.jobs.length - new Set(catalogErrors.map((error) => error.line)).size;
  errors = parsed.errors.length + catalogErrors.length;
}
const report: ValidationChildReport = { valid, errors, keptPlans, durationMs: Math.round(performance.now() - started), startMaxRssKb, maxRssKb: peakRssKb() };
process.stdout.write(`${JSON.stringify(report)}\n`);
