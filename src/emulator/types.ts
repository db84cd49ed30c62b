import type { DocumentedModel } from './documented-models.js';
import type { FailRate, FaultKind, FaultRates, LatencyOptions, RateLimitOptions } from './faults.js';

/** Options of `startEmulator`. Everything random is drawn from one generator seeded by `seed`. */
export type EmulatorOptions = {
  /** `0` picks a free port. @default 0 */
  port?: number | undefined;
  /** @default '127.0.0.1' */
  host?: string | undefined;
  /** When set, only `Authorization: Bearer <apiKey>` is accepted; otherwise any non-empty key is. */
  apiKey?: string | undefined;
  /** Milliseconds (`300`), a duration (`'300ms'`, `'2s'`), or fixed + jitter, per request or per image. */
  latency?: number | string | LatencyOptions | undefined;
  /** Generation requests per minute (`60`), `'60/min'`, or `{ requests, windowMs }`. Over it: 429. */
  rateLimit?: number | string | RateLimitOptions | undefined;
  /** Share of requests answered 500/502/503/504: `0.05`, or `{ 500: 0.02, 503: 0.03 }`. */
  failRate?: FailRate | undefined;
  /** Share of requests that meet each fault, e.g. `{ reset: 0.01, 'malformed-json': 0.01 }`. */
  faults?: FaultRates | undefined;
  /** Seed of the generator behind latency jitter, failures, faults, ids and unseeded images. */
  seed?: number | undefined;
  /** Words that trip the safety checker (whole words, any case). @default DEFAULT_SAFETY_WORDS */
  safetyWords?: readonly string[] | undefined;
  /** No request log. @default false */
  quiet?: boolean | undefined;
  /** Where the request log goes. @default a line on stderr per request */
  log?: ((line: string) => void) | undefined;
  /** The clock of the rate-limit window, in milliseconds. @default Date.now */
  now?: (() => number) | undefined;
  /** Bytes of images kept for `url` responses; least recently used go first. @default 64 MiB */
  maxStoredImageBytes?: number | undefined;
  /** Most request-body text `requests()` keeps at once; older bodies are dropped first. @default 64 MB */
  maxRecordedBodyBytes?: number | undefined;
  /**
   * Models Together added after this release: listed on `GET /v1/models` and served, taking what the
   * schema allows. For trying `imagegen models --refresh` against a list the catalog lacks.
   */
  extraModels?: readonly (Pick<DocumentedModel, 'id'> & Partial<Omit<DocumentedModel, 'id'>>)[] | undefined;
  /** `false`: partner models answer 403, as for an account without third-party data sharing. @default true */
  partnerDataSharing?: boolean | undefined;
  /** `true`: every generation answers 402, as for an account with no credits left. @default false */
  outOfCredits?: boolean | undefined;
};

/** Counters since start or the last reset. */
export type EmulatorStats = {
  /** Generation requests received (`POST /v1/images/generations`). */
  requests: number;
  /** Images sent back. */
  images: number;
  /** Generation responses by HTTP status (faults that send no status are only in `faults`). */
  byStatus: Record<string, number>;
  /** Faults applied, by kind. */
  faults: Record<FaultKind, number>;
  /** Image downloads (`GET` of a URL from a `url` response), whatever their status. */
  downloads: number;
  /** Generation requests being handled now (hung ones included). */
  inFlight: number;
};

/** A generation request as received, for tests that assert on exact bodies and headers. */
export type RecordedRequest = {
  method: string;
  path: string;
  /** Lower-case names; repeated headers joined with `, `. */
  headers: Record<string, string>;
  /** The parsed JSON body, or the raw text when it is not JSON. */
  body: unknown;
};

/** A running emulator. */
export type Emulator = {
  /** Base URL to give `TOGETHER_BASE_URL` or an SDK's `baseURL`, e.g. `http://127.0.0.1:8787/v1`. */
  url: string;
  port: number;
  stats(): EmulatorStats;
  /** Generation requests since start or the last reset, oldest first (the last 1000 only). */
  requests(): RecordedRequest[];
  /** Zeroes the stats, forgets recorded requests, restarts the rate-limit window and re-seeds the generator. */
  reset(): void;
  /** Stops the server, dropping open connections (hung responses included). */
  close(): Promise<void>;
};
