import { Command } from 'commander';
import { parseRateLimit } from '../util/units.js';
import path from 'node:path';
import { ImageCache } from '../batch/cache.js';
import { defaultCacheDir } from '../files/cache-dir.js';
import { createProgress } from '../batch/progress.js';
import { loadExperimentFile, parseExperiment, readablePath } from '../compare/experiment.js';
import { runExperiment } from '../compare/run.js';
import { formatSummaryTable } from '../compare/summary.js';
import type { CommandContext } from './output.js';
import { resolveModelReference } from '../models/resolve-model.js';
import { Budget } from '../pipeline/budget.js';
import { budgetFlag, checkPricedForBudget, EXIT_FAILURE, EXIT_OK, existingFile, formatFlag, numberFlag, parseFlag, UsageError, wholeNumber } from './output.js';

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
  image: string[];
  mask?: string;
  name?: string;
  out: string;
  concurrency: string;
  rateLimit?: string;
  maxRetries: string;
  cache: boolean;
  cacheDir?: string;
  cellSize: string;
  json?: boolean;
  budget?: string;
};

const list = (value: string | undefined) => value?.split(',').map((item) => item.trim()).filter(Boolean);
/** `--seeds 1,2,x` → an error naming `--seeds #3`, the third value. */
const numbers = (flag: string, value: string | undefined, whole: boolean, minimum: number) =>
  list(value)?.map((item, index) => (whole ? wholeNumber(`${flag} #${index + 1}`, item, minimum) : numberFlag(`${flag} #${index + 1}`, item)));

/** Experiment fields → the flags that set them, so an error names what the user typed. */
function flagOf(path: readonly PropertyKey[], promptsFromFile: number): string {
  const [field, second, third] = path;
  const nth = (index: unknown, offset = 0) => (typeof index === 'number' ? ` #${index - offset + 1}` : '');
  switch (field) {
    case 'prompts':
      return `-p/--prompt${nth(second, promptsFromFile)}`;
    case 'models':
      return `--models${nth(second)}`;
    case 'seeds':
      return `--seeds${nth(second)}`;
    case 'settings':
      return second === 'steps' || second === 'guidance' ? `--${second}${nth(third)}` : readablePath(path);
    case 'size':
      return '-s/--size';
    case 'aspectRatio':
      return '-a/--aspect-ratio';
    case 'outputFormat':
      return '--format';
    case 'referenceImages':
      return `-i/--image${nth(second)}`;
    case 'mask':
      return '--mask';
    case 'name':
      return '--name';
    default:
      return readablePath(path);
  }
}

/** A model with no price (none in the catalog, none given with --price): a budget cannot bound it. */
function unpriced(model: string): boolean {
  try {
    return resolveModelReference(model).target.model.price === undefined;
  } catch {
    // A model that does not resolve is refused by the experiment's own checks, with the reason.
    return false;
  }
}

/** `imagegen compare`: a matrix of prompts × models × seeds × settings, seen side by side. */
export function compareCommand({ io, setExitCode, stop, setQuitNote, telemetry }: CommandContext): Command {
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
    .option('-i, --image <path-or-url>', 'reference image for every cell (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--mask <path-or-url>', 'where every cell repaints the first --image (models that take a mask)')
    .option('--name <title>', 'title of the gallery')
    .option('-o, --out <dir>', 'output folder (re-running resumes)', './out/experiment')
    .option('-c, --concurrency <n>', 'requests in flight per provider', '4')
    .option('-r, --rate-limit <rate>', 'requests per minute per provider, e.g. 60/min')
    .option('--max-retries <n>', 'retries per request', '5')
    .option('--no-cache', 'bypass the cache of seeded requests')
    .option('--cache-dir <dir>', 'cache folder')
    .option('--cell-size <px>', 'contact sheet cell size', '256')
    .option('--json', 'print the results as JSON on stdout')
    .option('--budget <usd>', 'stop sending before the spend (actual where reported, else estimated) would pass this many USD')
    // Checked in the action, to point a bare prompt at -p rather than say "too many arguments".
    .allowExcessArguments(true)
    .action(async (flags: CompareFlags, command: Command) => {
      if (command.args.length > 0) {
        throw new UsageError(
          `compare takes its prompts with -p (repeatable): imagegen compare -p ${JSON.stringify(command.args.join(' '))} --models togetherai:black-forest-labs/FLUX.1-schnell,local:placeholder`,
        );
      }
      const experimentFile =
        flags.experiment === undefined
          ? undefined
          : await existingFile({ cwd: io.cwd, file: flags.experiment, what: 'experiment file', retry: (name) => `Try: imagegen compare -e ${name}` });
      const fromFile = experimentFile === undefined ? undefined : await loadExperimentFile(experimentFile, { name: flags.experiment! });
      if (flags.prompt.length === 0 && fromFile === undefined) {
        throw new UsageError('compare needs at least one prompt: -p "a cat" (repeatable), or an experiment file with a prompts list (-e experiment.yaml)');
      }
      const settings = {
        ...fromFile?.settings,
        ...(flags.steps === undefined ? {} : { steps: numbers('--steps', flags.steps, true, 1) }),
        ...(flags.guidance === undefined ? {} : { guidance: numbers('--guidance', flags.guidance, false, 0) }),
      };
      const input = {
        ...fromFile,
        ...(flags.name === undefined ? {} : { name: flags.name }),
        prompts: [...(fromFile?.prompts ?? []), ...flags.prompt],
        models: list(flags.models) ?? fromFile?.models ?? [],
        ...(flags.seeds === undefined ? {} : { seeds: numbers('--seeds', flags.seeds, true, 0) }),
        settings,
        ...(flags.size === undefined ? {} : { size: flags.size }),
        ...(flags.aspectRatio === undefined ? {} : { aspectRatio: flags.aspectRatio }),
        ...(flags.format === undefined ? {} : { outputFormat: formatFlag(flags.format) }),
        ...(flags.image.length === 0 ? {} : { referenceImages: flags.image }),
        ...(flags.mask === undefined ? {} : { mask: flags.mask }),
      };
      const experiment = parseExperiment(input, { locate: (field) => flagOf(field, fromFile?.prompts.length ?? 0) });
      const cellSize = wholeNumber('--cell-size', flags.cellSize, 32, 1024);
      const concurrency = wholeNumber('--concurrency', flags.concurrency, 1);
      const maxRetries = wholeNumber('--max-retries', flags.maxRetries, 0);
      const rate = flags.rateLimit === undefined ? undefined : parseFlag('--rate-limit', flags.rateLimit, parseRateLimit);
      const budgetUsd = flags.budget === undefined ? undefined : budgetFlag('--budget', flags.budget);
      if (budgetUsd !== undefined) checkPricedForBudget('--budget', experiment.models.filter((model) => unpriced(model)));

      const outDir = path.resolve(io.cwd, flags.out);
      setQuitNote(`the images written so far are kept in ${outDir}, each file whole; run the same command again to resume (done cells are skipped)`);
      const progress = createProgress({
        terminal: io.isTTY ? process.stderr : undefined,
        write: io.stderr,
        requestsPerMinute: rate === undefined ? undefined : (rate.requests * 60_000) / rate.windowMs,
        item: 'cell',
      });
      const result = await runExperiment({
        ...telemetry(),
        experiment,
        outDir,
        concurrency,
        maxRetries,
        cellSize,
        ...(rate === undefined ? {} : { requestsPerMinute: (rate.requests * 60_000) / rate.windowMs }),
        cache: flags.cache ? new ImageCache(flags.cacheDir ? path.resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env)) : false,
        signal: stop,
        onEvent: progress.onEvent,
        ...(budgetUsd === undefined ? {} : { budget: new Budget({ maxUsd: budgetUsd, field: '--budget' }) }),
      }).finally(() => progress.stop());

      if (flags.json) {
        // Rows in the shared result shape (schema/result.schema.json): absent values are null, as in results.jsonl.
        io.stdout(`${JSON.stringify({ outDir, summary: result.summary, outputs: result.outputs, rows: result.rows, budget: result.batch.budget }, (_key, value: unknown) => (value === undefined ? null : value))}\n`);
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
      const { budget } = result.batch;
      if (budget?.exceeded === true) {
        io.stderr(
          `\nbudget $${budget.limitUsd.toFixed(4)} reached: spent $${budget.spentUsd.toFixed(4)}, ${budget.unsent} ${budget.unsent === 1 ? 'cell' : 'cells'} left unsent; ` +
            'run the same command again with a new --budget to continue (done cells are skipped)\n',
        );
      } else if (budget !== null) {
        io.stderr(`\nbudget $${budget.limitUsd.toFixed(4)}: spent $${budget.spentUsd.toFixed(4)}\n`);
      }
      const failedRows = result.rows.filter((row) => row.status === 'failed');
      if (failedRows.length > 0) {
        // The exit code alone says nothing: name the cells and why (all of them are in the gallery and results files).
        io.stderr(`\n${failedRows.length} of ${result.rows.length} cells failed:\n`);
        for (const row of failedRows.slice(0, 5)) io.stderr(`  ${row.column}, seed ${row.seed ?? '-'}, "${row.prompt.slice(0, 40)}": ${row.error ?? 'no reason given'}\n`);
        if (failedRows.length > 5) io.stderr(`  … and ${failedRows.length - 5} more (results.csv has every reason)\n`);
      }
      // main turns a stop (Ctrl-C) into 130.
      setExitCode(failedRows.length > 0 || budget?.exceeded === true ? EXIT_FAILURE : EXIT_OK);
    });
}
