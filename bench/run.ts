/**
 * `npm run bench [-- --only throughput,cache] [-- --quick]`: runs the benchmarks one after another,
 * prints one Markdown table (ready for the README) and writes the raw numbers to bench/results.json.
 */
import { writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { runCache } from './cache.js';
import { runColdStart } from './cold-start.js';
import { runMemory } from './memory.js';
import { runOverhead } from './overhead.js';
import { runQueueKill, runQueueWorkers, runSharedLimiter, runWorkerMemory } from './queue.js';
import { runPackageSize } from './package-size.js';
import { runRequestsPerImage } from './requests-per-image.js';
import { runThroughput } from './throughput.js';
import { runValidation } from './validation.js';

/** One line of the printed table. `met` is `undefined` for baselines, which have no target. */
export type TableRow = { benchmark: string; variant: string; result: string; target: string; met: boolean | undefined };

/** What each benchmark hands back: its table lines and its numbers as measured. */
export type BenchmarkOutcome = { rows: TableRow[]; raw: unknown };

export type BenchmarkOptions = {
  /** Smaller sizes, for a smoke run of a few seconds per benchmark. */
  quick: boolean;
  /** Progress lines; they go to stderr so stdout stays the table. */
  log: (line: string) => void;
};

const BENCHMARKS: Record<string, (options: BenchmarkOptions) => Promise<BenchmarkOutcome>> = {
  'requests-per-image': runRequestsPerImage,
  throughput: runThroughput,
  overhead: runOverhead,
  // Before memory: the 1000-image run leaves the disk flushing for a while, and the cache's second
  // run is a few dozen small fsyncs that would be timed against that flush.
  cache: runCache,
  memory: runMemory,
  // A child process per file, checking it as `imagegen batch` does before sending.
  validation: runValidation,
  // The installed package, in a fresh app outside the repository (the consumer suite's).
  'cold-start': runColdStart,
  'package-size': runPackageSize,
};

/**
 * Beyond one machine (bench/queue.ts; Debian's redis-server; about 12 minutes, 500 images at
 * 120/min alone take 5): run only when named, `--only queue-workers,queue-kill,shared-limiter,worker-memory`.
 */
const NAMED_ONLY: Record<string, (options: BenchmarkOptions) => Promise<BenchmarkOutcome>> = {
  'queue-workers': runQueueWorkers,
  'queue-kill': runQueueKill,
  'shared-limiter': runSharedLimiter,
  'worker-memory': runWorkerMemory,
};

// Only a full run of every benchmark replaces the committed results the README quotes.
const RESULTS_FILE = path.join(import.meta.dirname, 'results.json');
const PARTIAL_RESULTS_FILE = path.join(import.meta.dirname, 'results.partial.json');

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { only: { type: 'string' }, quick: { type: 'boolean', default: false } },
  });
  const names = values.only === undefined ? Object.keys(BENCHMARKS) : values.only.split(',').map((name) => name.trim());
  const available = { ...BENCHMARKS, ...NAMED_ONLY };
  const unknown = names.filter((name) => !(name in available));
  if (unknown.length > 0) {
    throw new Error(`Unknown benchmark ${unknown.join(', ')}: use one of ${Object.keys(available).join(', ')}`);
  }
  // The plain AI SDK runs would print the provider's warnings once per call.
  (globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

  const options: BenchmarkOptions = { quick: values.quick, log: (line) => process.stderr.write(`${line}\n`) };
  const rows: TableRow[] = [];
  const results: Record<string, unknown> = {};
  const started = Date.now();
  for (const name of names) {
    const benchmark = available[name as keyof typeof available]!;
    const benchmarkStarted = Date.now();
    options.log(`▶ ${name}`);
    const outcome = await benchmark(options);
    options.log(`  ${name} took ${((Date.now() - benchmarkStarted) / 1000).toFixed(1)} s`);
    rows.push(...outcome.rows);
    results[name] = outcome.raw;
  }

  const machine = {
    cpus: os.cpus().length,
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    totalMemoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    platform: `${os.platform()} ${os.release()} ${os.arch()}`,
    node: process.version,
  };
  const report = {
    timestamp: new Date().toISOString(),
    mode: values.quick ? 'quick' : 'full',
    benchmarks: names,
    totalSeconds: Math.round((Date.now() - started) / 100) / 10,
    machine,
    table: rows,
    results,
  };
  const resultsFile = values.quick || values.only !== undefined ? PARTIAL_RESULTS_FILE : RESULTS_FILE;
  await writeFile(resultsFile, `${JSON.stringify(report, null, 2)}\n`);

  process.stdout.write(`${formatTable(rows)}\n\n`);
  process.stdout.write(
    `${machine.cpus} × ${machine.cpuModel}, ${machine.totalMemoryGiB} GiB, Node ${machine.node}, ${report.mode} run, ${report.timestamp}\n`,
  );
  process.stdout.write(`Raw numbers: ${path.relative(process.cwd(), resultsFile)}\n`);
}

function formatTable(rows: readonly TableRow[]): string {
  const header = ['Benchmark', 'Variant', 'Result', 'Target', 'Met'];
  const lines = rows.map((row) => [row.benchmark, row.variant, row.result, row.target, row.met === undefined ? '—' : row.met ? 'yes' : 'NO']);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
