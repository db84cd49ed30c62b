// What a queued run decides and every worker follows: types only (no Redis client's types, for apps' declarations).

/** Where the shared cache of a run lives: a folder every worker mounts, or Redis. */
export type SharedCacheSetting = false | { kind: 'dir'; dir: string; maxBytes?: number | undefined } | { kind: 'redis'; url: string; maxBytes?: number | undefined };

/** What the batch command decides for its run, and every worker of it follows. */
export type RunSettings = {
  /** The BullMQ queue's name (see `queueNameFor`). */
  queue: string;
  /** The output folder, at the same path on every machine (a shared filesystem). */
  outDir: string;
  /** For all workers together, paced evenly over the minute. @default unlimited */
  requestsPerMinute?: number | undefined;
  maxRetries: number;
  timeoutMs: number;
  backoff: { minMs: number; maxMs: number };
  cache: SharedCacheSetting;
};
