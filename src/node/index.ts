// The Node entry: everything in the core, plus reference images from files and saving to disk.
import { generateImages as generateImagesCore, type GenerateImagesOptions, type GenerateImagesResult } from '../generate.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import { readImageFile } from '../files/files.js';

export * from '../index.js';
export { imageFileName, MAX_REFERENCE_IMAGE_BYTES, pathInside, readImageFile, ReferenceFileError, saveImages, slugify, writeFileAtomically } from '../files/files.js';
export type { SavedImage, Sidecar } from '../files/files.js';
export { DEFAULT_MODEL_LIST_MAX_AGE_MS, loadCachedModelList, modelListCachePath, refreshModelListCached } from '../files/model-list-cache.js';
export type { CachedModelListOptions } from '../files/model-list-cache.js';
export { checkCanKeep } from '../files/folder-checks.js';

/** `generateImages` with reference images readable from file paths. */
export function generateImages(request: GenerateRequest, options: GenerateImagesOptions = {}): Promise<GenerateImagesResult> {
  return generateImagesCore(request, { readFile: readImageFile, ...options });
}

// Beyond one machine: a rate limit and a cache shared in Redis, the queue's worker and follower.
export { createRedisRateLimiter } from '../queue/redis-limiter.js';
export type { RedisEvalClient, RedisRateLimiter, RedisRateLimiterOptions } from '../queue/redis-limiter.js';
export { redisStorage } from '../queue/shared-cache.js';
export { runWorker } from '../queue/worker.js';
export type { RunWorkerOptions, WorkerEvent, WorkerSummary } from '../queue/worker.js';
export { runQueuedBatch } from '../queue/follow.js';
export type { RunQueuedBatchOptions } from '../queue/follow.js';

// Batch runs and experiments.
export { ImageCache, folderStorage } from '../batch/cache.js';
export { defaultCacheDir } from '../files/cache-dir.js';
export { estimateBatch } from '../batch/dry-run.js';
export type { DryRunEstimate } from '../batch/dry-run.js';
export { isRetryable, runBatch, validateJobs } from '../batch/engine.js';
export type { BatchEvent, BatchSummary, RunBatchOptions } from '../batch/engine.js';
export { detectFormat, InvalidBatchInputError, parseBatchInput } from '../batch/input.js';
export type { BatchJob, InputFormat, LineError } from '../batch/input.js';
export type { JournalEntry } from '../batch/journal.js';
export { OutputFolderLockedError } from '../batch/output-lock.js';
export { checkBatchFile, loadBatchFile, validBatchJobs } from '../batch/load.js';
export type { BatchFileCheck, BatchFileOptions } from '../batch/load.js';
export { DEFAULT_PLAN_BUDGET, PlanStore } from '../batch/plan-store.js';
export type { PlanBudget } from '../batch/plan-store.js';
export { expandExperiment, experimentSchema, loadExperimentFile, parseExperiment } from '../compare/experiment.js';
export type { Experiment, ExperimentCell } from '../compare/experiment.js';
export { runExperiment } from '../compare/run.js';
export type { ExperimentResult } from '../compare/run.js';
export type { ExperimentRow } from '../compare/types.js';
