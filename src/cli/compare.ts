import { Command } from 'commander';
import { parseRateLimit } from '../units.js';
import path from 'node:path';
import { defaultCacheDir, ImageCache } from '../batch/cache.js';
import { createProgress } from '../batch/progress.js';
import { loadExperimentFile, parseExperiment, type Experiment } from '../compare/experiment.js';
import { runExperiment } from '../compare/run.js';
import { formatSummaryTable } from '../compare/summary.js';
import type { CliIO } from './output.js';
import { EXIT_FAILURE, EXIT_OK, numberOrRaw, parseFlag, wholeNumber } from './output.js';

type CompareFlags = {
  experiment?: string;
  prompt: string[];
  models?: string;
  seeds?: string;
  steps?: string;
  guidance?: string;
  size?: string;
  aspectRatio?: string;
  format?: string;
  name?: string;
  out: string;
  concurrency: string;
  rateLimit?: string;
  maxRetries: string;
  cache: boolean;
  cacheDir?: string;
  cellSize: string;
  json?: boolean;
};

const list = (value: string | undefined) => value?.split(',').map((item) => item.trim()).filter(Boolean);
const numbers = (value: string | undefined) => list(value)?.map((item) => numberOrRaw(item) as number);

/** `imagegen compare`: a matrix of prompts × models × seeds × settings, seen side by side. */
export function compareCommand(io: CliIO, setExitCode: (code: number) => void, stop: AbortSignal): Command {
  return new Command('compare')
    .description('run prompts × models × seeds × settings and write a contact sheet, an HTML gallery and results.csv/jsonl')
    .option('-e, --experiment <file>', 'experiment file (.json, .yaml); flags add to it')
    .option('-p, --prompt <text>', 'a prompt (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--models <list>', 'comma-separated "provider:model" list')
    .option('--seeds <list>', 'comma-separated seeds (default 1)')
    .option('--steps <list>', 'comma-separated steps to compare')
    .option('--guidance <list>', 'comma-separated guidance values to compare')
    .option('-s, --size <size>', 'size for every cell')
    .option('-a, --aspect-ratio <ratio>', 'aspect ratio for every cell')
    .option('--format <format>', 'png or jpeg')
    .option('--name <title>', 'title of the gallery')
    .option('-o, --out <dir>', 'output folder (re-running resumes)', './out/experiment')
    .option('-c, --concurrency <n>', 'requests in flight per provider', '4')
    .option('-r, --rate-limit <rate>', 'requests per minute per provider, e.g. 60/min')
    .option('--max-retries <n>', 'retries per request', '5')
    .option('--no-cache', 'bypass the cache of seeded requests')
    .option('--cache-dir <dir>', 'cache folder')
    .option('--cell-size <px>', 'contact sheet cell size', '256')
    .option('--json', 'print the results as JSON on stdout')
    .action(async (flags: CompareFlags) => {
      const fromFile = flags.experiment ? await loadExperimentFile(path.resolve(io.cwd, flags.experiment)) : undefined;
      const settings = {
        ...fromFile?.settings,
        ...(flags.steps === undefined ? {} : { steps: numbers(flags.steps) }),
        ...(flags.guidance === undefined ? {} : { guidance: numbers(flags.guidance) }),
      };
      const input: Experiment = {
        ...fromFile,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        prompts: [...(fromFile?.prompts ?? []), ...flags.prompt],
        models: list(flags.models) ?? fromFile?.models ?? [],
        ...(flags.seeds === undefined ? {} : { seeds: numbers(flags.seeds) }),
        settings,
        ...(flags.size === undefined ? {} : { size: flags.size }),
        ...(flags.aspectRatio === undefined ? {} : { aspectRatio: flags.aspectRatio }),
        ...(flags.format === undefined ? {} : { outputFormat: flags.format as 'png' }),
      } as Experiment;
      const experiment = parseExperiment(input);
      const cellSize = wholeNumber('--cell-size', flags.cellSize, 32, 1024);
      const concurrency = wholeNumber('--concurrency', flags.concurrency, 1);
      const maxRetries = wholeNumber('--max-retries', flags.maxRetries, 0);
      const rate = flags.rateLimit === undefined ? undefined : parseFlag('--rate-limit', flags.rateLimit, parseRateLimit);

      const outDir = path.resolve(io.cwd, flags.out);
      const progress = createProgress({ terminal: io.isTTY ? process.stderr : undefined, write: io.stderr });
      const result = await runExperiment({
        experiment,
        outDir,
        concurrency,
        maxRetries,
        cellSize,
        ...(rate === undefined ? {} : { requestsPerMinute: (rate.requests * 60_000) / rate.windowMs }),
        cache: flags.cache ? new ImageCache(flags.cacheDir ? path.resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env)) : false,
        signal: stop,
        onEvent: progress.onEvent,
      }).finally(() => progress.stop());

      if (flags.json) {
        io.stdout(`${JSON.stringify({ summary: result.summary, outputs: result.outputs, rows: result.rows })}\n`);
      } else {
        io.stdout(formatSummaryTable(result.summary));
        const pages = result.outputs.contactSheetPages.length;
        const sheet = result.outputs.contactSheetError !== undefined
          ? `not drawn (${result.outputs.contactSheetError})`
          : `${result.outputs.contactSheet}${pages > 1 ? ` (+ ${pages - 1} more pages beside it)` : ''}`;
        io.stdout(
          `\ngallery:       ${result.outputs.gallery}\ncontact sheet: ${sheet}\n` +
            `results:       ${result.outputs.resultsCsv}\n               ${result.outputs.resultsJsonl}\n`,
        );
      }
      const failed = result.rows.filter((row) => row.status === 'failed').length;
      setExitCode(result.batch.stopped ? 130 : failed > 0 ? EXIT_FAILURE : EXIT_OK);
    });
}
