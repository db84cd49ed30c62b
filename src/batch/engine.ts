import path from 'node:path';
import pLimit from 'p-limit';
import PQueue from 'p-queue';
import pRetry from 'p-retry';
import {
  ImagegenError,
  InvalidRequestError,
  InvalidResponseError,
  ProviderError,
  RateLimitError,
} from '../errors.js';
import { prepareGeneration, runCall, type GenerateImagesOptions } from '../generate.js';
import { GeneratedImage } from '../image.js';
import { readImageFile, removeTemporaryFiles, saveImages, slugify, writeFileAtomically, type ImageResult } from '../files/files.js';
import { bytesForRequests, checkWritableFolder, describeFileSystemFault, isFileSystemFault } from '../files/folder-checks.js';
import type { Plan, PlannedCall } from '../plan.js';
import type { ModelSource, ProvidersOption } from '../resolve-model.js';
import { ImageCache } from './cache.js';
import { columnOf, describeIssue, type BatchJob, type LineError } from './input.js';
import { Journal, type JournalEntry } from './journal.js';
import { lockOutputFolder } from './output-lock.js';

/** What happens during a run, for progress displays. */
export type BatchEvent =
  | { type: 'start'; total: number; skipped: number }
  | { type: 'skipped'; job: BatchJob }
  /**
   * `latencyMs`: the provider call (the longest, when a request took several); `undefined` when
   * cached. `queueMs`: time spent waiting for a turn (concurrency, rate limit, backoff).
   */
  | { type: 'done'; job: BatchJob; images: number; cached: boolean; durationMs: number; latencyMs: number | undefined; queueMs: number; results: ImageResult[] }
  | { type: 'failed'; job: BatchJob; error: string }
  | { type: 'retry'; job: BatchJob; attempt: number; error: string }
  /** An error that would repeat for every job of a provider or model: its remaining jobs are not sent. */
  | { type: 'circuit-open'; scope: string; reason: string }
  /** Writing failed (disk full, read-only, no permission): no new request starts. */
  | { type: 'file-system-fault'; error: string }
  /** The run was asked to stop: waits for a turn end now; `inFlight` provider calls are let finish. */
  | { type: 'stopping'; inFlight: number };

export type RunBatchOptions = {
  jobs: readonly BatchJob[];
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
  /** The seeded-request cache, or `false` to bypass it. @default false */
  cache?: ImageCache | false | undefined;
  /** When aborted, no new request starts; those in flight finish and are written. */
  signal?: AbortSignal | undefined;
  onEvent?: ((event: BatchEvent) => void) | undefined;
  randomSeed?: GenerateImagesOptions['randomSeed'];
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
  failures: { line: number; key: string; error: string }[];
  stopped: boolean;
  /** Set when a write failed and the run stopped early for it: what failed, in a sentence. */
  fileSystemError?: string | undefined;
  /** Providers or models whose remaining jobs were not sent, with the error that stopped them. */
  openCircuits: { scope: string; reason: string }[];
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
      for (const issue of error.issues) errors.push({ line: job.line, column: columnOf(job.columns, issue), message: describeIssue(issue) });
    }
  }
  return errors;
}

/** Checks the key of every built-in provider the jobs use, once each; throws `MissingApiKeyError`. */
export async function checkProviderKeys(jobs: readonly BatchJob[], providers?: ProvidersOption): Promise<void> {
  const seen = new Set<string>();
  for (const job of jobs) {
    const model = job.request.model ?? '';
    const name = model.split(':')[0] ?? '';
    if (seen.has(name)) continue;
    seen.add(name);
    await prepareGeneration(job.request, { ...(providers === undefined ? {} : { providers }), readFile: readImageFile });
  }
}

/**
 * Runs a batch durably: each finished request's images and sidecars are written atomically, then
 * recorded in `manifest.jsonl`. Running it again resumes: done requests are skipped, failed and
 * unfinished ones are redone, under the same file names, so nothing is duplicated.
 */
export async function runBatch(options: RunBatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  const timeoutMs = options.timeoutMs ?? 120_000;
  if (!Number.isInteger(timeoutMs) || timeoutMs < 1 || timeoutMs > MAX_TIMEOUT_MS) {
    throw new InvalidRequestError({ issues: [{ field: 'timeoutMs', value: timeoutMs, message: `must be a whole number of milliseconds from 1 to ${MAX_TIMEOUT_MS} (24 days)` }] });
  }
  // Checked before anything is sent: a folder that cannot take one image would only collect bills.
  const bytesNeeded = await bytesForRequests(options.jobs.map((job) => job.request), options.providers);
  await checkWritableFolder({ folder: outDir, bytesNeeded, field: 'outDir' });
  if (options.cache) await checkWritableFolder({ folder: options.cache.dir, bytesNeeded, field: 'cache.dir' });
  let lockLost: Error | undefined;
  const releaseLock = await lockOutputFolder({ folder: outDir, onCompromised: (error) => (lockLost = error) });
  try {
    return await runLocked({ options, outDir, started, timeoutMs, lockLost: () => lockLost });
  } finally {
    await releaseLock().catch(() => undefined);
  }
}

async function runLocked({
  options,
  outDir,
  started,
  timeoutMs,
  lockLost,
}: {
  options: RunBatchOptions;
  outDir: string;
  started: number;
  timeoutMs: number;
  lockLost: () => Error | undefined;
}): Promise<BatchSummary> {
  await removeTemporaryFiles(outDir);
  const journal = await Journal.open(outDir);
  const emit = options.onEvent ?? (() => {});
  const maxRetries = options.maxRetries ?? 5;
  const backoff = options.backoff ?? { minMs: 1000, maxMs: 30_000 };
  const concurrency = options.concurrency ?? 4;
  const queues = new Map<string, PQueue>();
  const summary: BatchSummary = {
    total: options.jobs.length,
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
    failures: [],
    stopped: false,
    openCircuits: [],
  };

  const toRun: BatchJob[] = [];
  for (const job of options.jobs) {
    if (await journal.isDone(job.key, outDir)) {
      summary.skipped++;
      emit({ type: 'skipped', job });
    } else {
      toRun.push(job);
    }
  }
  emit({ type: 'start', total: options.jobs.length, skipped: summary.skipped });

  let fileSystemFault: string | undefined;
  const openCircuits = new Map<string, string>();
  /** Jobs stop being started on Ctrl-C, on a failed write (disk full, read-only) and when the lock is lost. */
  const stopped = () => options.signal?.aborted === true || fileSystemFault !== undefined || lockLost() !== undefined;
  const circuitOf = (plan: Plan) => openCircuits.get(plan.provider) ?? openCircuits.get(`${plan.provider}:${plan.modelId}`);
  /**
   * 401 and 402 are about the account (every model of the provider), 403 and 404 about the model:
   * once seen, the rest of those jobs would only get the same answer, so they are not sent.
   */
  const tripCircuit = (plan: Plan, error: unknown, line: number) => {
    if (!ProviderError.isInstance(error) || error.statusCode === undefined) return;
    const status = error.statusCode;
    const scope = status === 401 || status === 402 ? plan.provider : status === 403 || status === 404 ? `${plan.provider}:${plan.modelId}` : undefined;
    if (scope === undefined || openCircuits.has(scope)) return;
    const reason = `not sent: ${scope} answered HTTP ${status} on line ${line} (${error.message.replace(/\.$/, '')}), which would repeat for every request; fix it and re-run to retry`;
    openCircuits.set(scope, reason);
    summary.openCircuits.push({ scope, reason: error.message });
    emit({ type: 'circuit-open', scope, reason: error.message });
  };
  const resumeAt = new Map<string, number>();
  const resumeTimers = new Map<string, ReturnType<typeof setTimeout>>();
  /**
   * Holds every request to a provider until `milliseconds` from now: when it says its window is
   * spent (a 429's `retry-after`, or `x-ratelimit-remaining: 0` with `x-ratelimit-reset`), the
   * requests queued behind would only collect 429s. One timer per provider, replaced when the pause
   * grows; it keeps the process alive, since the run is waiting on it.
   */
  const pauseProvider = (provider: string, milliseconds: number) => {
    const until = Date.now() + milliseconds;
    if ((resumeAt.get(provider) ?? 0) >= until) return;
    resumeAt.set(provider, until);
    const queue = queueFor(provider);
    queue.pause();
    clearTimeout(resumeTimers.get(provider));
    resumeTimers.set(
      provider,
      setTimeout(() => {
        resumeTimers.delete(provider);
        queue.start();
      }, milliseconds),
    );
  };
  const queueFor = (provider: string) => {
    let queue = queues.get(provider);
    if (!queue) {
      const rate = options.requestsPerMinute;
      queue = new PQueue({
        concurrency,
        ...(rate === undefined ? {} : { interval: Math.ceil(60_000 / rate), intervalCap: 1 }),
      });
      queues.set(provider, queue);
    }
    return queue;
  };

  let inFlight = 0;
  /**
   * One call, retried; every attempt waits its turn in the provider's queue. On a stop, a call that
   * is waiting (for its turn in a paced queue, or in a backoff) ends at once; one the provider is
   * answering is let finish, so what it returns is written.
   */
  const runWithRetries = async (job: BatchJob, plan: Plan, source: ModelSource, call: PlannedCall, counter: { requests: number; queueMs: number }) => {
    const waiting = new AbortController();
    let calling = false;
    const onStop = () => {
      if (!calling) waiting.abort(new StopRequested());
    };
    options.signal?.addEventListener('abort', onStop, { once: true });
    try {
      return await attempts(job, plan, source, call, counter, waiting.signal, (value) => (calling = value));
    } finally {
      options.signal?.removeEventListener('abort', onStop);
    }
  };
  const attempts = (
    job: BatchJob,
    plan: Plan,
    source: ModelSource,
    call: PlannedCall,
    counter: { requests: number; queueMs: number },
    waitSignal: AbortSignal,
    setCalling: (calling: boolean) => void,
  ) =>
    pRetry(
      async () => {
        setCalling(false);
        if (stopped()) throw new StopRequested();
        const queued = Date.now();
        const outcome = await queueFor(plan.provider).add(async () => {
          if (stopped()) throw new StopRequested();
          // From here until this attempt ends the call is the provider's: a stop lets it finish.
          setCalling(true);
          counter.queueMs += Date.now() - queued;
          const circuit = circuitOf(plan);
          if (circuit !== undefined) throw new CircuitOpen(circuit);
          inFlight++;
          const result = await runCall({ plan, source, call, maxRetries: 0, abortSignal: AbortSignal.timeout(timeoutMs) }).finally(() => inFlight--);
          // Decided before this task resolves: p-queue starts the next task as soon as it does, so
          // a pause set after `add()` returns lets one more request through into a spent window.
          // With a configured rate the pacing keeps to it; the headers' whole-second reset would only
          // over-wait. Without one, they are the best word on when the provider takes more.
          const windowSpent = options.requestsPerMinute === undefined ? exhaustedWindowMs(result.report.responseHeaders) : undefined;
          if (windowSpent !== undefined) pauseProvider(plan.provider, windowSpent);
          const rateLimited = result.report.error;
          if (RateLimitError.isInstance(rateLimited) && rateLimited.retryAfterSeconds !== undefined && rateLimited.retryAfterSeconds <= MAX_PAUSE_SECONDS) {
            pauseProvider(plan.provider, rateLimited.retryAfterSeconds * 1000);
          }
          // Likewise the circuit: opened before the next queued request of that model can start.
          if (result.report.error) tripCircuit(plan, result.report.error, job.line);
          return result;
        }, { signal: waitSignal });
        summary.requests += outcome.report.attempts;
        counter.requests += outcome.report.attempts;
        const error = outcome.report.error;
        if (error) throw error;
        if (outcome.thrown !== undefined) {
          const thrown = outcome.thrown as Error;
          if (thrown.name === 'TimeoutError') {
            throw new ProviderError({
              provider: plan.provider,
              modelId: plan.modelId,
              message: `${plan.provider} did not answer for ${plan.modelId} within ${timeoutMs / 1000}s`,
            });
          }
          throw thrown;
        }
        return outcome;
      },
      {
        retries: maxRetries,
        factor: 2,
        minTimeout: backoff.minMs,
        maxTimeout: backoff.maxMs,
        randomize: true,
        // Ends a backoff at once on a stop (the signal is only aborted while no call is running).
        signal: waitSignal,
        shouldRetry: ({ error }) => !stopped() && circuitOf(plan) === undefined && isRetryable(error),
        onFailedAttempt: async ({ error, attemptNumber, retriesLeft }) => {
          setCalling(false);
          if (retriesLeft === 0 || stopped() || !isRetryable(error)) return;
          summary.retries++;
          emit({ type: 'retry', job, attempt: attemptNumber, error: error.message });
          // Wait out what the provider asked for; p-retry's own jittered backoff follows.
          if (RateLimitError.isInstance(error) && error.retryAfterSeconds !== undefined) {
            await delay(Math.max(0, error.retryAfterSeconds * 1000 - backoff.minMs), waitSignal);
          }
        },
      },
    );

  const processJob = async (job: BatchJob): Promise<void> => {
    if (stopped()) {
      summary.pending++;
      return;
    }
    const jobStarted = Date.now();
    const counter = { requests: 0, queueMs: 0 };
    try {
      const { plan, source } = await prepareGeneration(job.request, {
        ...(options.providers === undefined ? {} : { providers: options.providers }),
        readFile: (file: string, { maxBytes }: { maxBytes: number }) => readImageFile(file, { maxBytes, signal: AbortSignal.timeout(timeoutMs) }),
        ...(options.randomSeed === undefined ? {} : { randomSeed: options.randomSeed }),
        checkKey: false,
      });
      const circuit = circuitOf(plan);
      if (circuit !== undefined) throw new CircuitOpen(circuit);
      const baseName = `${slugify(plan.prompt, 40)}-${job.key.slice(0, 10)}`;
      const nameOf = (index: number) => `${baseName}-${index}`;
      const cacheKey = options.cache ? ImageCache.keyOf(plan, job.request.seed !== undefined) : undefined;
      const hit = cacheKey === undefined || !options.cache ? undefined : await options.cache.get(cacheKey);
      if (hit) {
        const files: string[] = [];
        const results: ImageResult[] = [];
        for (const [index, image] of hit.entries()) {
          const file = `${nameOf(index)}.${image.extension}`;
          const { seed, ...metadata } = image.metadata;
          const result: ImageResult = {
            file,
            model: plan.resolved.model,
            provider: metadata.provider,
            modelId: metadata.modelId,
            seed: seed ?? null,
            width: metadata.width,
            height: metadata.height,
            mediaType: metadata.mediaType,
            index: metadata.index,
            latencyMs: null,
            cached: true,
            estimatedCostUsd: 0,
            warnings: [...plan.warnings],
          };
          await writeFileAtomically(path.join(outDir, file), image.bytes);
          await writeFileAtomically(
            path.join(outDir, `${nameOf(index)}.json`),
            `${JSON.stringify({ ...metadata, ...result, line: job.line, key: job.key, generator: 'ai-imagegen' }, null, 2)}\n`,
          );
          files.push(file);
          results.push(result);
        }
        await record(job, { status: 'done', files, seed: plan.resolved.seed, requests: 0, cached: true });
        summary.done++;
        summary.cached++;
        summary.images += files.length;
        emit({ type: 'done', job, images: files.length, cached: true, durationMs: Date.now() - jobStarted, latencyMs: undefined, queueMs: 0, results });
        return;
      }

      const outcomes = await Promise.all(plan.calls.map((call) => runWithRetries(job, plan, source, call, counter)));
      const images: GeneratedImage[] = outcomes.flatMap((outcome) => outcome.images);
      const latencyMs = Math.max(...outcomes.map((outcome) => outcome.report.durationMs));
      const warnings = [...plan.warnings, ...outcomes.flatMap((outcome) => outcome.warnings)];
      const saved = await saveImages({
        images,
        outDir,
        warnings,
        durationMs: Date.now() - jobStarted,
        latencyMs,
        estimatedCostUsd: plan.estimatedCostUsd,
        name: (image) => nameOf(image.index),
      });
      // The images are kept already: a cache that cannot take them only costs a later request.
      if (cacheKey !== undefined && options.cache) await options.cache.put(cacheKey, images).catch(() => undefined);
      await record(job, {
        status: 'done',
        files: saved.map((item) => path.basename(item.path)),
        seed: plan.resolved.seed,
        requests: counter.requests,
        cached: false,
        latencyMs,
      });
      summary.done++;
      summary.images += images.length;
      summary.estimatedCostUsd += plan.estimatedCostUsd ?? 0;
      emit({ type: 'done', job, images: images.length, cached: false, durationMs: Date.now() - jobStarted, latencyMs, queueMs: counter.queueMs, results: saved.map((item) => item.result) });
    } catch (error) {
      // Stopped while waiting (for a turn, or a backoff after a failed attempt): not done, and the
      // next run redoes it, like a job that never started.
      if (error instanceof StopRequested || (stopped() && isAbort(error))) {
        summary.pending++;
        return;
      }
      const writeFailed = isFileSystemFault(error);
      if (writeFailed && fileSystemFault === undefined) {
        fileSystemFault = describeFileSystemFault(error);
        emit({ type: 'file-system-fault', error: fileSystemFault });
      }
      const message = error instanceof Error ? error.message : String(error);
      // The journal lives on the same disk: when writing failed, recording may fail too, and the
      // job simply stays not done for the next run.
      await record(job, { status: 'failed', files: [], seed: undefined, requests: counter.requests, cached: false, error: message }).catch((recordError: unknown) => {
        if (!isFileSystemFault(recordError)) throw recordError;
      });
      summary.failed++;
      summary.failures.push({ line: job.line, key: job.key, error: message });
      emit({ type: 'failed', job, error: message });
      if (!ImagegenError.isInstance(error) && !writeFailed && !(error instanceof CircuitOpen)) throw error;
    }
  };

  const record = (job: BatchJob, fields: Omit<JournalEntry, 'key' | 'line' | 'at'>) =>
    journal.append({ key: job.key, line: job.line, ...fields, at: new Date().toISOString() });

  const onStop = () => {
    // A provider pause only holds back requests that will not be sent now.
    for (const timer of resumeTimers.values()) clearTimeout(timer);
    resumeTimers.clear();
    emit({ type: 'stopping', inFlight });
  };
  options.signal?.addEventListener('abort', onStop, { once: true });
  // Enough jobs in progress to keep every provider queue full, not so many that plans pile up.
  const limit = pLimit(Math.max(2, concurrency * 2));
  try {
    await Promise.all(toRun.map((job) => limit(() => processJob(job))));
  } finally {
    options.signal?.removeEventListener('abort', onStop);
  }

  summary.stopped = stopped();
  summary.fileSystemError = fileSystemFault ?? (lockLost() === undefined ? undefined : `the lock on ${outDir} was lost (${lockLost()!.message})`);
  summary.durationMs = Date.now() - started;
  summary.imagesPerMinute = summary.durationMs > 0 ? Math.round((summary.images / summary.durationMs) * 60_000 * 10) / 10 : 0;
  summary.estimatedCostUsd = Math.round(summary.estimatedCostUsd * 1e6) / 1e6;
  return summary;
}

/** Longest wait a provider's rate-limit headers can impose on a queue (longer ones are not trusted). */
const MAX_PAUSE_SECONDS = 120;

/** Milliseconds until the provider's window resets, when its headers say none is left; else `undefined`. */
export function exhaustedWindowMs(headers: Record<string, string> | undefined): number | undefined {
  const remaining = Number(headers?.['x-ratelimit-remaining']);
  const reset = Number(headers?.['x-ratelimit-reset']);
  if (remaining !== 0 || !Number.isFinite(reset) || reset <= 0 || reset > MAX_PAUSE_SECONDS) return undefined;
  return reset * 1000;
}

/** 429, 5xx, 408/409, network failures, timeouts and unusable bodies are worth another try. */
export function isRetryable(error: unknown): boolean {
  if (RateLimitError.isInstance(error) || InvalidResponseError.isInstance(error)) return true;
  if (!ProviderError.isInstance(error) || error.kind !== 'provider') return false;
  const status = error.statusCode;
  return status === undefined || status === 408 || status === 409 || status >= 500;
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
