// Node-only: `imagegen batch --queue`: puts a checked run's jobs on its BullMQ queue and follows them.
import path from 'node:path';
import type { Job, Queue } from 'bullmq';
import { emptySummary, type BatchEvent, type BatchSummary, type RunBatchOptions } from '../batch/engine.js';
import { KEY_FORMAT, type BatchJob } from '../batch/input.js';
import { Journal, type JournalEntry } from '../batch/journal.js';
import { lockOutputFolder } from '../batch/output-lock.js';
import { bytesForImage, checkWritableFolder } from '../files/folder-checks.js';
import { removeTemporaryFiles } from '../files/files.js';
import { connected, connectionOptions, loadBullMQ, parseRedisUrl, queueNameFor } from './connection.js';
import { openCircuits, publishRun, retireRun } from './run-state.js';
import type { SharedCacheSetting } from './settings.js';
import type { QueuedJob, QueuedResult } from './worker.js';

export type RunQueuedBatchOptions = Pick<
  RunBatchOptions,
  'jobs' | 'total' | 'alreadyDone' | 'bytesNeeded' | 'outDir' | 'requestsPerMinute' | 'maxRetries' | 'timeoutMs' | 'backoff' | 'signal' | 'onEvent'
> & {
  /** `redis://HOST:PORT[/DB]`. */
  queue: string;
  /** The cache the workers share: a folder they all mount, or a Redis URL. @default false */
  cache?: SharedCacheSetting | undefined;
  /** How often finished jobs are collected. @default 250 */
  pollMs?: number | undefined;
};

/** Jobs put on the queue per round trip. */
const ENQUEUE_CHUNK = 200;
/** Finished jobs collected per round trip. */
const COLLECT_CHUNK = 500;

/**
 * Runs a checked batch on a Redis queue: the jobs not done before (by the journal in the output
 * folder) go on the run's BullMQ queue, workers anywhere send them and write their images into the
 * folder, and this follows them to the end, writing the journal (it alone does, under the folder's
 * lock) and emitting the same events and summary as `runBatch`. It generates nothing itself.
 *
 * Running it again resumes: done jobs are skipped; jobs still queued or in flight from a follower
 * that was stopped are followed, not added twice (their BullMQ id is their job key).
 */
export async function runQueuedBatch(options: RunQueuedBatchOptions): Promise<BatchSummary> {
  const started = Date.now();
  const outDir = path.resolve(options.outDir);
  const target = parseRedisUrl(options.queue);
  const cacheSetting = options.cache ?? false;
  if (cacheSetting !== false && cacheSetting.kind === 'redis') parseRedisUrl(cacheSetting.url, '--cache');
  await checkWritableFolder({ folder: outDir, bytesNeeded: options.bytesNeeded ?? bytesForImage(256, 256), field: 'outDir' });
  if (cacheSetting !== false && cacheSetting.kind === 'dir') await checkWritableFolder({ folder: cacheSetting.dir, bytesNeeded: options.bytesNeeded ?? bytesForImage(256, 256), field: 'cache.dir' });
  const bullmq = await loadBullMQ();
  const { Redis } = await import('ioredis');
  let lockLost: Error | undefined;
  const releaseLock = await lockOutputFolder({ folder: outDir, onCompromised: (error) => (lockLost = error) });
  const connection = connectionOptions(target);
  const redis = new Redis(connection);
  try {
    await connected(redis, target);
  } catch (error) {
    await releaseLock().catch(() => undefined);
    throw error;
  }
  redis.on('error', () => {
    // ioredis reconnects; every command waits for it (maxRetriesPerRequest: null).
  });
  const queueName = queueNameFor(outDir);
  const queue: Queue<QueuedJob, QueuedResult> = new bullmq.Queue<QueuedJob, QueuedResult>(queueName, { connection });
  queue.on('error', () => {});
  try {
    await removeTemporaryFiles(outDir);
    const journal = await Journal.open(outDir);
    const follower = new Follower({ options, outDir, queue, journal, redis, queueName, lockLost: () => lockLost });
    await publishRun(redis, {
      queue: queueName,
      outDir,
      ...(options.requestsPerMinute === undefined ? {} : { requestsPerMinute: options.requestsPerMinute }),
      maxRetries: options.maxRetries ?? 5,
      timeoutMs: options.timeoutMs ?? 120_000,
      backoff: options.backoff ?? { minMs: 1000, maxMs: 30_000 },
      cache: cacheSetting,
    });
    // A run stopped before left its queue paused; this one takes it up again.
    await queue.resume();
    await follower.run();
    return follower.summarize(started);
  } finally {
    await queue.close().catch(() => undefined);
    redis.disconnect();
    await releaseLock().catch(() => undefined);
  }
}

class Follower {
  readonly #options: RunQueuedBatchOptions;
  readonly #outDir: string;
  readonly #queue: Queue<QueuedJob, QueuedResult>;
  readonly #journal: Journal;
  readonly #redis: import('ioredis').Redis;
  readonly #queueName: string;
  readonly #lockLost: () => Error | undefined;
  readonly #emit: (event: BatchEvent) => void;
  /**
   * Jobs on the queue not yet finished: their key and line only (a run of 100k jobs keeps no
   * requests here; a finished job's request comes back with it from Redis).
   */
  readonly #outstanding = new Map<string, number>();
  readonly #circuitsSeen = new Set<string>();
  // Workers report no actual cost to the follower yet, and a queued run takes no budget.
  readonly #summary: BatchSummary = emptySummary();
  #enqueued = false;

  constructor(fields: {
    options: RunQueuedBatchOptions;
    outDir: string;
    queue: Queue<QueuedJob, QueuedResult>;
    journal: Journal;
    redis: import('ioredis').Redis;
    queueName: string;
    lockLost: () => Error | undefined;
  }) {
    this.#options = fields.options;
    this.#outDir = fields.outDir;
    this.#queue = fields.queue;
    this.#journal = fields.journal;
    this.#redis = fields.redis;
    this.#queueName = fields.queueName;
    this.#lockLost = fields.lockLost;
    this.#emit = fields.options.onEvent ?? (() => {});
  }

  #stopped(): boolean {
    return this.#options.signal?.aborted === true || this.#lockLost() !== undefined;
  }

  async run(): Promise<void> {
    const onStop = () => {
      // Workers take no new job of this run; those in flight finish and are collected below.
      void this.#queue.pause().catch(() => undefined);
      void this.#queue.getActiveCount().then(
        (inFlight) => this.#emit({ type: 'stopping', inFlight }),
        () => undefined,
      );
    };
    this.#options.signal?.addEventListener('abort', onStop, { once: true });
    try {
      // Failed jobs of an earlier run are tried again, as a local re-run does.
      for (const job of await this.#queue.getFailed(0, -1)) await job.remove().catch(() => undefined);
      const collecting = this.#collectLoop();
      await this.#enqueue();
      this.#enqueued = true;
      await collecting;
    } finally {
      this.#options.signal?.removeEventListener('abort', onStop);
    }
    if (!this.#stopped()) {
      // Followed to its end: the workers let the queue go, and nothing of it stays in Redis.
      await retireRun(this.#redis, this.#queueName);
      await this.#queue.obliterate({ force: true }).catch(() => undefined);
    }
  }

  /** The jobs not done before go on the queue, a chunk per round trip, under their key as BullMQ id. */
  async #enqueue(): Promise<void> {
    const jobs = this.#options.jobs;
    const streamed = Symbol.asyncIterator in jobs;
    this.#summary.total = streamed ? (this.#options.total ?? 0) : (jobs as readonly BatchJob[]).length;
    this.#emit({ type: 'start', total: this.#summary.total, skipped: this.#options.alreadyDone ?? 0 });
    let chunk: BatchJob[] = [];
    let seen = 0;
    const attempts = (this.#options.maxRetries ?? 5) + 1;
    const flush = async () => {
      if (chunk.length === 0) return;
      const adding = chunk;
      chunk = [];
      for (const job of adding) this.#outstanding.set(job.key, job.line);
      await this.#queue.addBulk(
        adding.map((job) => ({
          name: 'image',
          data: { line: job.line, key: job.key, request: job.request },
          // The key as id: a job already queued (by a follower stopped before) is not added twice.
          opts: { jobId: job.key, attempts, removeOnComplete: false, removeOnFail: false },
        })),
      );
    };
    for await (const job of jobs) {
      if (this.#stopped()) break;
      seen++;
      if (this.#options.total === undefined && streamed) this.#summary.total++;
      if (await this.#journal.isDone(job.key, this.#outDir, job.legacyKey)) {
        this.#summary.skipped++;
        this.#emit({ type: 'skipped', job, entry: this.#journal.entryOf(job)! });
        continue;
      }
      chunk.push(job);
      if (chunk.length >= ENQUEUE_CHUNK) await flush();
    }
    if (this.#stopped()) {
      // Not queued: the jobs of the last chunk, and those not read.
      this.#summary.pending += chunk.length + Math.max(0, this.#summary.total - seen - Math.max(0, (this.#options.alreadyDone ?? 0) - this.#summary.skipped));
      chunk = [];
    }
    await flush();
  }

  /** Collects finished jobs until every queued one is in, or (stopped) until none is in flight. */
  async #collectLoop(): Promise<void> {
    const pollMs = this.#options.pollMs ?? 250;
    for (;;) {
      const collected = await this.#collect();
      await this.#watchCircuits();
      if (this.#enqueued && this.#outstanding.size === 0) return;
      if (this.#stopped() && this.#enqueued && (await this.#queue.getActiveCount()) === 0 && (await this.#collect()) === 0) {
        this.#summary.pending += this.#outstanding.size;
        return;
      }
      if (collected < COLLECT_CHUNK) await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  async #collect(): Promise<number> {
    const completed = await this.#queue.getCompleted(0, COLLECT_CHUNK - 1);
    for (const job of completed) await this.#recordDone(job);
    const failed = await this.#queue.getFailed(0, COLLECT_CHUNK - 1);
    for (const job of failed) await this.#recordFailed(job);
    return completed.length + failed.length;
  }

  async #recordDone(job: Job<QueuedJob, QueuedResult>): Promise<void> {
    const result = job.returnvalue;
    const batchJob: BatchJob = { line: this.#outstanding.get(job.data.key) ?? job.data.line, key: job.data.key, request: job.data.request, columns: {} };
    await this.#record(batchJob, {
      status: 'done',
      files: result.files,
      seed: result.seed,
      requests: result.requests,
      cached: result.cached,
      ...(result.latencyMs === undefined ? {} : { latencyMs: result.latencyMs }),
      images: result.images,
    });
    await job.remove().catch(() => undefined);
    if (!this.#outstanding.delete(job.data.key)) return;
    const summary = this.#summary;
    summary.done++;
    summary.images += result.files.length;
    summary.requests += result.requests;
    summary.retries += Math.max(0, job.attemptsMade - 1) + (job.data.rateLimited ?? 0);
    if (result.cached) summary.cached++;
    else summary.estimatedCostUsd += result.estimatedCostUsd;
    this.#emit({
      type: 'done',
      job: batchJob,
      images: result.files.length,
      cached: result.cached,
      durationMs: result.durationMs,
      latencyMs: result.cached ? undefined : result.latencyMs,
      queueMs: result.queueMs,
      requests: result.requests,
      results: result.results,
    });
  }

  async #recordFailed(job: Job<QueuedJob, QueuedResult>): Promise<void> {
    const batchJob: BatchJob = { line: this.#outstanding.get(job.data.key) ?? job.data.line, key: job.data.key, request: job.data.request, columns: {} };
    const error = job.failedReason;
    const requests = job.data.requests ?? 0;
    await this.#record(batchJob, { status: 'failed', files: [], seed: undefined, requests, cached: false, error });
    await job.remove().catch(() => undefined);
    if (!this.#outstanding.delete(job.data.key)) return;
    this.#summary.failed++;
    this.#summary.requests += requests;
    this.#summary.retries += Math.max(0, job.attemptsMade - 1) + (job.data.rateLimited ?? 0);
    this.#summary.failures.push({ line: batchJob.line, key: batchJob.key, error });
    this.#emit({ type: 'failed', job: batchJob, error, requests });
  }

  async #watchCircuits(): Promise<void> {
    for (const [scope, { reason, line }] of await openCircuits(this.#redis, this.#queueName)) {
      if (this.#circuitsSeen.has(scope)) continue;
      this.#circuitsSeen.add(scope);
      this.#summary.openCircuits.push({ scope, reason, line });
      this.#emit({ type: 'circuit-open', scope, reason, line });
    }
  }

  #record(job: BatchJob, fields: Omit<JournalEntry, 'key' | 'line' | 'at'>): Promise<void> {
    return this.#journal.append({ key: job.key, line: job.line, ...fields, keyFormat: KEY_FORMAT, at: new Date().toISOString() });
  }

  summarize(started: number): BatchSummary {
    const summary = this.#summary;
    const lockLost = this.#lockLost();
    summary.stopped = this.#stopped();
    if (lockLost !== undefined) summary.fileSystemError = `the lock on ${this.#outDir} was lost (${lockLost.message})`;
    summary.durationMs = Date.now() - started;
    summary.imagesPerMinute = summary.durationMs > 0 ? Math.round((summary.images / summary.durationMs) * 60_000 * 10) / 10 : 0;
    summary.estimatedCostUsd = Math.round(summary.estimatedCostUsd * 1e6) / 1e6;
    return summary;
  }
}

