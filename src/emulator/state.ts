import type { IncomingMessage, ServerResponse } from 'node:http';
import { createFaultShaper, FAULT_KINDS, type FaultKind, type FaultShaper } from './faults.js';
import { sendJson, type JsonResult, type ResponseHeaders } from './http.js';
import { ImageStore } from './image-store.js';
import { servedModels, type ServedModels } from './models.js';
import { createSafetyChecker } from './safety.js';
import type { EmulatorOptions, EmulatorStats, RecordedRequest } from './types.js';
import { togetherError, type EmulatorError, type TogetherErrorBody } from './validate.js';

/** Recorded requests kept, so memory stays flat in long runs. */
const MAX_RECORDED_REQUESTS = 1000;
/** The most request-body text `requests()` holds at once. */
const DEFAULT_RECORDED_BODY_BYTES = 64 * 1024 * 1024;
/** Default byte budget of the URL image store. */
const DEFAULT_STORED_IMAGE_BYTES = 64 * 1024 * 1024;

/** What one running emulator knows and counts, shared by its handlers. */
export type EmulatorState = {
  readonly options: EmulatorOptions;
  readonly shaper: FaultShaper;
  readonly isUnsafe: (prompt: string) => string | undefined;
  readonly log: ((line: string) => void) | undefined;
  readonly store: ImageStore;
  readonly models: ServedModels;
  /** One per generation request in progress: aborted to cut its waits short on close. */
  readonly pending: Set<AbortController>;
  stats: EmulatorStats;
  recorded: RecordedRequest[];
  /** The size of each recorded body still held (0 once dropped), and their sum. */
  recordedBodyBytes: number[];
  recordedBytes: number;
  fileCounter: number;
  errorCounter: number;
  /** `http://host:port`, known once the server listens. */
  origin: string;
};

export function createEmulatorState(options: EmulatorOptions): EmulatorState {
  return {
    options,
    shaper: createFaultShaper(options),
    isUnsafe: createSafetyChecker(options.safetyWords),
    log: options.quiet ? undefined : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`))),
    store: new ImageStore(options.maxStoredImageBytes ?? DEFAULT_STORED_IMAGE_BYTES),
    models: servedModels(options.extraModels),
    pending: new Set(),
    stats: emptyStats(),
    recorded: [],
    recordedBodyBytes: [],
    recordedBytes: 0,
    fileCounter: 0,
    errorCounter: 0,
    origin: '',
  };
}

/** Sends JSON; error bodies get an `id`, as Together's do, from a counter (no draw from the seeded generator). */
export function sendResult(state: EmulatorState, response: ServerResponse, result: JsonResult, headers: ResponseHeaders = {}): void {
  if (result.status >= 400 && typeof result.body === 'object' && result.body !== null && 'error' in result.body) {
    const body = result.body as TogetherErrorBody;
    result = { status: result.status, body: { id: `${(++state.errorCounter).toString(36).padStart(7, '0')}-EMU-error`, ...body } };
  }
  sendJson(response, result, headers);
}

/** A 401 unless the request carries a bearer key the emulator accepts. */
export function checkKey(state: EmulatorState, request: IncomingMessage): EmulatorError | undefined {
  const match = /^Bearer\s+(\S.*)$/i.exec(request.headers.authorization ?? '');
  const key = match?.[1]?.trim();
  const { apiKey } = state.options;
  if (key === undefined || key === '' || (apiKey !== undefined && key !== apiKey)) {
    return togetherError(401, key === undefined ? { message: 'Missing API key: send Authorization: Bearer <key>' } : {});
  }
  return undefined;
}

/**
 * Keeps a request for `requests()`: the last 1,000, and the bodies of only as many of them as fit in
 * `maxRecordedBodyBytes` (64 MB; older bodies are dropped first; the request stays, its body `undefined`).
 */
export function recordRequest(state: EmulatorState, request: IncomingMessage, body: unknown, bodyBytes: number): void {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(request.headers)) {
    if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  const maxBytes = state.options.maxRecordedBodyBytes ?? DEFAULT_RECORDED_BODY_BYTES;
  const kept = bodyBytes <= maxBytes;
  state.recorded.push({ method: request.method ?? 'POST', path: new URL(request.url ?? '/', 'http://emulator').pathname, headers, body: kept ? body : undefined });
  state.recordedBodyBytes.push(kept ? bodyBytes : 0);
  state.recordedBytes += kept ? bodyBytes : 0;
  if (state.recorded.length > MAX_RECORDED_REQUESTS) {
    state.recorded.shift();
    state.recordedBytes -= state.recordedBodyBytes.shift() ?? 0;
  }
  for (let index = 0; state.recordedBytes > maxBytes && index < state.recorded.length; index++) {
    if (state.recordedBodyBytes[index] === 0) continue;
    state.recordedBytes -= state.recordedBodyBytes[index]!;
    state.recordedBodyBytes[index] = 0;
    state.recorded[index] = { ...state.recorded[index]!, body: undefined };
  }
}

export function countStatus(state: EmulatorState, status: number): void {
  state.stats.byStatus[status] = (state.stats.byStatus[status] ?? 0) + 1;
}

export function snapshotStats({ stats }: EmulatorState): EmulatorStats {
  return { ...stats, byStatus: { ...stats.byStatus }, faults: { ...stats.faults } };
}

/** Zeroes the counters (requests in flight stay counted), forgets recorded requests, re-seeds. */
export function resetState(state: EmulatorState): void {
  state.stats = { ...emptyStats(), inFlight: state.stats.inFlight };
  state.recorded = [];
  state.recordedBodyBytes = [];
  state.recordedBytes = 0;
  state.shaper.reset();
}

function emptyStats(): EmulatorStats {
  return {
    requests: 0,
    images: 0,
    byStatus: {},
    faults: Object.fromEntries(FAULT_KINDS.map((kind) => [kind, 0])) as Record<FaultKind, number>,
    downloads: 0,
    inFlight: 0,
  };
}
