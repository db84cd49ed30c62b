import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadSharp } from '../files/sharp.js';
import { renderPixels, renderPlaceholder } from '../placeholder/render.js';
import { corruptBase64, InvalidHeaderError, truncateBody, type FaultKind, type FaultShaper, type RequestPlan } from './faults.js';
import { parseJson, rateLimitHeaders, readBody, waitUntil, type JsonResult, type ResponseHeaders } from './http.js';
import { checkKey, countStatus, recordRequest, sendResult, type EmulatorState } from './state.js';
import { togetherError, validateGeneration, type EmulatorError, type GenerationRequest } from './validate.js';

/**
 * `POST /v1/images/generations`, in the order Together answers: key, rate limit, body size; then
 * injected faults and failures; then validation, the account and the safety checker; then images.
 */
export async function handleGeneration(state: EmulatorState, request: IncomingMessage, response: ServerResponse, started: number): Promise<void> {
  const exchange = openExchange(state, response, started);
  const admitted = await admit(state, request);
  if ('refused' in admitted) return exchange.answer(admitted.refused, admitted.headers);
  const { limitHeaders } = admitted;
  const decision = decide(state, request, admitted.parsed, started);
  if ('refused' in decision) return exchange.answer(decision.refused, limitHeaders);
  if (await injectFailure(state, request, exchange, decision, limitHeaders)) return;
  if ('error' in decision.validation) return exchange.answer(decision.validation.error, limitHeaders);
  const generation = decision.validation.request;
  const refused = refusal(state, generation);
  if (refused) return exchange.answer(refused, limitHeaders);
  await sendImages(state, response, exchange, { generation, decision, limitHeaders, started });
}

/** One generation request on its way: its abort signal, its log line and its JSON answers. */
type Exchange = {
  readonly signal: AbortSignal;
  /** Logs the outcome: a status or the name of a fault. */
  finish(outcome: string | number): void;
  /** Counts and sends a JSON result, then logs it. */
  answer(result: JsonResult, headers?: ResponseHeaders): void;
};

function openExchange(state: EmulatorState, response: ServerResponse, started: number): Exchange {
  state.stats.requests++;
  state.stats.inFlight++;
  // Aborted when the client goes away or the emulator closes, to cut latency waits short. A set
  // rather than listeners on one shared signal, which Node warns about past ten.
  const abort = new AbortController();
  state.pending.add(abort);
  response.on('close', () => {
    state.stats.inFlight--;
    state.pending.delete(abort);
    abort.abort();
  });
  const finish = (outcome: string | number) =>
    state.log?.(`POST /v1/images/generations ${outcome} ${Math.round(performance.now() - started)}ms`);
  return {
    signal: abort.signal,
    finish,
    answer(result, headers = {}) {
      countStatus(state, result.status);
      sendResult(state, response, result, headers);
      finish(result.status);
    },
  };
}

type ParsedBody = { value: unknown } | { error: EmulatorError };

/** The checks made before anything is drawn: key, then (reading and recording the body) rate limit and size. */
async function admit(
  state: EmulatorState,
  request: IncomingMessage,
): Promise<{ parsed: ParsedBody; limitHeaders: ResponseHeaders } | { refused: EmulatorError; headers: ResponseHeaders }> {
  // The key first: a request without a good one is answered without its body being read or kept,
  // so no one without a key can fill the emulator's memory.
  const denied = checkKey(state, request);
  if (denied) {
    recordRequest(state, request, undefined, 0);
    request.resume();
    return { refused: denied, headers: {} };
  }
  const raw = await readBody(request);
  const parsed = raw === undefined ? undefined : parseJson(raw);
  recordRequest(state, request, parsed === undefined ? undefined : 'value' in parsed ? parsed.value : raw, raw?.length ?? 0);
  const limit = state.shaper.takeRateLimit();
  const limitHeaders = limit ? rateLimitHeaders(limit) : {};
  if (limit && !limit.allowed) {
    return { refused: togetherError(429), headers: { ...limitHeaders, 'retry-after': Math.max(1, Math.ceil(limit.resetMs / 1000)) } };
  }
  if (parsed === undefined) return { refused: togetherError(413), headers: limitHeaders };
  return { parsed, limitHeaders };
}

type Decision = {
  plan: RequestPlan;
  /** The validated request, or the error Together would answer (after any injected failure). */
  validation: { request: GenerationRequest } | { error: EmulatorError };
  /** When to answer, a `performance.now()` time. */
  deadline: number;
  responseId: string;
  firstSeed: number;
  /** Names in the image store, for `url` responses. */
  fileNames: string[];
};

/**
 * Every draw from the generator for one request happens here, synchronously and in this order, so
 * the outcome depends only on the seed and the order requests arrive in.
 */
function decide(state: EmulatorState, request: IncomingMessage, parsed: ParsedBody, started: number): Decision | { refused: EmulatorError } {
  let plan: RequestPlan;
  try {
    plan = state.shaper.plan(request.headers);
  } catch (error) {
    if (!(error instanceof InvalidHeaderError)) throw error;
    return { refused: togetherError(400, { message: error.message, param: error.header, code: 'invalid_header' }) };
  }
  const validation = 'error' in parsed ? parsed : validateGeneration(parsed.value, { extraModels: state.models.extra });
  const generation = 'request' in validation ? validation.request : undefined;
  const { random } = state.shaper;
  return {
    plan,
    validation,
    deadline: started + plan.latencyMs(generation?.n ?? 1),
    responseId: randomToken(random, 'request'),
    firstSeed: generation?.seed ?? Math.floor(random() * 2 ** 31),
    fileNames:
      generation?.responseFormat === 'url'
        ? Array.from({ length: generation.n }, () => `${(state.fileCounter++).toString(36)}-${randomToken(random, 'file')}.${generation.outputFormat}`)
        : [],
  };
}

/** A hang, a reset or an injected error status, after the latency; `true` when one took the request. */
async function injectFailure(
  state: EmulatorState,
  request: IncomingMessage,
  exchange: Exchange,
  { plan, deadline }: Decision,
  limitHeaders: ResponseHeaders,
): Promise<boolean> {
  if (plan.fault === 'hang') {
    state.stats.faults.hang++;
    exchange.finish('hang');
    return true; // Never answers; the socket closes when the client gives up or the emulator closes.
  }
  if (plan.fault === 'reset') {
    if (!(await waitUntil(deadline, exchange.signal))) return true;
    state.stats.faults.reset++;
    request.socket.resetAndDestroy();
    exchange.finish('reset');
    return true;
  }
  if (plan.failStatus === undefined) return false;
  if (!(await waitUntil(deadline, exchange.signal))) return true;
  const retryAfter = plan.failStatus === 429 || plan.failStatus === 503 ? { 'retry-after': 1 } : {};
  exchange.answer(togetherError(plan.failStatus), { ...limitHeaders, ...retryAfter });
  return true;
}

/** What the account or the safety checker refuses once the request itself is valid: 402, 403, 422. */
function refusal(state: EmulatorState, { model, prompt, disableSafetyChecker }: GenerationRequest): EmulatorError | undefined {
  if (state.options.outOfCredits) return togetherError(402);
  if (model.partner && state.options.partnerDataSharing === false) {
    return togetherError(403, { message: `${model.id} is served by a third-party partner: enable sharing data with partners in your account settings to use it.`, param: 'model' });
  }
  const unsafeWord = state.isUnsafe(prompt);
  if (unsafeWord === undefined || (disableSafetyChecker && model.safetyCheckerCanBeDisabled)) return undefined;
  const hint = model.safetyCheckerCanBeDisabled
    ? 'Set disable_safety_checker to true to skip the check.'
    : `The safety checker cannot be disabled for ${model.id}.`;
  return togetherError(422, { message: `The prompt was flagged by the safety checker ("${unsafeWord}"). ${hint}`, param: 'prompt' });
}

const MEDIA_TYPES = { png: 'image/png', jpeg: 'image/jpeg' } as const;

type Success = { generation: GenerationRequest; decision: Decision; limitHeaders: ResponseHeaders; started: number };

/** Renders the images, waits out the latency and sends the 200 (broken on purpose when the plan says so). */
async function sendImages(state: EmulatorState, response: ServerResponse, exchange: Exchange, success: Success): Promise<void> {
  const { generation, decision, limitHeaders, started } = success;
  const images = await renderImages(generation, decision.firstSeed);
  if (!(await waitUntil(decision.deadline, exchange.signal))) return;
  const timings = { inference: (performance.now() - started) / 1000 / generation.n };
  const corrupt = decision.plan.fault === 'invalid-base64' && generation.responseFormat === 'base64';
  if (corrupt) state.stats.faults['invalid-base64']++;
  const data = images.map((bytes, index) => {
    const file = decision.fileNames[index];
    if (file !== undefined) {
      state.store.put(file, { bytes, mediaType: MEDIA_TYPES[generation.outputFormat] });
      return { index, type: 'url', url: `${state.origin}/v1/images/files/${file}`, timings: { ...timings } };
    }
    const base64 = bytes.toString('base64');
    return { index, type: 'b64_json', b64_json: corrupt ? corruptBase64(base64) : base64, timings: { ...timings } };
  });
  state.stats.images += images.length;
  const text = JSON.stringify({ id: decision.responseId, model: generation.model.id, object: 'list', data });
  countStatus(state, 200);
  const fault = writeImageResponse(state, response, text, decision.plan.fault, { 'content-type': 'application/json', ...limitHeaders });
  exchange.finish(fault ?? (corrupt ? 'invalid-base64' : 200));
}

/** Writes a 200 with `text`, truncated or malformed when `fault` says so; returns the fault applied. */
function writeImageResponse(
  state: EmulatorState,
  response: ServerResponse,
  text: string,
  fault: FaultKind | undefined,
  headers: ResponseHeaders,
): 'truncate' | 'malformed-json' | undefined {
  if (fault === 'truncate') {
    state.stats.faults.truncate++;
    // The declared length is the full body's, so the client sees the connection drop midway.
    response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) });
    response.write(truncateBody(text), () => response.destroy());
    return 'truncate';
  }
  if (fault === 'malformed-json') {
    state.stats.faults['malformed-json']++;
    const broken = truncateBody(text);
    response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(broken) }).end(broken);
    return 'malformed-json';
  }
  response.writeHead(200, { ...headers, 'content-length': Buffer.byteLength(text) }).end(text);
  return undefined;
}

/**
 * The pictures, encoded with sharp where it is installed (off the event loop, in libvips' threads),
 * else with the placeholder renderer's pure-JS encoders (same pixels; fine for tests and demos).
 */
async function renderImages({ prompt, n, width, height, outputFormat, model }: GenerationRequest, firstSeed: number): Promise<Buffer[]> {
  const sharp = await loadSharp('The emulator').catch(() => undefined);
  const images: Promise<Buffer>[] = [];
  for (let index = 0; index < n; index++) {
    const picture = { prompt, seed: firstSeed + index, width, height, model: model.id };
    if (sharp === undefined) {
      const bytes = renderPlaceholder({ ...picture, format: outputFormat });
      images.push(Promise.resolve(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)));
      continue;
    }
    const image = sharp(renderPixels(picture), { raw: { width, height, channels: 3 } });
    images.push(outputFormat === 'png' ? image.png().toBuffer() : image.jpeg().toBuffer());
  }
  return Promise.all(images);
}

const ALPHABET = '0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';

/** Ids shaped like Together's (`oFuwv7Y-2kFHot-99170ebf9e84e0ce-SJC`), drawn from the seeded generator. */
function randomToken(random: FaultShaper['random'], kind: 'request' | 'file'): string {
  const chars = (length: number, alphabet: string) =>
    Array.from({ length }, () => alphabet[Math.floor(random() * alphabet.length)]).join('');
  return kind === 'request' ? `${chars(7, ALPHABET)}-${chars(6, ALPHABET)}-${chars(16, ALPHABET.slice(0, 16))}-EMU` : chars(16, ALPHABET);
}
