import path from 'node:path';
import pRetry from 'p-retry';
import { isConnectionRefused } from '../errors/provider-errors.js';
import { ImagegenError, InvalidRequestError, InvalidResponseError, NoImageError, ProviderError, RateLimitError, TimeoutError } from '../errors/errors.js';
import { bytesForImage, bytesForRequests, checkWritableFolder, describeFileSystemFault, isFileSystemFault } from '../files/folder-checks.js';
import { readImageFile, removeTemporaryFiles, saveImages, slugify, type ImageResult } from '../files/files.js';
import { prepareGeneration, type GenerateImagesOptions, type PreparedGeneration } from '../generate.js';
import { GeneratedImage } from '../image.js';
import { costOfDelivery, type Budget } from '../pipeline/budget.js';
import { collectResult } from '../pipeline/collect.js';
import { roundUsd } from '../pipeline/cost.js';
import type { MappedCall } from '../pipeline/map.js';
import type { ImagegenWarning, Plan } from '../pipeline/plan.js';
import { sendCall, type CallOutcome } from '../pipeline/send.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import { resolveTelemetry, telemetryOptionsOf, type TelemetryOptions } from '../telemetry/settings.js';
import { traceRequest, type RequestTrace } from '../telemetry/trace.js';
import { timeoutSignal } from '../util/timeout.js';
import { ImageCache, type CachedImage, type SeededImageCache } from './cache.js';
import { imageOfCached } from '../sharing/image-cache.js';
import { KEY_FORMAT, lineErrors, type BatchJob, type LineError } from './input.js';
import { Journal, journalImage, type JournalEntry } from './journal.js';
import { LOCK_NAME, lockOutputFolder } from './output-lock.js';
import { SidecarRecovery } from './recover.js';
import { exhaustedWindowMs, MAX_PAUSE_SECONDS, ProviderPacing } from './pacing.js';
import { LeftUnsent, RunBudget, type BatchBudgetSummary } from './run-budget.js';

export { exhaustedWindowMs } from './pacing.js';

/** What happens during a run, for progress displays. */
export type BatchEvent =
  | { type: 'start'; total: number; skipped: number }
  /** Done in an earlier run: its journal entry (with each image's size and type, when this version wrote it). */
  | { type: 'skipped'; job: BatchJob; entry: JournalEntry }
  /**
   * `latencyMs`: the provider call (the longest, when a request took several); `undefined` when
   * cached. `queueMs`: time spent waiting for a turn (concurrency, rate limit, backoff).
   */
  | { type: 'done'; job: BatchJob; images: number; cached: boolean; durationMs: number; latencyMs: number | undefined; queueMs: number; requests: number; results: ImageResult[] }
  | { type: 'failed'; job: BatchJob; error: string; requests: number }
  | { type: 'retry'; job: BatchJob; attempt: number; error: string }
  /** An error that would repeat for every job of a provider or model: its remaining jobs are not sent. */
  /** `line` was sent and failed with an error that would repeat; later requests to `scope` are not sent. */
  | { type: 'circuit-open'; scope: string; reason: string; line: number }
  /** Writing failed (disk full, read-only, no permission): no new request starts. */
  | { type: 'file-system-fault'; error: string }
  /** The run was asked to stop: waits for a turn end now; `inFlight` provider calls are let finish. */
  | { type: 'stopping'; inFlight: number };

export type RunBatchOptions = TelemetryOptions & {
  /** A list, or a stream read as jobs are needed (memory stays flat whatever its length). */
  jobs: readonly BatchJob[] | AsyncIterable<BatchJob>;
  /** With a stream: how many jobs it holds, for the start event (else counted as they come). */
  total?: number | undefined;
  /** With a stream: how many of them were done before, for the start event (its caller's check pass counted them). */
  alreadyDone?: number | undefined;
  /** Room one image needs, when the caller's check pass measured it. @default from the jobs' sizes */
  bytesNeeded?: number | undefined;
  /** Jobs planned already (by a caller that checked them), so they are not planned again. */
  prepared?: ((job: BatchJob) => PreparedGeneration | undefined) | undefined;
  /** Reads reference images given as file paths. @default readImageFile */
  readFile?: ((path: string, options: { maxBytes: number; signal?: AbortSignal }) => Promise<Uint8Array>) | undefined;
  /** Images, sidecars and `manifest.jsonl` go here. */
  outDir: string;
  providers?: ProvidersOption | undefined;
  /** HTTP calls in flight at once, per provider. @default 4 */
  concurrency?: number | undefined;
  /** Requests started per minute, per provider (retries included). @default unlimited */
  requestsPerMinute?: number | undefined;
  /** Retries per call on 429, 5xx, network errors, timeouts and bad bodies. @default 5 */
  maxRetries?: number | undefined;
  /** Per-request timeout in milliseconds. @default 120000 */
  timeoutMs?: number | undefined;
  /** Backoff bounds; jittered, doubling, and never shorter than a `retry-after`. @default 1 s to 30 s */
  backoff?: { minMs: number; maxMs: number } | undefined;
  /** The seeded-request cache (a folder, or any storage: `StorageImageCache`), or `false` to bypass it. @default false */
  cache?: ImageCache | SeededImageCache | false | undefined;
  /** When aborted, no new request starts; those in flight finish and are written. */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: BatchEvent) => void) | undefined;
  randomSeed?: GenerateImagesOptions['randomSeed'];
  /**
   * A spending limit (`--budget`): no job is sent whose spend would pass it, counting what is in
   * flight; the first that would stops the sending, and it and the rest are left unsent for a re-run.
   */
  budget?: Budget | undefined;
};

export type BatchSummary = {
  total: number;
  done: number;
  /** Already done in an earlier run (journal), not redone. */
  skipped: number;
  /** Served from the cache, no request sent. */
  cached: number;
  failed: number;
  /** Not started because the run was stopped. */
  pending: number;
  requests: number;
  retries: number;
  images: number;
  durationMs: number;
  imagesPerMinute: number;
  estimatedCostUsd: number;
  /** The sum of what providers reported for this run's requests; `null` when none reported. */
  actualCostUsd: number | null;
  /** This run's spend: actual costs where reported, estimates otherwise. */
  spentUsd: number;
  /** With a budget: its limit, the spend charged to it, and the jobs it left unsent. */
  budget: BatchBudgetSummary | null;
  failures: { line: number; key: string; error: string }[];
  stopped: boolean;
  /** Set when a write failed and the run stopped early for it: what failed, in a sentence. */
  fileSystemError?: string | undefined;
  /** Providers or models whose remaining jobs were not sent, with the error that stopped them. */
  /** Scopes no longer sent to: `line` (sent) failed with `reason`, which would repeat. */
  openCircuits: { scope: string; reason: string; line: number }[];
};


/**
 * Checks every job against the catalog (and reference files) before anything is sent; returns the
 * problems with their line and column.
 */
export async function validateJobs(
  jobs: readonly BatchJob[],
  providers?: ProvidersOption,
): Promise<LineError[]> {
  const errors: LineError[] = [];
  for (const job of jobs) {
    try {
      await prepareGeneration(job.request, { ...(providers === undefined ? {} : { providers }), readFile: readImageFile, checkKey: false });
    } catch (error) {
      if (!InvalidRequestError.isInstance(error)) throw error;
      errors.push(...lineErrors(job, error.issues));
    }
  }
  return errors;
}

/**
 * Runs a batch durably: each finished request's images and sidecars are written atomically, then
 * recorded in `manifest.jsonl`. Running it again resumes: done requests are skipped, failed and
 * unfinished ones are redone, under the same file names, so nothing is duplicated.
 *
 * The steps: check the folders, lock the output folder, open the journal (resume), then schedule
 * the jobs (a bounded number at once, read from `jobs` as they are needed), each planned once and
 * sent call by call, its images written; then the summary.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  const timeoutMs = checkTimeout(options.timeoutMs ?? 120_000);
  resolveTelemetry(options);
  await checkFolders({ options, outDir });
  let lockLost: Error | undefined;
  const releaseLock = await lockOutputFolder({ folder: outDir, onCompromised: (error) => (lockLost ??= error) });
  // Read before each paid request: a lock deleted (or taken by another run) stops this one at once.
  const lockHeld = async () => {
    if (lockLost === undefined && !(await releaseLock.held().catch(() => false))) {
      lockLost = new Error(`${path.join(outDir, LOCK_NAME)} was removed or taken by another run`);
    }
    return lockLost === undefined;
  };
  try {
    const run = await BatchRun.open({ options, outDir, timeoutMs, lockLost: () => lockLost, lockHeld });
    await run.schedule();
    return run.summarize(started);
  } finally {
    await releaseLock().catch(() => undefined);
  }
}

function checkTimeout(timeoutMs: number): number {
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidRequestError({ issues: [{ field: 'timeoutMs', value: timeoutMs, message: `must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (24 days)` }] });
  }
  return timeoutMs;
}

/** Checked before anything is sent: a folder that cannot take one image would only collect bills. */
async function checkFolders({ options, outDir }: { options: RunBatchOptions; outDir: string }): Promise<void> {
  const bytesNeeded =
    options.bytesNeeded ?? (isAsyncIterable(options.jobs) ? bytesForImage(256, 256) : await bytesForRequests(options.jobs.map((job) => job.request), options.providers));
  await checkWritableFolder({ folder: outDir, bytesNeeded, field: 'outDir' });
  if (options.cache instanceof ImageCache) await checkWritableFolder({ folder: options.cache.dir, bytesNeeded, field: 'cache.dir' });
}

/** `paidUsd`: what the job's calls that delivered images cost so far (their actual cost, else their estimate). */
type JobCounter = { requests: number; queueMs: number; paidUsd: number };

/** A job's images as sent: with every warning, the slowest call's time, and what the provider reported it cost. */
type Sent = { images: GeneratedImage[]; warnings: ImagegenWarning[]; latencyMs: number; actualCostUsd: number | undefined };

/** One run of a batch in a locked output folder: its journal, its pacing, its running totals. */
class BatchRun {
  readonly #options: RunBatchOptions;
  readonly #outDir: string;
  readonly #timeoutMs: number;
  readonly #lockLost: () => Error | undefined;
  readonly #lockHeld: () => Promise<boolean>;
  readonly #recovery: SidecarRecovery;
  readonly #journal: Journal;
  readonly #emit: (event: BatchEvent) => void;
  readonly #pacing: ProviderPacing;
  readonly #summary: BatchSummary;
  readonly #budget: RunBudget | undefined;
  #fileSystemFault: string | undefined;
  #inFlight = 0;

  private constructor(fields: { options: RunBatchOptions; outDir: string; timeoutMs: number; lockLost: () => Error | undefined; lockHeld: () => Promise<boolean>; journal: Journal }) {
    this.#options = fields.options;
    this.#outDir = fields.outDir;
    this.#timeoutMs = fields.timeoutMs;
    this.#lockLost = fields.lockLost;
    this.#lockHeld = fields.lockHeld;
    this.#recovery = new SidecarRecovery(fields.outDir);
    this.#journal = fields.journal;
    this.#emit = fields.options.onEvent ?? (() => {});
    this.#pacing = new ProviderPacing({ concurrency: this.#concurrency, requestsPerMinute: fields.options.requestsPerMinute });
    this.#budget = fields.options.budget === undefined ? undefined : new RunBudget(fields.options.budget);
    this.#summary = emptySummary();
  }

  /** Resume: temporary files of a killed run are swept, the journal is read (its torn last line dropped). */
  static async open(fields: { options: RunBatchOptions; outDir: string; timeoutMs: number; lockLost: () => Error | undefined; lockHeld: () => Promise<boolean> }): Promise<BatchRun> {
    await removeTemporaryFiles(fields.outDir);
    return new BatchRun({ ...fields, journal: await Journal.open(fields.outDir) });
  }

  get #concurrency(): number {
    return this.#options.concurrency ?? 4;
  }

  /** Jobs stop being started on Ctrl-C, on a failed write (disk full, read-only) and when the lock is lost. */
  #stopped(): boolean {
    return this.#options.signal?.aborted === true || this.#fileSystemFault !== undefined || this.#lockLost() !== undefined;
  }

  /**
   * Schedule: every job not done before runs, enough at once to keep every provider queue full, not
   * so many that plans pile up. A list is checked against the journal first (the start event counts
   * what is already done); a stream is read as jobs are needed, its done jobs skipped as they come.
   */
  async schedule(): Promise<void> {
    const jobs = this.#options.jobs;
    const onStop = () => {
      this.#pacing.clearPauses();
      this.#emit({ type: 'stopping', inFlight: this.#inFlight });
    };
    this.#options.signal?.addEventListener('abort', onStop, { once: true });
    try {
      if (isAsyncIterable(jobs)) {
        this.#summary.total = this.#options.total ?? 0;
        this.#emit({ type: 'start', total: this.#summary.total, skipped: this.#options.alreadyDone ?? 0 });
        await this.#runEach(jobs, { counted: this.#options.total !== undefined });
      } else {
        this.#summary.total = jobs.length;
        const toRun: BatchJob[] = [];
        for (const job of jobs) if (!(await this.#skipIfDone(job))) toRun.push(job);
        this.#emit({ type: 'start', total: jobs.length, skipped: this.#summary.skipped });
        await this.#runEach(toRun, { counted: true });
      }
    } finally {
      this.#options.signal?.removeEventListener('abort', onStop);
    }
  }

  async #runEach(jobs: readonly BatchJob[] | AsyncIterable<BatchJob>, { counted }: { counted: boolean }): Promise<void> {
    const running = new Set<Promise<void>>();
    const limit = Math.max(2, this.#concurrency * 2);
    const streamed = isAsyncIterable(jobs);
    let seen = 0;
    for await (const job of jobs) {
      // Stopped, with the count known: the rest are not started, and need not be read to say so
      // (a million lines take seconds to read).
      if (streamed && counted && (this.#stopped() || this.#budgetStopsEverything())) {
        const doneBefore = Math.max(0, (this.#options.alreadyDone ?? 0) - this.#summary.skipped);
        this.#summary.skipped += doneBefore;
        this.#summary.pending += Math.max(0, this.#summary.total - seen - doneBefore);
        break;
      }
      seen++;
      if (!counted) this.#summary.total++;
      if (streamed && (await this.#skipIfDone(job))) continue;
      const task: Promise<void> = this.#runJob(job).finally(() => running.delete(task));
      running.add(task);
      if (running.size >= limit) await Promise.race(running);
    }
    await Promise.all(running);
  }

  async #skipIfDone(job: BatchJob): Promise<boolean> {
    if (!(await this.#journal.isDone(job.key, this.#outDir, job.legacyKey))) {
      // Not in the manifest at all (emptied or lost): its images and sidecars may still be here.
      if (this.#journal.entries.has(job.key)) return false;
      const recovered = await this.#recovery.recover(job);
      if (recovered === undefined) return false;
      await this.#journal.append({ ...recovered, at: new Date().toISOString() });
    }
    this.#summary.skipped++;
    this.#emit({ type: 'skipped', job, entry: this.#journal.entryOf(job)! });
    return true;
  }

  /** Run a job: plan it (once), serve it from the cache or send its calls, write its images, record it. */
  async #runJob(job: BatchJob): Promise<void> {
    if (this.#stopped()) {
      this.#summary.pending++;
      return;
    }
    const jobStarted = Date.now();
    const counter: JobCounter = { requests: 0, queueMs: 0, paidUsd: 0 };
    try {
      const ready = this.#options.prepared?.(job) ?? (await this.#prepare(job));
      const circuit = this.#pacing.circuitOf(ready.plan);
      if (circuit !== undefined) throw new CircuitOpen(circuit);
      const cache = this.#options.cache || undefined;
      const cacheKey = cache ? ImageCache.keyOf(ready.plan, job.request.seed !== undefined) : undefined;
      const hit = cacheKey === undefined ? undefined : await cache?.get(cacheKey);
      const written = hit
        ? await this.#writeCached(job, ready, hit, jobStarted)
        : await this.#spend(ready, counter, () => this.#send(job, ready, counter)).then((sent) => this.#write(job, ready, sent, jobStarted, cacheKey));
      await this.#record(job, {
        status: 'done',
        files: written.results.map((result) => result.file),
        seed: ready.plan.resolved.seed,
        requests: counter.requests,
        cached: written.cached,
        ...(written.cached ? {} : { latencyMs: written.latencyMs }),
        images: written.results.map(journalImage),
      });
      this.#summary.done++;
      this.#summary.images += written.results.length;
      if (written.cached) this.#summary.cached++;
      else this.#summary.estimatedCostUsd += ready.plan.estimatedCostUsd ?? 0;
      this.#emit({
        type: 'done',
        job,
        images: written.results.length,
        cached: written.cached,
        durationMs: Date.now() - jobStarted,
        latencyMs: written.cached ? undefined : written.latencyMs,
        queueMs: written.cached ? 0 : counter.queueMs,
        requests: counter.requests,
        results: written.results,
      });
    } catch (error) {
      if (!(error instanceof PartlySent)) return this.#fail(job, error, counter);
      // Some calls of the job failed, others delivered: what was delivered is kept (and listed in
      // the failed entry); a re-run redoes the job under the same file names.
      const kept = await this.#write(job, error.prepared, error.sent, jobStarted, undefined).catch((writeError: unknown) => {
        if (isFileSystemFault(writeError)) return undefined;
        throw writeError;
      });
      if (kept !== undefined) this.#summary.images += kept.results.length;
      await this.#fail(job, error.cause, counter, kept?.results.map((result) => result.file) ?? []);
    }
  }

  /** Plan: the job's one planning pass in this run (reference files read once, under the timeout). */
  #prepare(job: BatchJob): Promise<Prepared> {
    const readFile = this.#options.readFile ?? readImageFile;
    return prepareGeneration(job.request, {
      ...(this.#options.providers === undefined ? {} : { providers: this.#options.providers }),
      readFile: (file: string, { maxBytes }: { maxBytes: number }) => readFile(file, { maxBytes, signal: timeoutSignal(this.#timeoutMs, { operation: `reading ${file}` }) }),
      ...(this.#options.randomSeed === undefined ? {} : { randomSeed: this.#options.randomSeed }),
      checkKey: false,
    });
  }

  /**
   * Send: every mapped call, each retried on its own; then the calls' outcomes as one result, by
   * `generateImages`' own collect stage (every call succeeded by then: a failure ends the job).
   */
  async #send(job: BatchJob, prepared: Prepared, counter: JobCounter): Promise<Sent> {
    return traceRequest({ request: job.request, options: { ...telemetryOptionsOf(this.#options), maxRetries: this.#options.maxRetries ?? 5 } }, async (trace) => {
      const started = Date.now();
      const { estimatedCostUsd, resolved } = prepared.plan;
      // Every call runs to its end: one failing must not drop the images its siblings were paid for,
      // and the budget is charged for the calls that delivered.
      const settled = await Promise.allSettled(
        prepared.calls.map(async (mapped) => {
          const outcome = await this.#sendWithRetries(job, prepared, mapped, counter, trace);
          counter.paidUsd += costOfDelivery({ actualCostUsd: outcome.report.actualCostUsd, estimatedCostUsd, delivered: outcome.images.length, requested: resolved.count }) ?? 0;
          return outcome;
        }),
      );
      const outcomes = settled.flatMap((each) => (each.status === 'fulfilled' ? [each.value] : []));
      const failure = settled.find((each): each is PromiseRejectedResult => each.status === 'rejected');
      if (failure !== undefined && outcomes.length === 0) throw failure.reason;
      const result = collectResult(prepared, outcomes, started);
      const sent = { images: result.images, warnings: result.warnings, latencyMs: Math.max(...result.calls.map((call) => call.durationMs)), actualCostUsd: result.actualCostUsd };
      if (failure !== undefined) throw new PartlySent(failure.reason, sent, prepared);
      return sent;
    });
  }

  /**
   * Spend: the job's estimate held against the budget while it is sent (throws `LeftUnsent` when
   * it would pass it), then what it cost counted: the provider's actual cost, else the estimate.
   */
  async #spend(prepared: Prepared, counter: JobCounter, send: () => Promise<Sent>): Promise<Sent> {
    const reservation = this.#budget?.reserve(prepared.plan);
    let sent: Sent;
    try {
      sent = await send();
    } catch (error) {
      // Calls that delivered before another failed were billed; a job that delivered nothing was not.
      reservation?.settle(counter.paidUsd);
      this.#summary.spentUsd += counter.paidUsd;
      throw error;
    }
    const { estimatedCostUsd, resolved } = prepared.plan;
    const cost = costOfDelivery({ actualCostUsd: sent.actualCostUsd, estimatedCostUsd, delivered: sent.images.length, requested: resolved.count });
    reservation?.settle(cost);
    this.#summary.spentUsd += cost ?? 0;
    if (sent.actualCostUsd !== undefined) this.#summary.actualCostUsd = (this.#summary.actualCostUsd ?? 0) + sent.actualCostUsd;
    return sent;
  }

  /** Over budget with no cache to serve from: no job left can be run, so none need be read. */
  #budgetStopsEverything(): boolean {
    return this.#budget?.exceeded === true && !this.#options.cache;
  }

  /** Write: the images and sidecars, each file atomically; then the cache, which may fail harmlessly. */
  async #write(
    job: BatchJob,
    prepared: Prepared,
    sent: Sent,
    jobStarted: number,
    cacheKey: string | undefined,
  ): Promise<{ results: ImageResult[]; cached: boolean; latencyMs: number }> {
    const saved = await saveImages({
      images: sent.images,
      outDir: this.#outDir,
      warnings: sent.warnings,
      durationMs: Date.now() - jobStarted,
      latencyMs: sent.latencyMs,
      estimatedCostUsd: prepared.plan.estimatedCostUsd,
      actualCostUsd: sent.actualCostUsd,
      name: (image) => fileBaseName(prepared.plan, job, image.index),
    });
    // The images are kept already: a cache that cannot take them only costs a later request.
    if (cacheKey !== undefined && this.#options.cache) await this.#options.cache.put(cacheKey, sent.images).catch(() => undefined);
    return { results: saved.map((item) => item.result), cached: false, latencyMs: sent.latencyMs };
  }

  /** Write a cache hit: the same files and the same sidecar as a generated image, marked cached. */
  async #writeCached(job: BatchJob, prepared: Prepared, hit: CachedImage[], jobStarted: number): Promise<{ results: ImageResult[]; cached: true; latencyMs: undefined }> {
    const images = hit.map(imageOfCached);
    const saved = await saveImages({
      images,
      outDir: this.#outDir,
      warnings: prepared.warnings,
      durationMs: Date.now() - jobStarted,
      cached: true,
      name: (image) => fileBaseName(prepared.plan, job, image.index),
    });
    return { results: saved.map((item) => item.result), cached: true, latencyMs: undefined };
  }

  async #fail(job: BatchJob, error: unknown, counter: JobCounter, keptFiles: string[] = []): Promise<void> {
    // Stopped while waiting (for a turn, or a backoff after a failed attempt): not done, and the
    // next run redoes it, like a job that never started.
    if (error instanceof StopRequested || error instanceof LeftUnsent || (this.#stopped() && isAbort(error))) {
      this.#summary.pending++;
      return;
    }
    const writeFailed = isFileSystemFault(error);
    if (writeFailed && this.#fileSystemFault === undefined) {
      this.#fileSystemFault = describeFileSystemFault(error);
      this.#emit({ type: 'file-system-fault', error: this.#fileSystemFault });
    }
    const message = error instanceof Error ? error.message : String(error);
    // The journal lives on the same disk: when writing failed, recording may fail too, and the
    // job simply stays not done for the next run.
    await this.#record(job, { status: 'failed', files: keptFiles, seed: undefined, requests: counter.requests, cached: false, error: message }).catch((recordError: unknown) => {
      if (!isFileSystemFault(recordError)) throw recordError;
    });
    this.#summary.failed++;
    this.#summary.failures.push({ line: job.line, key: job.key, error: message });
    this.#emit({ type: 'failed', job, error: message, requests: counter.requests });
    if (!ImagegenError.isInstance(error) && !writeFailed && !(error instanceof CircuitOpen)) throw error;
  }

  #record(job: BatchJob, fields: Omit<JournalEntry, 'key' | 'line' | 'at'>): Promise<void> {
    return this.#journal.append({ key: job.key, line: job.line, ...fields, keyFormat: KEY_FORMAT, at: new Date().toISOString() });
  }

  /**
   * One call, retried; every attempt waits its turn in the provider's queue. On a stop, a call that
   * is waiting (for its turn in a paced queue, or in a backoff) ends at once; one the provider is
   * answering is let finish, so what it returns is written.
   */
  async #sendWithRetries(job: BatchJob, prepared: Prepared, mapped: MappedCall, counter: JobCounter, trace: RequestTrace): Promise<CallOutcome> {
    const waiting = new AbortController();
    let calling = false;
    const onStop = () => {
      if (!calling) waiting.abort(new StopRequested());
    };
    this.#options.signal?.addEventListener('abort', onStop, { once: true });
    try {
      return await this.#attempts({ job, prepared, mapped, counter, trace, waitSignal: waiting.signal, setCalling: (value) => (calling = value) });
    } finally {
      this.#options.signal?.removeEventListener('abort', onStop);
    }
  }

  #attempts({
    job,
    prepared,
    mapped,
    counter,
    trace,
    waitSignal,
    setCalling,
  }: {
    job: BatchJob;
    prepared: Prepared;
    mapped: MappedCall;
    counter: JobCounter;
    /** The job's trace: each attempt is one provider call span, as the AI SDK records each retry of generateText's. */
    trace: RequestTrace;
    waitSignal: AbortSignal;
    setCalling: (calling: boolean) => void;
  }): Promise<CallOutcome> {
    const { plan } = prepared;
    const backoff = this.#options.backoff ?? { minMs: 1000, maxMs: 30_000 };
    return pRetry(
      async () => {
        setCalling(false);
        if (this.#stopped()) throw new StopRequested();
        const queued = Date.now();
        const outcome = await this.#pacing.queueFor(plan.provider).add(
          async () => {
            if (this.#stopped() || !(await this.#lockHeld())) throw new StopRequested();
            // From here until this attempt ends the call is the provider's: a stop lets it finish.
            setCalling(true);
            counter.queueMs += Date.now() - queued;
            const circuit = this.#pacing.circuitOf(plan);
            if (circuit !== undefined) throw new CircuitOpen(circuit);
            this.#inFlight++;
            const abortSignal = timeoutSignal(this.#timeoutMs, { operation: 'the request', provider: plan.provider, modelId: plan.modelId });
            const result = await trace.call(prepared, mapped.call, () => sendCall(prepared, mapped, { maxRetries: 0, abortSignal })).finally(() => this.#inFlight--);
            this.#paceAfter(job, plan, result);
            return result;
          },
          { signal: waitSignal },
        );
        this.#summary.requests += outcome.report.attempts;
        counter.requests += outcome.report.attempts;
        const error = outcome.report.error;
        if (error) throw error;
        if (outcome.thrown !== undefined) throw outcome.thrown;
        return outcome;
      },
      {
        retries: this.#options.maxRetries ?? 5,
        factor: 2,
        minTimeout: backoff.minMs,
        maxTimeout: backoff.maxMs,
        randomize: true,
        // Ends a backoff at once on a stop (the signal is only aborted while no call is running).
        signal: waitSignal,
        shouldRetry: ({ error }) => !this.#stopped() && this.#pacing.circuitOf(plan) === undefined && isRetryable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          setCalling(false);
          if (retriesLeft === 0 || this.#stopped() || !isRetryable(error)) return;
          this.#summary.retries++;
          this.#emit({ type: 'retry', job, attempt: attemptNumber, error: error.message });
          // Wait out what the provider asked for; p-retry's own jittered backoff follows.
          if (RateLimitError.isInstance(error) && error.retryAfterSeconds !== undefined) {
            await delay(Math.max(0, error.retryAfterSeconds * 1000 - backoff.minMs), waitSignal);
          }
        },
      },
    );
  }

  /**
   * Decided before the queued task resolves: p-queue starts the next task as soon as it does, so a
   * pause set after `add()` returns lets one more request through into a spent window. With a
   * configured rate the pacing keeps to it; the headers' whole-second reset would only over-wait.
   * Without one, they are the best word on when the provider takes more. Likewise the circuit:
   * opened before the next queued request of that model can start.
   */
  #paceAfter(job: BatchJob, plan: Plan, result: CallOutcome): void {
    const windowSpent = this.#options.requestsPerMinute === undefined ? exhaustedWindowMs(result.report.responseHeaders) : undefined;
    if (windowSpent !== undefined) this.#pacing.pause(plan.provider, windowSpent);
    const rateLimited = result.report.error;
    if (RateLimitError.isInstance(rateLimited) && rateLimited.retryAfterSeconds !== undefined && rateLimited.retryAfterSeconds <= MAX_PAUSE_SECONDS) {
      this.#pacing.pause(plan.provider, rateLimited.retryAfterSeconds * 1000);
    }
    if (!result.report.error) return;
    const opened = this.#pacing.tripCircuit(plan, result.report.error, job.line);
    if (opened === undefined) return;
    this.#summary.openCircuits.push(opened);
    this.#emit({ type: 'circuit-open', ...opened });
  }

  /** Summarize: the totals, rounded, and why the run stopped early, if it did. */
  summarize(started: number): BatchSummary {
    const summary = this.#summary;
    const lockLost = this.#lockLost();
    summary.stopped = this.#stopped();
    summary.fileSystemError = this.#fileSystemFault ?? (lockLost === undefined ? undefined : `the lock on ${this.#outDir} was lost (${lockLost.message})`);
    summary.durationMs = Date.now() - started;
    summary.imagesPerMinute = summary.durationMs > 0 ? Math.round((summary.images / summary.durationMs) * 60_000 * 10) / 10 : 0;
    summary.estimatedCostUsd = Math.round(summary.estimatedCostUsd * 1e6) / 1e6;
    summary.actualCostUsd = summary.actualCostUsd === null ? null : roundUsd(summary.actualCostUsd);
    summary.spentUsd = roundUsd(summary.spentUsd);
    summary.budget = this.#budget?.summarize(summary.pending) ?? null;
    return summary;
  }
}

/** A job's planned request: what `prepareGeneration` gives. */
type Prepared = PreparedGeneration;

/** `<prompt slug>-<key>-<index>`: the same names on every run, so a resumed job overwrites its own files. */
export function fileBaseName(plan: Plan, job: BatchJob, index: number): string {
  return `${slugify(plan.prompt, 40)}-${job.key.slice(0, 10)}-${index}`;
}

function isAsyncIterable<T>(value: readonly T[] | AsyncIterable<T>): value is AsyncIterable<T> {
  return Symbol.asyncIterator in value;
}

/**
 * 429, timeouts and unusable bodies (truncated, bad JSON or base64) are worth another try; so are
 * other provider failures the provider calls retryable (`isRetryable`, its package's word), or by
 * status where it did not say: network failures, 408/409, 5xx. An empty or filtered result
 * (`NoImageError`) is never retried: the same request gets the same answer.
 */
export function isRetryable(error: unknown): boolean {
  if (NoImageError.isInstance(error)) return false;
  if (RateLimitError.isInstance(error) || InvalidResponseError.isInstance(error) || TimeoutError.isInstance(error)) return true;
  if (!ProviderError.isInstance(error) || error.kind !== 'provider') return false;
  if (error.isRetryable !== undefined) return error.isRetryable;
  const status = error.statusCode;
  // A refused connection would be refused again: nothing listens at that address.
  if (status === undefined) return !isConnectionRefused(error);
  return status === 408 || status === 409 || status >= 500;
}

/** Some calls of a job failed after others delivered: `sent` holds what was delivered, `cause` the first failure. */
class PartlySent extends Error {
  override name = 'PartlySent';
  readonly sent: Sent;
  readonly prepared: Prepared;

  constructor(cause: unknown, sent: Sent, prepared: Prepared) {
    super(cause instanceof Error ? cause.message : String(cause), { cause });
    this.sent = sent;
    this.prepared = prepared;
  }
}

class StopRequested extends Error {
  override name = 'StopRequested';
}

/** A job not sent because an earlier one of its provider or model met an error that repeats. */
class CircuitOpen extends Error {
  override name = 'CircuitOpen';
}

/** `setTimeout`'s limit (2^31 - 1 ms); longer timeouts overflow and fire at once. */
const MAX_TIMEOUT_MS = 2_147_483_647;


function isAbort(error: unknown): boolean {
  return error instanceof Error && (error.name === 'AbortError' || error instanceof StopRequested);
}

function delay(milliseconds: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, milliseconds);
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

/** A run's summary before any job: what a local run and a queued run's follower both start from. */
export function emptySummary(): BatchSummary {
  return {
    total: 0,
    done: 0,
    skipped: 0,
    cached: 0,
    failed: 0,
    pending: 0,
    requests: 0,
    retries: 0,
    images: 0,
    durationMs: 0,
    imagesPerMinute: 0,
    estimatedCostUsd: 0,
    actualCostUsd: null,
    spentUsd: 0,
    budget: null,
    failures: [],
    stopped: false,
    openCircuits: [],
  };
}
