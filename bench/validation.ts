/**
 * Checking a large batch file before anything is sent: a JSONL file of 431,000 and 1,000,000 lines
 * is written to $TMPDIR, then checked in a fresh child process (bench/validation-child.ts) as
 * `imagegen batch` does: read as a stream, every line parsed and planned against the catalog, the
 * first jobs' plans kept for the run (bounded: 500 at most).
 * Time and the child's peak RSS; the 1M file also with job keys made (a re-run into a folder with a
 * journal, where done jobs are told by key); the 431k file also the old way (whole text, every job
 * kept), the figure the streaming replaced.
 */
import { execFile } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { mkdtemp, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { promisify } from 'node:util';
import type { BenchmarkOptions, BenchmarkOutcome, TableRow } from './run.js';
import type { ValidationChildReport } from './validation-child.js';

const run = promisify(execFile);

const LIMIT_SECONDS = 30;
const LIMIT_MIB = 300;
const FULL = [431_000, 1_000_000];
const QUICK = [20_000, 50_000];
/** The old way keeps every job: run once, at the size it was measured at before. */
const WHOLE_FILE_AT = { full: 431_000, quick: 20_000 };
/** A re-run's check makes keys too: run once, at the largest size. */
const RESUME_AT = { full: 1_000_000, quick: 50_000 };

type Mode = 'stream' | 'resume' | 'whole';
type Result = ValidationChildReport & { lines: number; mode: Mode; fileMiB: number; maxRssMiB: number; startMaxRssMiB: number };

export async function runValidation({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-bench-validation-'));
  const results: Result[] = [];
  try {
    for (const lines of quick ? QUICK : FULL) {
      const file = path.join(folder, `requests-${lines}.jsonl`);
      await writeRequests(file, lines);
      const fileMiB = Math.round(((await stat(file)).size / 2 ** 20) * 10) / 10;
      const size = quick ? 'quick' : 'full';
      const modes: Mode[] = ['stream', ...(lines === RESUME_AT[size] ? (['resume'] as const) : []), ...(lines === WHOLE_FILE_AT[size] ? (['whole'] as const) : [])];
      for (const mode of modes) {
        const report = await check(file, mode);
        const result: Result = { lines, mode, fileMiB, ...report, maxRssMiB: toMiB(report.maxRssKb), startMaxRssMiB: toMiB(report.startMaxRssKb) };
        log(`  ${lines} lines (${fileMiB} MiB), ${mode}: ${(report.durationMs / 1000).toFixed(1)} s, peak RSS ${result.maxRssMiB} MiB (${result.startMaxRssMiB} MiB loaded), ${report.valid} valid, ${report.errors} problems, ${report.keptPlans} plans kept for the run`);
        results.push(result);
      }
      await rm(file, { force: true });
    }
  } finally {
    await rm(folder, { recursive: true, force: true });
  }
  const rows: TableRow[] = results.map((result) => ({
    benchmark: 'batch file check',
    variant: `${result.lines.toLocaleString('en')} JSONL lines (${result.fileMiB} MiB), ${VARIANTS[result.mode]}`,
    result: `${(result.durationMs / 1000).toFixed(1)} s, peak RSS ${result.maxRssMiB} MiB`,
    target: result.mode === 'whole' ? '' : `< ${LIMIT_SECONDS} s and < ${LIMIT_MIB} MiB at 1M lines`,
    met: result.mode === 'whole' ? undefined : result.durationMs < LIMIT_SECONDS * 1000 && result.maxRssMiB < LIMIT_MIB && result.valid === result.lines && result.errors === 0,
  }));
  return {
    rows,
    raw: {
      settings: { request: sampleLine(0), measure: "the child's own peak RSS (/proc VmHWM) at its end, KiB; time from before reading to the check's end" },
      results,
    },
  };
}

const VARIANTS: Record<Mode, string> = {
  stream: 'streamed, each job planned once',
  resume: 'streamed, planned once, job keys made (a re-run)',
  whole: 'before: whole text, every job kept',
};

/** Realistic lines: a prompt, a catalog model, a size, a seed and steps, each line different. */
function sampleLine(index: number): string {
  return JSON.stringify({ prompt: `a lighthouse on a cliff at dawn, long exposure, frame ${index}`, model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '512x512', seed: index, steps: 4 });
}

async function writeRequests(file: string, lines: number): Promise<void> {
  const stream = createWriteStream(file);
  for (let index = 0; index < lines; index++) {
    if (!stream.write(`${sampleLine(index)}\n`)) await once(stream, 'drain');
  }
  stream.end();
  await once(stream, 'finish');
}

async function check(file: string, mode: Mode): Promise<ValidationChildReport> {
  const { stdout } = await run(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'validation-child.ts'), '--file', file, '--mode', mode], {
    cwd: path.dirname(import.meta.dirname),
    maxBuffer: 1024 * 1024,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1) ?? '') as ValidationChildReport;
}

function toMiB(kilobytes: number): number {
  return Math.round((kilobytes / 1024) * 10) / 10;
}
