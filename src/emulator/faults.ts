/**
 * Load and fault shaping for the emulator: latency, a rate-limit window, injected error statuses
 * and broken responses. Every random choice comes from one seeded generator, so a run with the
 * same seed and the same order of requests fails in the same places.
 */
import { mulberry32 } from '../util/random.js';
import { parseDuration, parseRateLimit, safeDuration } from '../util/units.js';

export { parseDuration, parseRateLimit };


/** Ways a response can break on purpose. */
export type FaultKind = 'reset' | 'hang' | 'truncate' | 'malformed-json' | 'invalid-base64';

export const FAULT_KINDS: readonly FaultKind[] = ['reset', 'hang', 'truncate', 'malformed-json', 'invalid-base64'];

/** Statuses a fail rate can inject. */
export type FailStatus = 500 | 502 | 503 | 504;

export const FAIL_STATUSES: readonly FailStatus[] = [500, 502, 503, 504];

/**
 * Delay before a response, counted from the request's arrival (rendering happens within it). It
 * applies to images, injected failures and resets; validation errors answer at once, as Together's do.
 */
export type LatencyOptions = {
  /** Fixed part, in milliseconds. @default 0 */
  fixedMs?: number | undefined;
  /** Random extra from 0 up to this, in milliseconds. @default 0 */
  jitterMs?: number | undefined;
  /** Whether the delay applies once per request or once per image generated. @default 'request' */
  per?: 'request' | 'image' | undefined;
};

/** At most `requests` generation requests per window. */
export type RateLimitOptions = {
  requests: number;
  /** @default 60000 */
  windowMs?: number | undefined;
};

/**
 * Share of requests answered with an error status: one rate spread evenly over 500, 502, 503 and
 * 504, or a rate per status.
 */
export type FailRate = number | Partial<Record<FailStatus, number>>;

/** Share of requests that meet each fault. */
export type FaultRates = Partial<Record<FaultKind, number>>;

export type ShaperOptions = {
  latency?: number | string | LatencyOptions | undefined;
  rateLimit?: number | string | RateLimitOptions | undefined;
  failRate?: FailRate | undefined;
  faults?: FaultRates | undefined;
  seed?: number | undefined;
  now?: (() => number) | undefined;
};

/** What happens to one request, decided when it arrives. */
export type RequestPlan = {
  fault: FaultKind | undefined;
  failStatus: number | undefined;
  /** Total delay for a request that makes `images` images (draws its jitter when called). */
  latencyMs(images: number): number;
};

export type RateLimitState = {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window starts over. */
  resetMs: number;
};

/** Per-request overrides, read from these headers. */
export const HEADERS = {
  latency: 'x-emulator-latency-ms',
  failStatus: 'x-emulator-fail-status',
  fault: 'x-emulator-fault',
} as const;

/** The emulator's seeded random numbers (mulberry32): one instance per emulator. */
export const createRandom = mulberry32;

function normalizeLatency(latency: ShaperOptions['latency']): { fixedMs: number; jitterMs: number; per: 'request' | 'image' } {
  if (latency === undefined) return { fixedMs: 0, jitterMs: 0, per: 'request' };
  if (typeof latency === 'number') return { fixedMs: latency, jitterMs: 0, per: 'request' };
  if (typeof latency === 'string') return { fixedMs: parseDuration(latency), jitterMs: 0, per: 'request' };
  return { fixedMs: latency.fixedMs ?? 0, jitterMs: latency.jitterMs ?? 0, per: latency.per ?? 'request' };
}

function normalizeRateLimit(rateLimit: ShaperOptions['rateLimit']): { requests: number; windowMs: number } | undefined {
  if (rateLimit === undefined) return undefined;
  if (typeof rateLimit === 'number') return { requests: rateLimit, windowMs: 60_000 };
  if (typeof rateLimit === 'string') return parseRateLimit(rateLimit);
  return { requests: rateLimit.requests, windowMs: rateLimit.windowMs ?? 60_000 };
}

function normalizeFailRate(failRate: FailRate | undefined): [number, number][] {
  if (failRate === undefined) return [];
  if (typeof failRate === 'number') return FAIL_STATUSES.map((status) => [status, failRate / FAIL_STATUSES.length]);
  return FAIL_STATUSES.filter((status) => (failRate[status] ?? 0) > 0).map((status) => [status, failRate[status]!]);
}

/** Picks one outcome from `[outcome, rate][]` with a single draw, or `undefined` (the rest). */
function pick<T>(draw: number, outcomes: readonly (readonly [T, number])[]): T | undefined {
  let threshold = 0;
  for (const [outcome, rate] of outcomes) {
    threshold += rate;
    if (draw < threshold) return outcome;
  }
  return undefined;
}

export class InvalidHeaderError extends Error {
  readonly header: string;

  constructor({ header, message }: { header: string; message: string }) {
    super(message);
    this.name = 'InvalidHeaderError';
    this.header = header;
  }
}

type HeaderValue = string | string[] | undefined;

function headerText(value: HeaderValue): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  return text === undefined || text.trim() === '' ? undefined : text.trim();
}

/** The fault `x-emulator-fault` asks for (`none` for none), else the one drawn. */
function forcedFault(headers: Record<string, HeaderValue>, drawn: FaultKind | undefined): FaultKind | undefined {
  const forced = headerText(headers[HEADERS.fault]);
  if (forced === undefined) return drawn;
  if (forced === 'none') return undefined;
  if ((FAULT_KINDS as readonly string[]).includes(forced)) return forced as FaultKind;
  throw new InvalidHeaderError({
    header: HEADERS.fault,
    message: `Invalid ${HEADERS.fault} "${forced}": use one of ${[...FAULT_KINDS, 'none'].join(', ')}`,
  });
}

/** The status `x-emulator-fail-status` asks for (`none` for none), else the one drawn. */
function forcedFailStatus(headers: Record<string, HeaderValue>, drawn: number | undefined): number | undefined {
  const forced = headerText(headers[HEADERS.failStatus]);
  if (forced === undefined) return drawn;
  if (forced === 'none') return undefined;
  const status = Number(forced);
  if (Number.isInteger(status) && status >= 400 && status <= 599) return status;
  throw new InvalidHeaderError({
    header: HEADERS.failStatus,
    message: `Invalid ${HEADERS.failStatus} "${forced}": use an HTTP status from 400 to 599, or none`,
  });
}

/** The latency `x-emulator-latency-ms` fixes for one request, if any. */
function forcedLatency(headers: Record<string, HeaderValue>): number | undefined {
  const forced = headerText(headers[HEADERS.latency]);
  if (forced === undefined) return undefined;
  const latency = safeDuration(forced);
  if (latency === undefined) {
    throw new InvalidHeaderError({ header: HEADERS.latency, message: `Invalid ${HEADERS.latency} "${forced}": use milliseconds, like 300 or "2s"` });
  }
  return latency;
}

/** The emulator's dice: one seeded generator behind latency, failures, faults and ids. */
export function createFaultShaper(options: ShaperOptions = {}) {
  const latency = normalizeLatency(options.latency);
  const limit = normalizeRateLimit(options.rateLimit);
  const failures = normalizeFailRate(options.failRate);
  const faults = FAULT_KINDS.filter((kind) => (options.faults?.[kind] ?? 0) > 0).map(
    (kind) => [kind, options.faults![kind]!] as const,
  );
  const now = options.now ?? Date.now;
  const initialSeed = options.seed ?? Math.floor(Math.random() * 2 ** 32);
  let random = createRandom(initialSeed);
  let window = { startedAt: Number.NEGATIVE_INFINITY, count: 0 };

  const randomLatency = () => latency.fixedMs + random() * latency.jitterMs;

  return {
    random: () => random(),

    /** Counts one request against the window; `undefined` when there is no limit. */
    takeRateLimit(): RateLimitState | undefined {
      if (limit === undefined) return undefined;
      const time = now();
      if (time - window.startedAt >= limit.windowMs) window = { startedAt: time, count: 0 };
      const allowed = window.count < limit.requests;
      if (allowed) window.count++;
      return {
        allowed,
        limit: limit.requests,
        remaining: limit.requests - window.count,
        resetMs: Math.max(0, window.startedAt + limit.windowMs - time),
      };
    },

    /**
     * Decides a request's fate. Draws the same number of values whatever the outcome, so one
     * forced header does not shift the faults of the requests after it.
     */
    plan(headers: Record<string, HeaderValue>): RequestPlan {
      // Both drawn before a header can be refused, so an invalid one shifts nothing either.
      const faultDraw = random();
      const failDraw = random();
      const fault = forcedFault(headers, pick(faultDraw, faults));
      const failStatus = forcedFailStatus(headers, pick(failDraw, failures));
      const fixedLatency = forcedLatency(headers);
      return {
        fault,
        failStatus,
        latencyMs(images) {
          if (fixedLatency !== undefined) return fixedLatency;
          if (latency.per === 'request') return randomLatency();
          let total = 0;
          for (let index = 0; index < images; index++) total += randomLatency();
          return total;
        },
      };
    },

    /** Starts the rate-limit window and the generator over, as at start-up. */
    reset(): void {
      random = createRandom(initialSeed);
      window = { startedAt: Number.NEGATIVE_INFINITY, count: 0 };
    },
  };
}

export type FaultShaper = ReturnType<typeof createFaultShaper>;

/** A body cut to half its length: what a client reads when the connection drops midway. */
export function truncateBody(body: string): string {
  return body.slice(0, Math.floor(body.length / 2));
}

/** Base64 made invalid the way a broken proxy would: characters outside the alphabet, bad length. */
export function corruptBase64(base64: string): string {
  const middle = Math.floor(base64.length / 2);
  return `${base64.slice(0, middle)}*%$#${base64.slice(middle + 1)}`;
}
