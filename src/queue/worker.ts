// Node-only: `imagegen worker`: takes a queued run's jobs, sends them, writes images into its folder.
import { hostname } from 'node:os';
import type { Job, Worker as BullWorker } from 'bullmq';
import type { Redis } from 'ioredis';
import { ImageCache } from '../batch/cache.js';
import { fileBaseName, isRetryable } from '../batch/engine.js';
import type { BatchJob } from '../batch/input.js';
import { journalImage, type JournalImage } from '../batch/journal.js';
import { circuitOpenedBy, exhaustedWindowMs, MAX_PAUSE_SECONDS } from '../batch/pacing.js';
import { RateLimitError } from '../errors/errors.js';
import { readImageFile, saveImages, type ImageResult } from '../files/files.js';
import { prepareGeneration } from '../generate.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import { collectResult } from '../pipeline/collect.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import { sendCall } from '../pipeline/send.js';
import { imageOfCached, type SeededImageCache } from '../sharing/image-cache.js';
import { timeoutSignal } from '../util/timeout.js';
import { connected, connectionOptions, loadBullMQ, parseRedisUrl, type RedisTarget } from './connection.js';
import { circuitFor, openCircuit, openCircuits, readRun, RUNS_KEY } from './run-state.js';
import type { RunSettings } from './settings.js';
import { openSharedCache } from './shared-cache.js';

/** A job on a run's queue: one line of the batch file. */
export type QueuedJob = {
  line: number;
  key: string;
  request: GenerateRequest;
  /** Provider calls sent for it by earlier attempts (kept across retries and workers). */
  requests?: number;
  /** Times it was put back for a 429: those do not count as BullMQ attempts, so they are bounded here. */
  rateLimited?: number;
};

/** What a worker hands back for a done job: its journal entry's fields, and its images for `--json`. */
export type QueuedResult = {
  files: string[];
  seed: number | undefined;
  requests: number;
  cached: boolean;
  latencyMs?: number;
  images: JournalImage[];
  results: ImageResult[];
  estimatedCostUsd: number;
  durationMs: number;
  queueMs: number;
};

export type WorkerEvent =
  | { type: 'run'; queue: string; outDir: string; requestsPerMinute: number | undefined }
  | { type: 'done'; queue: string; line: number; images: number; cached: boolean; requests: number }
  | { type: 'failed'; queue: string; line: number; error: string; willRetry: boolean }
  | { type: 'rate-limited'; queue: string; milliseconds: number }
  | { type: 'circuit-open'; queue: string; scope: string; reason: string }
  | { type: 'stopping'; inFlight: number }
  | { type: 'redis'; state: 'lost' | 'back'; error?: string };

export type RunWorkerOptions = {
  /** `redis://HOST:PORT[/DB]`: the Redis the batch command put its run on. */
  queue: string;
  /** Jobs in flight at once in this worker. @default 4 */
  concurrency?: number | undefined;
  /** End once no run has a job waiting, delayed or in flight (for scripts). @default false */
  exitWhenIdle?: boolean | undefined;
  /** When aborted, no new job is taken; those in flight finish (their images written), then it ends. */
  signal?: AbortSignal | undefined;
  providers?: ProvidersOption | undefined;
  onEvent?: ((event: WorkerEvent) => void) | undefined;
  /** How often to look for new runs, and for idleness. @default 1000 */
  pollMs?: number | undefined;
  /**
   * How long a job stays this worker's without it renewing its lock: a killed worker's jobs go to
   * another after this. @default 30000 (BullMQ's)
   */
  lockDurationMs?: number | undefined;
};

export type WorkerSummary = { done: number; failed: number; cached: number; requests: number; runs: number };

/**
 * Serves every run on a Redis: one BullMQ worker per run's queue, with the run's rate limit as
 * BullMQ's limiter (one job every `60000 / rate` ms across all workers together), its circuits and its
 * cache shared in Redis. Each job's images and sidecars are written atomically into the run's
 * output folder, which every worker reaches at the same path (a shared filesystem).
 */
export async function runWorker(options: RunWorkerOptions): Promise<WorkerSummary> {
  const target = parseRedisUrl(options.queue);
  const concurrency = options.concurrency ?? 4;
  const bullmq = await loadBullMQ();
  const { Redis } = await import('ioredis');
  const redis = new Redis(connectionOptions(target));
  await connected(redis, target);
  const emit = options.onEvent ?? (() => {});
  let lost = false;
  redis.on('error', (error: Error) => {
    if (!lost) emit({ type: 'redis', state: 'lost', error: error.message });
    lost = true;
  });
  redis.on('ready', () => {
    if (lost) emit({ type: 'redis', state: 'back' });
    lost = false;
  });
  const summary: WorkerSummary = { done: 0, failed: 0, cached: 0, requests: 0, runs: 0 };
  const served = new Map<string, ServedRun>();
  const pollMs = options.pollMs ?? 1000;
  try {
    let idleChecks = 0;
    while (options.signal?.aborted !== true) {
      const queues = new Set(await redis.smembers(RUNS_KEY));
      for (const queue of queues) {
        if (served.has(queue)) continue;
        const settings = await readRun(redis, queue);
        if (settings === undefined) continue;
        served.set(queue, await serveRun({ bullmq, target, settings, concurrency, redis, options, summary, emit }));
        summary.runs++;
        emit({ type: 'run', queue, outDir: settings.outDir, requestsPerMinute: settings.requestsPerMinute });
      }
      // A run followed to its end: its queue is let go.
      for (const [queue, run] of served) {
        if (!queues.has(queue)) {
          served.delete(queue);
          await run.close();
        }
      }
      if (options.exitWhenIdle) {
        idleChecks = (await isIdle(served)) ? idleChecks + 1 : 0;
        // Twice in a row: a job between its retry's delay and the wait list is not missed.
        if (idleChecks >= 2) break;
      }
      await sleep(pollMs, options.signal);
    }
  } finally {
    const inFlight = [...served.values()].reduce((sum, run) => sum + run.inFlight(), 0);
    if (options.signal?.aborted) emit({ type: 'stopping', inFlight });
    // BullMQ's close waits for the jobs in flight: they finish and are written, nothing is handed back half-done.
    await Promise.all([...served.values()].map((run) => run.close()));
    redis.disconnect();
  }
  return summary;
}

type ServedRun = { close: () => Promise<void>; inFlight: () => number; queue: { getJobCounts: (...types: string[]) => Promise<Record<string, number>> } };

async function isIdle(served: Map<string, ServedRun>): Promise<boolean> {
  for (const run of served.values()) {
    if (run.inFlight() > 0) return false;
    const counts = await run.queue.getJobCounts('waiting', 'active', 'delayed', 'prioritized', 'waiting-children');
    if (Object.values(counts).some((count) => count > 0)) return false;
  }
  return true;
}

async function serveRun({
  bullmq,
  target,
  settings,
  concurrency,
  redis,
  options,
  summary,
  emit,
}: {
  bullmq: typeof import('bullmq');
  target: RedisTarget;
  settings: RunSettings;
  concurrency: number;
  redis: Redis;
  options: RunWorkerOptions;
  summary: WorkerSummary;
  emit: (event: WorkerEvent) => void;
}): Promise<ServedRun> {
  const connection = connectionOptions(target);
  const shared = await openSharedCache(settings.cache);
  const intervalMs = settings.requestsPerMinute === undefined ? undefined : Math.ceil(60_000 / settings.requestsPerMinute);
  let inFlight = 0;
  const processor = async (job: Job<QueuedJob, QueuedResult>): Promise<QueuedResult> => {
    inFlight++;
    try {
      return await processJob({ job, worker, settings, redis, cache: shared?.cache, providers: options.providers, intervalMs, emit, bullmq, summary });
    } finally {
      inFlight--;
    }
  };
  const worker: BullWorker<QueuedJob, QueuedResult> = new bullmq.Worker<QueuedJob, QueuedResult>(settings.queue, processor, {
    connection,
    concurrency,
    name: `${hostname()}:${process.pid}`,
    // One job every interval across all workers: the local run's even pacing, not a burst per window.
    ...(intervalMs === undefined ? {} : { limiter: { max: 1, duration: intervalMs } }),
    ...(options.lockDurationMs === undefined ? {} : { lockDuration: options.lockDurationMs, stalledInterval: Math.max(1000, Math.round(options.lockDurationMs / 2)) }),
    // A job that stalled twice (its workers killed) is failed rather than sent on forever.
    maxStalledCount: 2,
    settings: { backoffStrategy: (attemptsMade: number, _type?: string, error?: Error) => backoffMs(settings, attemptsMade, error) },
  });
  worker.on('error', () => {
    // Connection errors: ioredis reconnects and BullMQ carries on; the Redis client above reports them once.
  });
  worker.on('failed', (job, error) => {
    if (job === undefined) return;
    const willRetry = job.attemptsMade < (job.opts.attempts ?? 1) && !(error instanceof bullmq.UnrecoverableError) && error.name !== 'RateLimitError';
    if (!willRetry && error.name !== 'RateLimitError') summary.failed++;
    emit({ type: 'failed', queue: settings.queue, line: job.data.line, error: error.message, willRetry });
  });
  const queue = new bullmq.Queue(settings.queue, { connection });
  queue.on('error', () => {});
  return {
    inFlight: () => inFlight,
    queue: queue as unknown as ServedRun['queue'],
    close: async () => {
      await worker.close();
      await queue.close();
      await shared?.close();
    },
  };
}

/** Jittered doubling from the run's minimum to its maximum, and never shorter than a `retry-after`. */
function backoffMs(settings: RunSettings, attemptsMade: number, error: Error | undefined): number {
  const { minMs, maxMs } = settings.backoff;
  const doubled = Math.min(maxMs, minMs * 2 ** Math.max(0, attemptsMade - 1));
  const jittered = doubled * (1 + Math.random());
  const asked = RateLimitError.isInstance(error) && error.retryAfterSeconds !== undefined ? error.retryAfterSeconds * 1000 : 0;
  return Math.round(Math.max(Math.min(jittered, maxMs), asked));
}

/**
 * One job: plan it, serve it from the shared cache or send its calls (one attempt; BullMQ retries
 * the job through the limiter, so a retry waits its turn like any request), write its images.
 */
async function processJob({
  job,
  worker,
  settings,
  redis,
  cache,
  providers,
  intervalMs,
  emit,
  bullmq,
  summary,
}: {
  job: Job<QueuedJob, QueuedResult>;
  worker: BullWorker<QueuedJob, QueuedResult>;
  settings: RunSettings;
  redis: Redis;
  cache: SeededImageCache | undefined;
  providers: ProvidersOption | undefined;
  intervalMs: number | undefined;
  emit: (event: WorkerEvent) => void;
  bullmq: typeof import('bullmq');
  summary: WorkerSummary;
}): Promise<QueuedResult> {
  const started = Date.now();
  const queueMs = Math.max(0, started - job.timestamp);
  const data = job.data;
  const batchJob: BatchJob = { line: data.line, key: data.key, request: data.request, columns: {} };
  const prepared = await prepareGeneration(data.request, {
    ...(providers === undefined ? {} : { providers }),
    readFile: (file: string, { maxBytes }: { maxBytes: number }) => readImageFile(file, { maxBytes, signal: timeoutSignal(settings.timeoutMs, { operation: `reading ${file}` }) }),
    checkKey: false,
  }).catch((error: unknown) => {
    throw new bullmq.UnrecoverableError(error instanceof Error ? error.message : String(error));
  });
  const { plan } = prepared;
  const held = circuitFor(await openCircuits(redis, settings.queue), plan);
  if (held !== undefined) throw new bullmq.UnrecoverableError(held);

  const cacheKey = cache === undefined ? undefined : ImageCache.keyOf(plan, data.request.seed !== undefined);
  const hit = cacheKey === undefined ? undefined : await cache?.get(cacheKey).catch(() => undefined);
  if (hit !== undefined) {
    const saved = await saveImages({
      images: hit.map(imageOfCached),
      outDir: settings.outDir,
      warnings: prepared.warnings,
      durationMs: Date.now() - started,
      cached: true,
      name: (image) => fileBaseName(plan, batchJob, image.index),
    });
    const results = saved.map((item) => item.result);
    summary.done++;
    summary.cached++;
    emit({ type: 'done', queue: settings.queue, line: data.line, images: results.length, cached: true, requests: 0 });
    return { files: results.map((result) => result.file), seed: plan.resolved.seed, requests: data.requests ?? 0, cached: true, images: results.map(journalImage), results, estimatedCostUsd: 0, durationMs: Date.now() - started, queueMs };
  }

  // A request of several calls takes the turns of its extra calls from every worker's next jobs.
  if (intervalMs !== undefined && prepared.calls.length > 1) await worker.rateLimit(intervalMs * (prepared.calls.length - 1));
  const sendStarted = Date.now();
  const outcomes = await Promise.all(
    prepared.calls.map((mapped) =>
      sendCall(prepared, mapped, { maxRetries: 0, abortSignal: timeoutSignal(settings.timeoutMs, { operation: 'the request', provider: plan.provider, modelId: plan.modelId }) }),
    ),
  );
  const attempts = outcomes.reduce((sum, outcome) => sum + outcome.report.attempts, 0);
  summary.requests += attempts;
  const requests = (data.requests ?? 0) + attempts;
  const failure = outcomes.map((outcome) => outcome.report.error ?? outcome.thrown).find((error) => error !== undefined);
  if (failure !== undefined) {
    await job.updateData({ ...data, requests });
    throw await failureFor({ failure, job, worker, settings, redis, plan, emit, bullmq });
  }
  // Without a configured rate, the provider's word on its window holds every worker.
  if (settings.requestsPerMinute === undefined) {
    const spent = Math.max(0, ...outcomes.map((outcome) => exhaustedWindowMs(outcome.report.responseHeaders) ?? 0));
    if (spent > 0) {
      await worker.rateLimit(spent);
      emit({ type: 'rate-limited', queue: settings.queue, milliseconds: spent });
    }
  }
  const result = collectResult(prepared, outcomes, sendStarted);
  const latencyMs = Math.max(...result.calls.map((call) => call.durationMs));
  const saved = await saveImages({
    images: result.images,
    outDir: settings.outDir,
    warnings: result.warnings,
    durationMs: Date.now() - started,
    latencyMs,
    estimatedCostUsd: plan.estimatedCostUsd,
    name: (image) => fileBaseName(plan, batchJob, image.index),
  });
  // The images are kept already: a cache that cannot take them only costs a later request.
  if (cacheKey !== undefined) await cache?.put(cacheKey, result.images).catch(() => undefined);
  const results = saved.map((item) => item.result);
  summary.done++;
  emit({ type: 'done', queue: settings.queue, line: data.line, images: results.length, cached: false, requests });
  return {
    files: results.map((item) => item.file),
    seed: plan.resolved.seed,
    requests,
    cached: false,
    latencyMs,
    images: results.map(journalImage),
    results,
    estimatedCostUsd: plan.estimatedCostUsd ?? 0,
    durationMs: Date.now() - started,
    queueMs,
  };
}

/**
 * What a failed attempt becomes for BullMQ. A 429 holds every worker (`worker.rateLimit`) for its
 * `retry-after` and puts the job back without spending an attempt; an error that would repeat
 * opens the circuit for all workers; a retryable one is retried by BullMQ after its backoff; the
 * rest fail the job for good.
 */
async function failureFor({
  failure,
  job,
  worker,
  settings,
  redis,
  plan,
  emit,
  bullmq,
}: {
  failure: unknown;
  job: Job<QueuedJob, QueuedResult>;
  worker: BullWorker<QueuedJob, QueuedResult>;
  settings: RunSettings;
  redis: Redis;
  plan: { provider: string; modelId: string };
  emit: (event: WorkerEvent) => void;
  bullmq: typeof import('bullmq');
}): Promise<Error> {
  const message = failure instanceof Error ? failure.message : String(failure);
  const circuit = circuitOpenedBy(plan, failure, job.data.line);
  if (circuit !== undefined) {
    if (await openCircuit(redis, settings.queue, circuit.scope, { notSent: circuit.notSent, reason: circuit.reason, line: job.data.line })) emit({ type: 'circuit-open', queue: settings.queue, scope: circuit.scope, reason: circuit.reason });
    return new bullmq.UnrecoverableError(message);
  }
  if (RateLimitError.isInstance(failure) && (job.data.rateLimited ?? 0) < settings.maxRetries) {
    const seconds = failure.retryAfterSeconds !== undefined && failure.retryAfterSeconds <= MAX_PAUSE_SECONDS ? failure.retryAfterSeconds : undefined;
    const milliseconds = seconds === undefined ? backoffMs(settings, (job.data.rateLimited ?? 0) + 1, undefined) : seconds * 1000;
    await job.updateData({ ...job.data, rateLimited: (job.data.rateLimited ?? 0) + 1 });
    await worker.rateLimit(milliseconds);
    emit({ type: 'rate-limited', queue: settings.queue, milliseconds });
    return bullmq.Worker.RateLimitError();
  }
  if (isRetryable(failure) && failure instanceof Error) return failure;
  return new bullmq.UnrecoverableError(message);
}

function sleep(milliseconds: number, signal: AbortSignal | undefined): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, milliseconds);
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}
