import { Command } from 'commander';
import { parseByteSize, parseDuration, parseRateLimit } from '../util/units.js';
import { parseRedisUrl } from '../queue/connection.js';
import { runQueuedBatch } from '../queue/follow.js';
import type { SharedCacheSetting } from '../queue/settings.js';
import { openSharedCache } from '../queue/shared-cache.js';
import path from 'node:path';
import { defaultCacheDir } from '../files/cache-dir.js';
import { createEstimate, type DryRunEstimate } from '../batch/dry-run.js';
import { runBatch, type BatchEvent, type BatchSummary } from '../batch/engine.js';
import { detectFormat } from '../batch/input.js';
import { checkBatchFile, throwUnlessUsable, validBatchJobs } from '../batch/load.js';
import { PlanStore } from '../batch/plan-store.js';
import { createProgress, plural } from '../batch/progress.js';
import { loadTogetherApiKey } from '../providers/together/settings.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import type { ImageResult } from '../files/files.js';
import type { CliIO, CommandContext } from './output.js';
import { Budget } from '../pipeline/budget.js';
import { budgetFlag, checkPricedForBudget, choiceFlag, pathFromHere, EXIT_FAILURE, EXIT_OK, existingFile, formatFlag, integerFlag, LOCAL_FALLBACK_MODEL, numberFlag, parseFlag, timeoutFlag, UsageError, wholeNumber } from './output.js';

/** The cache's size cap unless `--cache-max-size` says otherwise. */
export const DEFAULT_CACHE_MAX_SIZE = '5GB';

type BatchFlags = {
  model?: string;
  size?: string;
  aspectRatio?: string;
  count?: string;
  steps?: string;
  seed?: string;
  negative?: string;
  guidance?: string;
  format?: string;
  inputFormat?: string;
  out: string;
  concurrency: string;
  rateLimit?: string;
  maxRetries: string;
  timeout: string;
  cache?: boolean | string;
  cacheDir?: string;
  cacheMaxSize: string;
  queue?: string;
  dryRun?: boolean;
  skipInvalid?: boolean;
  json?: boolean;
  budget?: string;
};

/** `imagegen batch <file>`: many requests from JSONL, CSV or text; durable, resumable, rate-limited. */
export function batchCommand({ io, setExitCode, stop, setQuitNote, telemetry }: CommandContext): Command {
  return new Command('batch')
    .description('generate from a file (JSONL, CSV with a header row, or one prompt per line); re-running resumes')
    .argument('<file>', 'requests file: .jsonl, .csv, or text')
    .option('-m, --model <provider:model>', 'default model for every request')
    .option('-s, --size <size>', 'default size')
    .option('-a, --aspect-ratio <ratio>', 'default aspect ratio')
    .option('-n, --count <n>', 'default images per request')
    .option('--steps <n>', 'default steps')
    .option('--seed <n>', 'default seed (seeded requests are cached)')
    .option('--negative <text>', 'default negative prompt')
    .option('--guidance <number>', 'default guidance')
    .option('--format <format>', 'default output format: png or jpeg')
    .option('--input-format <format>', 'jsonl, csv or text (default: from the file name)')
    .option('-o, --out <dir>', 'output folder (holds manifest.jsonl)', './out')
    .option('-c, --concurrency <n>', 'requests in flight per provider', '4')
    .option('-r, --rate-limit <rate>', 'requests per minute per provider, e.g. 120/min')
    .option('--max-retries <n>', 'retries per request on 429, 5xx, network errors and bad bodies', '5')
    .option('--timeout <duration>', 'per-request timeout, with a unit: 120s, 2m', '120s')
    .option('--cache [redis-url]', 'share the cache of seeded requests in Redis (redis://HOST:PORT[/DB]); without a URL, the cache folder')
    .option('--no-cache', 'bypass the cache of seeded requests')
    .option('--cache-dir <dir>', 'cache folder (default $IMAGEGEN_CACHE_DIR or ~/.cache/ai-imagegen)')
    .option('--cache-max-size <size>', 'size cap of the cache: past it the least recently used images go', DEFAULT_CACHE_MAX_SIZE)
    .option('--queue <redis-url>', 'put the jobs on a Redis queue (BullMQ) for `imagegen worker`s and follow them: redis://HOST:PORT[/DB]')
    .option('--dry-run', 'print requests, images, megapixels and estimated cost; send nothing')
    .option('--skip-invalid', 'go on without the lines that are invalid')
    .option('--json', 'print the summary and the images written as JSON on stdout')
    .option('--budget <usd>', 'stop sending before the spend (actual where reported, else estimated) would pass this many USD')
    .action(async (file: string, flags: BatchFlags) => {
      const inputFile = await existingFile({ cwd: io.cwd, file, what: 'requests file', retry: (name) => `Try: imagegen batch ${name}` });
      const defaults = requestDefaults(flags);
      const concurrency = wholeNumber('--concurrency', flags.concurrency, 1);
      const maxRetries = wholeNumber('--max-retries', flags.maxRetries, 0);
      const timeoutMs = timeoutFlag('--timeout', flags.timeout, parseDuration);
      const rate = flags.rateLimit === undefined ? undefined : parseFlag('--rate-limit', flags.rateLimit, parseRateLimit);
      const inputFormat = flags.inputFormat === undefined ? undefined : choiceFlag('--input-format', flags.inputFormat, ['jsonl', 'csv', 'text'] as const);
      const budgetUsd = flags.budget === undefined ? undefined : budgetFlag('--budget', flags.budget);
      // One budget across workers on other machines needs its spend kept in Redis: not built yet.
      if (budgetUsd !== undefined && flags.queue !== undefined) throw new UsageError('--budget cannot be combined with --queue yet: run the batch locally to bound its spend');
      const outDir = path.resolve(io.cwd, flags.out);
      const cacheMaxBytes = parseFlag('--cache-max-size', flags.cacheMaxSize, parseByteSize);
      // Checked with the other flags: a bad URL is a usage error before the file is read.
      if (flags.queue !== undefined) parseRedisUrl(flags.queue, '--queue');
      if (typeof flags.cache === 'string') parseRedisUrl(flags.cache, '--cache');
      const cacheSetting: SharedCacheSetting =
        flags.cache === false
          ? false
          : typeof flags.cache === 'string'
            ? { kind: 'redis', url: flags.cache, maxBytes: cacheMaxBytes }
            : { kind: 'dir', dir: flags.cacheDir ? path.resolve(io.cwd, flags.cacheDir) : defaultCacheDir(io.env), maxBytes: cacheMaxBytes };
      // Said once the flags are known to be good, so a usage error stands alone.
      if (defaults.model === undefined && loadTogetherApiKey() === undefined) {
        defaults.model = LOCAL_FALLBACK_MODEL;
        io.stderr(`No TOGETHER_API_KEY set: requests without a model use ${LOCAL_FALLBACK_MODEL}, an offline placeholder renderer.\n`);
      }
      const format = inputFormat ?? detectFormat(inputFile);
      // One pass over the file, each job planned once: validation, the keys, the dry run's
      // estimate and the room an image needs. The run reads the file again and takes each job's
      // plan from the store; jobs past its budget (and done ones, never kept) are planned at their turn.
      const estimator = await createEstimate({ outDir });
      const plans = new PlanStore();
      const check = await checkBatchFile({
        file: inputFile,
        format,
        defaults,
        checkKeys: !flags.dryRun,
        // Keys tell done jobs apart; in a fresh folder there are none, and keys are most of the cost.
        keys: estimator.needsKeys,
        onJob: async (job, prepared) => {
          if ((await estimator.add(job, prepared.plan)) && !flags.dryRun) plans.keep(job, prepared);
        },
      });
      throwUnlessUsable({ file: inputFile, check, skipInvalid: flags.skipInvalid ?? false });
      for (const line of check.errors) io.stderr(`skipped ${file}:${line.line}:${line.column}: ${line.message}\n`);

      if (flags.dryRun) {
        printDryRun(io, estimator.finish(), flags.json ?? false);
        return;
      }

      if (check.keyProblems[0] !== undefined) throw check.keyProblems[0];
      if (budgetUsd !== undefined) checkPricedForBudget('--budget', estimator.finish().unpricedModels);
      setQuitNote(`the images written so far are kept in ${outDir}, each file whole; run the same command again to resume (done requests are skipped)`);
      const progress = createProgress({
        terminal: io.isTTY ? process.stderr : undefined,
        write: io.stderr,
        requestsPerMinute: rate === undefined ? undefined : (rate.requests * 60_000) / rate.windowMs,
      });
      const images: ImageResult[] = [];
      let summary: BatchSummary;
      const onEvent = (event: BatchEvent) => {
        // Kept only to print: a long run without --json holds no list of its images.
        if (flags.json && event.type === 'done') images.push(...event.results);
        progress.onEvent(event);
      };
      const common = {
        ...telemetry(),
        jobs: validBatchJobs({ file: inputFile, format, defaults, invalidLines: check.invalidLines }),
        total: check.valid,
        alreadyDone: estimator.finish().alreadyDone,
        bytesNeeded: check.bytesNeeded,
        outDir,
        maxRetries,
        timeoutMs,
        ...(rate === undefined ? {} : { requestsPerMinute: (rate.requests * 60_000) / rate.windowMs }),
        signal: stop,
        onEvent,
      };
      // Opened here for a local run (a Redis cache has a connection to close); a queued run's workers open their own.
      const localCache = flags.queue === undefined ? await openSharedCache(cacheSetting) : undefined;
      try {
        summary =
          flags.queue === undefined
            ? await runBatch({
                ...common,
                prepared: (job) => plans.take(job),
                concurrency,
                cache: localCache?.cache ?? false,
                ...(budgetUsd === undefined ? {} : { budget: new Budget({ maxUsd: budgetUsd, field: '--budget' }) }),
              })
            : await runQueuedBatch({ ...common, queue: flags.queue, cache: cacheSetting });
      } finally {
        progress.stop();
        await localCache?.close();
      }
      // The shared result shape (schema/result.schema.json): the files this run wrote, relative to outDir.
      if (flags.json) io.stdout(`${JSON.stringify({ outDir, summary, images: images.map((image) => ({ ...image, path: pathFromHere(io.cwd, path.join(outDir, image.file)) })) })}\n`);
      else io.stderr(formatSummary(summary, outDir));
      // main turns a stop (Ctrl-C) into 130.
      setExitCode(summary.fileSystemError !== undefined || summary.failed > 0 || summary.budget?.exceeded === true ? EXIT_FAILURE : EXIT_OK);
    });
}

function requestDefaults(flags: BatchFlags): Partial<GenerateRequest> {
  const entries: [keyof GenerateRequest, unknown][] = [
    ['model', flags.model],
    ['size', flags.size],
    ['aspectRatio', flags.aspectRatio],
    ['count', flags.count === undefined ? undefined : integerFlag('-n/--count', flags.count, 4)],
    ['steps', flags.steps === undefined ? undefined : integerFlag('--steps', flags.steps, 28)],
    ['seed', flags.seed === undefined ? undefined : integerFlag('--seed', flags.seed, 42)],
    ['negativePrompt', flags.negative],
    ['guidance', flags.guidance === undefined ? undefined : numberFlag('--guidance', flags.guidance)],
    ['outputFormat', flags.format === undefined ? undefined : formatFlag(flags.format)],
  ];
  return Object.fromEntries(entries.filter(([, value]) => value !== undefined)) as Partial<GenerateRequest>;
}

export function formatSummary(summary: BatchSummary, outDir: string): string {
  const lines = [
    `${summary.stopped ? 'stopped' : 'finished'} in ${(summary.durationMs / 1000).toFixed(1)}s → ${outDir}`,
    ...(summary.fileSystemError === undefined
      ? []
      : [
          summary.fileSystemError.startsWith('the lock on')
            ? `  stopped early: ${summary.fileSystemError}; no new request was sent. Another run may be writing there: let it finish, or run the same command again to resume.`
            : `  stopped early: ${summary.fileSystemError}; no new request was sent. Fix that (free space, permissions), then run the same command again to resume.`,
        ]),
    ...summary.openCircuits.map(
      (circuit) => `  line ${circuit.line} was sent and failed: ${circuit.reason.replace(/\.$/, '')}; the later requests to ${circuit.scope} were not sent, as the error would repeat`,
    ),
    `  done ${summary.done} (${summary.cached} cached), skipped ${summary.skipped} (done before), failed ${summary.failed}` +
      `${summary.pending > 0 ? `, not started ${summary.pending} (re-run to resume)` : ''}`,
    `  ${plural(summary.requests, 'request')} sent, ${plural(summary.retries, 'retry').replace('retrys', 'retries')}, ${plural(summary.images, 'image')}, ${summary.imagesPerMinute} images/min`,
    `  ${formatCosts(summary)}`,
    ...(summary.budget?.exceeded === true
      ? [
          `  budget $${summary.budget.limitUsd.toFixed(4)} reached: spent $${summary.budget.spentUsd.toFixed(4)}, ${plural(summary.budget.unsent, 'job')} left unsent; ` +
            'run the same command again with a new --budget to continue (done requests are skipped)',
        ]
      : summary.budget === null
        ? []
        : [`  budget $${summary.budget.limitUsd.toFixed(4)}: spent $${summary.budget.spentUsd.toFixed(4)}`]),
    ...summary.failures.slice(0, 10).map((failure) => `  failed line ${failure.line}: ${failure.error}`),
  ];
  return `${lines.join('\n')}\n`;
}

/** `estimated cost $0.0800, actual $0.1200 (reported by the provider)`; the actual only where some provider reported one. */
function formatCosts(summary: BatchSummary): string {
  const estimated = `estimated cost $${summary.estimatedCostUsd.toFixed(4)}`;
  return summary.actualCostUsd === null ? estimated : `${estimated}, actual $${summary.actualCostUsd.toFixed(4)} (where the provider reported it)`;
}

/** The dry run's estimate: as JSON with `--json`, else a line and one per model. */
function printDryRun(io: CliIO, estimate: DryRunEstimate, json: boolean): void {
  if (json) {
    io.stdout(`${JSON.stringify({ dryRun: true, ...estimate })}\n`);
  } else {
    io.stdout(
      `dry run, nothing sent: ${plural(estimate.requests, 'request')}, ${plural(estimate.images, 'image')}, ` +
        `${estimate.megapixels} megapixels, estimated $${estimate.estimatedCostUsd.toFixed(4)}` +
        `${estimate.alreadyDone > 0 ? ` (${plural(estimate.alreadyDone, 'request')} already done, skipped)` : ''}\n`,
    );
    for (const [model, part] of Object.entries(estimate.byModel)) {
      io.stdout(`  ${model}: ${plural(part.requests, 'request')}, ${plural(part.images, 'image')}, ${part.megapixels} MP, $${part.estimatedCostUsd.toFixed(4)}\n`);
    }
    if (estimate.unpricedModels.length > 0) io.stdout(`  no price data for: ${estimate.unpricedModels.join(', ')}\n`);
    if (estimate.unknownModels.length > 0) {
      io.stdout(`  not in the catalog (generic capabilities, unchecked): ${estimate.unknownModels.join(', ')}\n`);
    }
    for (const { model, status, date, replacement } of estimate.deprecatedModels) {
      io.stdout(`  deprecated: ${model} (${status}${date === null ? '' : ` ${date}`}); use ${replacement}\n`);
    }
  }
}
