import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { loadSharp } from '../files/sharp.js';
import { DOCUMENTED_MODELS, type DocumentedModel } from './documented-models.js';
import { renderPixels } from '../render.js';
import {
  corruptBase64,
  createFaultShaper,
  FAULT_KINDS,
  HEADERS,
  InvalidHeaderError,
  truncateBody,
  type FailRate,
  type FaultKind,
  type FaultRates,
  type FaultShaper,
  type LatencyOptions,
  type RateLimitOptions,
  type RateLimitState,
} from './faults.js';
import { createSafetyChecker } from './safety.js';
import { togetherError, validateGeneration, type EmulatorError, type GenerationRequest, type TogetherErrorBody } from './validate.js';

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

const MAX_BODY_BYTES = 50 * 1024 * 1024;
/** Recorded requests kept, so memory stays flat in long runs. */
const MAX_RECORDED_REQUESTS = 1000;
/** The URL store evicts least recently used images past this, so memory stays flat in long runs. */
const DEFAULT_STORED_IMAGE_BYTES = 64 * 1024 * 1024;
const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg' } as const;
const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': `authorization, content-type, user-agent, ${Object.values(HEADERS).join(', ')}`,
  'access-control-expose-headers': 'retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
};

type Headers = Record<string, string | number>;

/**
 * Starts a local server that answers like Together's image API, for offline development, `curl`,
 * Together's SDKs and the AI SDK provider, with latency, rate limits and faults on demand.
 * @example
 * const emulator = await startEmulator({ latency: '300ms', rateLimit: '60/min', seed: 1 });
 * process.env.TOGETHER_BASE_URL = emulator.url;
 * // ...
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const shaper = createFaultShaper(options);
  const isUnsafe = createSafetyChecker(options.safetyWords);
  const log = options.quiet ? undefined : (options.log ?? ((line: string) => process.stderr.write(`${line}\n`)));
  const store = new ImageStore(options.maxStoredImageBytes ?? DEFAULT_STORED_IMAGE_BYTES);
  const pending = new Set<AbortController>();
  const createdAt = Math.floor(Date.now() / 1000);
  let stats = emptyStats();
  let recorded: RecordedRequest[] = [];
  let fileCounter = 0;
  let errorCounter = 0;
  let origin = '';
  const extraModels: DocumentedModel[] = (options.extraModels ?? []).map((model) => ({
    displayName: model.id,
    organization: organizationOf(model.id),
    partner: false,
    rejects: [],
    safetyCheckerCanBeDisabled: true,
    ...model,
  }));
  const listedModels = [...extraModels, ...DOCUMENTED_MODELS.filter((model) => !model.retired && !extraModels.some((extra) => extra.id === model.id))];

  /** Sends JSON; error bodies get an `id`, as Together's do, from a counter (no draw from the seeded generator). */
  const send = (response: ServerResponse, result: { status: number; body: unknown }, headers: Headers = {}) => {
    if (result.status >= 400 && typeof result.body === 'object' && result.body !== null && 'error' in result.body) {
      const body = result.body as TogetherErrorBody;
      result = { status: result.status, body: { id: `${(++errorCounter).toString(36).padStart(7, '0')}-EMU-error`, ...body } };
    }
    sendJson(response, result, headers);
  };

  const server = createServer((request, response) => {
    const started = performance.now();
    for (const [name, value] of Object.entries(CORS_HEADERS)) response.setHeader(name, value);
    route(request, response, started).catch((error: unknown) => {
      if (response.destroyed) return; // The client went away mid-request: nobody to tell.
      if (!response.headersSent) send(response, togetherError(500, { message: `Emulator error: ${String(error)}` }));
      else response.destroy();
    });
  });

  async function route(request: IncomingMessage, response: ServerResponse, started: number): Promise<void> {
    const path = new URL(request.url ?? '/', 'http://emulator').pathname.replace(/\/+$/, '') || '/';
    const method = request.method ?? 'GET';
    // Accept paths with or without `/v1`, so a base URL given either way works.
    const apiPath = path.startsWith('/v1/') ? path.slice(3) : path;

    if (method === 'OPTIONS') return void response.writeHead(204).end();
    if (path === '/_emulator/stats' && method === 'GET') return sendJson(response, { status: 200, body: snapshot() });
    if (path === '/_emulator/reset' && method === 'POST') {
      reset();
      return sendJson(response, { status: 200, body: { reset: true } });
    }
    if (apiPath === '/images/generations' && method === 'POST') return generate(request, response, started);
    if (apiPath === '/models' && method === 'GET') {
      const denied = checkKey(request);
      return send(response, denied ?? { status: 200, body: listedModels.map(describeModel) });
    }
    if (apiPath.startsWith('/images/files/') && (method === 'GET' || method === 'HEAD')) {
      return download(request, response, apiPath.slice('/images/files/'.length));
    }
    send(response, togetherError(404, { message: `No route for ${method} ${path}`, code: 'not_found' }));
  }

  async function generate(request: IncomingMessage, response: ServerResponse, started: number): Promise<void> {
    stats.requests++;
    stats.inFlight++;
    // Aborted when the client goes away or the emulator closes, to cut latency waits short. A set
    // rather than listeners on one shared signal, which Node warns about past ten.
    const requestAbort = new AbortController();
    pending.add(requestAbort);
    response.on('close', () => {
      stats.inFlight--;
      pending.delete(requestAbort);
      requestAbort.abort();
    });
    const signal = requestAbort.signal;
    const finish = (outcome: string | number) =>
      log?.(`POST /v1/images/generations ${outcome} ${Math.round(performance.now() - started)}ms`);
    const answer = (result: { status: number; body: unknown }, headers: Headers = {}) => {
      count(result.status);
      send(response, result, headers);
      finish(result.status);
    };

    const raw = await readBody(request);
    const parsed = raw === undefined ? undefined : parseJson(raw);
    record(request, parsed === undefined ? undefined : 'value' in parsed ? parsed.value : raw);

    const denied = checkKey(request);
    if (denied) return answer(denied);

    const limit = shaper.takeRateLimit();
    const limitHeaders = limit ? rateLimitHeaders(limit) : {};
    if (limit && !limit.allowed) {
      return answer(togetherError(429), { ...limitHeaders, 'retry-after': Math.max(1, Math.ceil(limit.resetMs / 1000)) });
    }
    if (parsed === undefined) return answer(togetherError(413), limitHeaders);

    // Every draw from the generator for this request happens in this synchronous block, so the
    // outcome depends only on the seed and the order requests arrive in.
    let plan;
    try {
      plan = shaper.plan(request.headers);
    } catch (error) {
      if (!(error instanceof InvalidHeaderError)) throw error;
      return answer(togetherError(400, { message: error.message, param: error.header, code: 'invalid_header' }), limitHeaders);
    }
    const validation = 'error' in parsed ? parsed : validateGeneration(parsed.value, { extraModels });
    const generation = 'request' in validation ? validation.request : undefined;
    const deadline = started + plan.latencyMs(generation?.n ?? 1);
    const responseId = randomToken(shaper.random, 'request');
    const firstSeed = generation?.seed ?? Math.floor(shaper.random() * 2 ** 31);
    const fileNames =
      generation?.responseFormat === 'url'
        ? Array.from({ length: generation.n }, () => `${(fileCounter++).toString(36)}-${randomToken(shaper.random, 'file')}.${generation.outputFormat}`)
        : [];

    if (plan.fault === 'hang') {
      stats.faults.hang++;
      finish('hang');
      return; // Never answers; the socket closes when the client gives up or the emulator closes.
    }
    if (plan.fault === 'reset') {
      if (!(await waitUntil(deadline, signal))) return;
      stats.faults.reset++;
      request.socket.resetAndDestroy();
      return finish('reset');
    }
    if (plan.failStatus !== undefined) {
      if (!(await waitUntil(deadline, signal))) return;
      const retryAfter = plan.failStatus === 429 || plan.failStatus === 503 ? { 'retry-after': 1 } : {};
      return answer(togetherError(plan.failStatus), { ...limitHeaders, ...retryAfter });
    }
    if (!generation) return answer((validation as { error: EmulatorError }).error, limitHeaders);
    if (options.outOfCredits) return answer(togetherError(402), limitHeaders);
    if (generation.model.partner && options.partnerDataSharing === false) {
      return answer(togetherError(403, { message: `${generation.model.id} is served by a third-party partner: enable sharing data with partners in your account settings to use it.`, param: 'model' }), limitHeaders);
    }

    const unsafeWord = isUnsafe(generation.prompt);
    if (unsafeWord !== undefined && !(generation.disableSafetyChecker && generation.model.safetyCheckerCanBeDisabled)) {
      const hint = generation.model.safetyCheckerCanBeDisabled
        ? 'Set disable_safety_checker to true to skip the check.'
        : `The safety checker cannot be disabled for ${generation.model.id}.`;
      return answer(
        togetherError(422, { message: `The prompt was flagged by the safety checker ("${unsafeWord}"). ${hint}`, param: 'prompt' }),
        limitHeaders,
      );
    }

    const images = await renderImages(generation, firstSeed);
    if (!(await waitUntil(deadline, signal))) return;
    const inference = (performance.now() - started) / 1000 / generation.n;
    const corrupt = plan.fault === 'invalid-base64' && generation.responseFormat === 'base64';
    if (corrupt) stats.faults['invalid-base64']++;
    const data = images.map((bytes, index) => {
      const timings = { inference };
      const file = fileNames[index];
      if (file !== undefined) {
        store.put(file, { bytes, mediaType: MEDIA_TYPES[generation.outputFormat] });
        return { index, type: 'url', url: `${origin}/v1/images/files/${file}`, timings };
      }
      const base64 = Buffer.from(bytes).toString('base64');
      return { index, type: 'b64_json', b64_json: corrupt ? corruptBase64(base64) : base64, timings };
    });
    stats.images += images.length;
    const text = JSON.stringify({ id: responseId, model: generation.model.id, object: 'list', data });

    count(200);
    const headers = { 'content-type': 'application/json', ...limitHeaders };
    if (plan.fault === 'truncate') {
      stats.faults.truncate++;
      // The declared length is the full body's, so the client sees the connection drop midway.
      response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) });
      response.write(truncateBody(text), () => response.destroy());
      return finish('truncate');
    }
    if (plan.fault === 'malformed-json') {
      stats.faults['malformed-json']++;
      const broken = truncateBody(text);
      response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(broken) }).end(broken);
      return finish('malformed-json');
    }
    response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) }).end(text);
    finish(corrupt ? 'invalid-base64' : 200);
  }

  async function renderImages({ prompt, n, width, height, outputFormat, model }: GenerationRequest, firstSeed: number) {
    const sharp = await loadSharp('The emulator');
    const images: Promise<Buffer>[] = [];
    for (let index = 0; index < n; index++) {
      const pixels = renderPixels({ prompt, seed: firstSeed + index, width, height, model: model.id });
      const image = sharp(pixels, { raw: { width, height, channels: 3 } });
      images.push(outputFormat === 'png' ? image.png().toBuffer() : image.jpeg().toBuffer());
    }
    return Promise.all(images);
  }

  function download(request: IncomingMessage, response: ServerResponse, file: string): void {
    stats.downloads++;
    const finish = (status: number) => log?.(`${request.method} /v1/images/files/${file} ${status}`);
    // Together's CDN turns away downloads without a User-Agent; clients must learn to send one.
    if ((request.headers['user-agent'] ?? '').trim() === '') {
      response.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: send a non-empty User-Agent header\n');
      return finish(403);
    }
    const image = store.get(decodeURIComponent(file));
    if (!image) {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found (the image expired or never existed)\n');
      return finish(404);
    }
    response
      .writeHead(200, { 'content-type': image.mediaType, 'content-length': image.bytes.length, 'cache-control': 'private, max-age=3600' })
      .end(image.bytes);
    finish(200);
  }

  function checkKey(request: IncomingMessage): EmulatorError | undefined {
    const match = /^Bearer\s+(\S.*)$/i.exec(request.headers.authorization ?? '');
    const key = match?.[1]?.trim();
    if (key === undefined || key === '' || (options.apiKey !== undefined && key !== options.apiKey)) {
      return togetherError(401, key === undefined ? { message: 'Missing API key: send Authorization: Bearer <key>' } : {});
    }
    return undefined;
  }

  /** `ModelInfo` of the official schema; prices are not part of the emulator's account (0). */
  function describeModel(model: DocumentedModel) {
    return {
      id: model.id,
      object: 'model',
      created: createdAt,
      type: 'image',
      display_name: model.displayName,
      organization: model.organization,
      link: `https://api.together.ai/models/${model.id}`,
      license: '',
      context_length: 0,
      pricing: { base: 0, input: 0, output: 0, hourly: 0, finetune: 0 },
    };
  }

  function record(request: IncomingMessage, body: unknown): void {
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(request.headers)) {
      if (value !== undefined) headers[name] = Array.isArray(value) ? value.join(', ') : value;
    }
    recorded.push({ method: request.method ?? 'POST', path: new URL(request.url ?? '/', 'http://emulator').pathname, headers, body });
    if (recorded.length > MAX_RECORDED_REQUESTS) recorded.shift();
  }

  const count = (status: number) => {
    stats.byStatus[status] = (stats.byStatus[status] ?? 0) + 1;
  };

  const snapshot = (): EmulatorStats => ({ ...stats, byStatus: { ...stats.byStatus }, faults: { ...stats.faults } });

  function reset(): void {
    stats = { ...emptyStats(), inFlight: stats.inFlight };
    recorded = [];
    shaper.reset();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${origin}/v1`,
    port,
    stats: snapshot,
    requests: () => [...recorded],
    reset,
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const controller of pending) controller.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
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

function sendJson(response: ServerResponse, { status, body }: { status: number; body: unknown }, headers: Headers = {}): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

function rateLimitHeaders(state: RateLimitState): Headers {
  return {
    'x-ratelimit-limit': state.limit,
    'x-ratelimit-remaining': state.remaining,
    'x-ratelimit-reset': Math.ceil(state.resetMs / 1000),
  };
}

/** The body as text, or `undefined` when it is over the limit (the rest is read and dropped). */
async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

function parseJson(text: string): { value: unknown } | { error: EmulatorError } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { error: togetherError(400, { message: 'The request body is not valid JSON', param: 'body', code: 'invalid_json' }) };
  }
}

/** Waits until `deadline` (a `performance.now()` time); `false` when the request or server went away. */
async function waitUntil(deadline: number, signal: AbortSignal): Promise<boolean> {
  const remaining = deadline - performance.now();
  if (signal.aborted) return false;
  if (remaining <= 0) return true;
  try {
    await sleep(remaining, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ids shaped like Together's (`oFuwv7Y-2kFHot-99170ebf9e84e0ce-SJC`), drawn from the seeded generator. */
function randomToken(random: FaultShaper['random'], kind: 'request' | 'file'): string {
  const chars = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  return kind === 'request' ? `${chars(7, ALPHABET)}-${chars(6, ALPHABET)}-${chars(16, ALPHABET.slice(0, 16))}-EMU` : chars(16, ALPHABET);
}

/** `black-forest-labs/FLUX.1-dev` → `Black Forest Labs`. */
function organizationOf(modelId: string): string {
  const owner = modelId.split('/')[0] ?? modelId;
  return owner
    .split('-')
    .map((word) => word.charAt(0).toUpperCase() + word.slice(1))
    .join(' ');
}

type StoredImage = { bytes: Buffer; mediaType: string };

/** Images behind `url` responses, least recently used evicted first once over `maxBytes`. */
class ImageStore {
  readonly #images = new Map<string, StoredImage>();
  #bytes = 0;

  constructor(readonly maxBytes: number) {}

  put(name: string, image: StoredImage): void {
    this.#images.set(name, image);
    this.#bytes += image.bytes.length;
    for (const [oldest, stored] of this.#images) {
      if (this.#bytes <= this.maxBytes || oldest === name) break;
      this.#images.delete(oldest);
      this.#bytes -= stored.bytes.length;
    }
  }

  get(name: string): StoredImage | undefined {
    const image = this.#images.get(name);
    if (image) {
      // Re-insert to mark it most recently used (a Map iterates in insertion order).
      this.#images.delete(name);
      this.#images.set(name, image);
    }
    return image;
  }
}

/**
 * The text the CLI prints at start: the base URL, how to point ai-imagegen, curl and Together's
 * SDKs at it, and the control endpoints.
 * @example console.log(describeEmulator(emulator.url, { apiKey: 'KEY' }))
 */
export function describeEmulator(url: string, { apiKey }: { apiKey?: string | undefined } = {}): string {
  const base = url.replace(/\/+$/, '');
  const origin = base.replace(/\/v1$/, '');
  const key = apiKey ?? 'emulator';
  return [
    `Together emulator listening on ${base}`,
    '',
    'Point ai-imagegen at it:',
    `  export TOGETHER_BASE_URL=${base} TOGETHER_API_KEY=${key}`,
    '',
    'Try it with curl:',
    `  curl -s ${base}/images/generations \\`,
    `    -H "Authorization: Bearer ${key}" -H "Content-Type: application/json" \\`,
    `    -d '{"model":"black-forest-labs/FLUX.1-schnell","prompt":"a lighthouse at dusk","width":256,"height":256,"response_format":"base64"}'`,
    '',
    "Together's SDKs:",
    `  TypeScript: new Together({ apiKey: '${key}', baseURL: '${base}' })`,
    `  Python:     Together(api_key="${key}", base_url="${base}")`,
    '',
    `Stats: curl ${origin}/_emulator/stats    Reset: curl -X POST ${origin}/_emulator/reset`,
    `Per request: ${HEADERS.latency}: 300, ${HEADERS.failStatus}: 503, ${HEADERS.fault}: ${FAULT_KINDS.join('|')}`,
  ].join('\n');
}
