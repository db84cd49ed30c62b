import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { Ajv } from 'ajv';
import { readFileSync } from 'node:fs';
import Together from 'together-ai';
import { afterAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'test-key';
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
const VALID = { model: SCHNELL, prompt: 'a cat', width: 256, height: 256, response_format: 'base64' };
/** Fails validation (width not a multiple of 8): cheap to answer, so injected failures show plainly. */
const INVALID = { model: SCHNELL, prompt: 'a cat', width: 250, height: 256 };

const ajv = new Ajv({ strict: false, discriminator: true });
ajv.addSchema(parse(readFileSync(new URL('./fixtures/together-images-openapi.yaml', import.meta.url), 'utf8')) as object, 'together');
const isErrorData = ajv.getSchema('together#/components/schemas/ErrorData')!;
const isImageResponse = ajv.getSchema('together#/components/schemas/ImageResponse')!;

const emulators: Emulator[] = [];

async function started(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1, ...options });
  emulators.push(emulator);
  return emulator;
}

afterAll(async () => {
  await Promise.all(emulators.map((emulator) => emulator.close()));
});

function send(emulator: Emulator, body: unknown, headers: Record<string, string> = {}, signal?: AbortSignal): Promise<Response> {
  return fetch(`${emulator.url}/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: JSON.stringify(body),
    ...(signal === undefined ? {} : { signal }),
  });
}

/** Status and body of a response, checked against the official schema. */
async function post(emulator: Emulator, body: unknown, headers: Record<string, string> = {}) {
  const response = await send(emulator, body, headers);
  const json = (await response.json()) as unknown;
  expect(response.ok ? isImageResponse(json) : isErrorData(json), JSON.stringify(json).slice(0, 200)).toBe(true);
  return { status: response.status, headers: response.headers, json };
}

/** The status, or the fault a client meets instead. */
async function outcome(emulator: Emulator, body: unknown): Promise<number | 'failed'> {
  try {
    return (await post(emulator, body)).status;
  } catch {
    return 'failed';
  }
}

const elapsed = async (action: () => Promise<unknown>) => {
  const start = performance.now();
  await action();
  return performance.now() - start;
};

const aiSdkCall = (emulator: Emulator, headers: Record<string, string> = {}) =>
  generateImage({
    model: createTogetherAI({ apiKey: KEY, baseURL: emulator.url, headers }).image(SCHNELL),
    prompt: 'a cat',
    size: '256x256',
    maxRetries: 0,
  });

describe('rate limit', () => {
  test('429 with retry-after and x-ratelimit-* headers, on successes too; the window reopens', async () => {
    let time = 1_000_000;
    const emulator = await started({ rateLimit: '2/min', now: () => time });
    const limitHeaders = (headers: Headers) =>
      Object.fromEntries(['x-ratelimit-limit', 'x-ratelimit-remaining', 'x-ratelimit-reset', 'retry-after'].map((name) => [name, headers.get(name)]));

    const first = await post(emulator, VALID);
    expect([first.status, limitHeaders(first.headers)]).toEqual([
      200,
      { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '1', 'x-ratelimit-reset': '60', 'retry-after': null },
    ]);
    time += 10_000;
    expect(limitHeaders((await post(emulator, VALID)).headers)).toMatchObject({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '50' });

    const limited = await post(emulator, VALID);
    expect([limited.status, limitHeaders(limited.headers)]).toEqual([
      429,
      { 'x-ratelimit-limit': '2', 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '50', 'retry-after': '50' },
    ]);
    expect(limited.json).toMatchObject({ error: { code: 'rate_limit_exceeded' } });

    time += 50_000;
    expect((await post(emulator, VALID)).status).toBe(200);
    expect(emulator.stats().byStatus).toEqual({ 200: 3, 429: 1 });
  });

  test('reset() and POST /_emulator/reset restart the window', async () => {
    const emulator = await started({ rateLimit: { requests: 1, windowMs: 60_000 } });
    expect((await post(emulator, INVALID)).status).toBe(400);
    expect((await post(emulator, INVALID)).status).toBe(429);
    emulator.reset();
    expect((await post(emulator, INVALID)).status).toBe(400);
    await fetch(`${emulator.url.replace(/\/v1$/, '')}/_emulator/reset`, { method: 'POST' });
    expect((await post(emulator, INVALID)).status).toBe(400);
  });

  test('the AI SDK sees a retryable 429', async () => {
    const emulator = await started({ rateLimit: 1 });
    await post(emulator, INVALID);
    await expect(aiSdkCall(emulator)).rejects.toMatchObject({ statusCode: 429, isRetryable: true });
  });
});

describe('error statuses', () => {
  test.each([500, 502, 503, 504])('x-emulator-fail-status: %i', async (status) => {
    const emulator = await started();
    const response = await post(emulator, VALID, { 'x-emulator-fail-status': String(status) });
    expect(response.status).toBe(status);
    expect(response.json).toMatchObject({ error: { type: 'server_error' } });
    expect((await post(emulator, VALID)).status).toBe(200);
  });

  test('a fail rate per status, drawn from the seed: the same seed fails the same requests', async () => {
    const run = async () => {
      const emulator = await started({ failRate: { 500: 0.3, 503: 0.3 }, seed: 7 });
      const statuses = [];
      for (let index = 0; index < 30; index++) statuses.push(await outcome(emulator, INVALID));
      return { statuses, byStatus: emulator.stats().byStatus };
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first.statuses)).toEqual(new Set([400, 500, 503]));
    expect(first.byStatus).toEqual({
      400: first.statuses.filter((status) => status === 400).length,
      500: first.statuses.filter((status) => status === 500).length,
      503: first.statuses.filter((status) => status === 503).length,
    });
  });

  test('a single fail rate spreads over 500, 502, 503 and 504; the header can turn it off', async () => {
    const emulator = await started({ failRate: 1 });
    const statuses = new Set<number | 'failed'>();
    for (let index = 0; index < 40; index++) statuses.add(await outcome(emulator, INVALID));
    expect(statuses).toEqual(new Set([500, 502, 503, 504]));
    expect((await post(emulator, INVALID, { 'x-emulator-fail-status': 'none' })).status).toBe(400);
  });

  test('invalid control headers are a 400 naming the header', async () => {
    const emulator = await started();
    for (const [header, value] of [['x-emulator-fault', 'explode'], ['x-emulator-fail-status', '200'], ['x-emulator-latency-ms', 'soon']]) {
      const response = await post(emulator, VALID, { [header!]: value! });
      expect([response.status, response.json]).toMatchObject([400, { error: { param: header } }]);
    }
  });
});

describe('faults', () => {
  test('reset: the connection is dropped', async () => {
    const emulator = await started();
    await expect(send(emulator, VALID, { 'x-emulator-fault': 'reset' })).rejects.toThrow(TypeError);
    await expect(aiSdkCall(emulator, { 'x-emulator-fault': 'reset' })).rejects.toThrow();
    expect(emulator.stats().faults.reset).toBe(2);
  });

  test('hang: no answer until the client gives up', async () => {
    const emulator = await started();
    const abort = new AbortController();
    const hung = send(emulator, VALID, { 'x-emulator-fault': 'hang' }, abort.signal);
    setTimeout(() => abort.abort(), 100);
    await expect(hung).rejects.toMatchObject({ name: 'AbortError' });

    const client = new Together({ apiKey: KEY, baseURL: emulator.url, maxRetries: 0, timeout: 100, defaultHeaders: { 'x-emulator-fault': 'hang' } });
    await expect(client.images.generate({ model: SCHNELL, prompt: 'a cat' })).rejects.toBeInstanceOf(Together.APIConnectionTimeoutError);
    expect(emulator.stats().faults.hang).toBe(2);
    await expect.poll(() => emulator.stats().inFlight).toBe(0);
  });

  test('close() drops hung connections', async () => {
    const emulator = await startEmulator({ quiet: true, faults: { hang: 1 } });
    const hung = send(emulator, VALID);
    await expect.poll(() => emulator.stats().inFlight).toBe(1);
    // server.close() alone waits for open connections, and a hung one never ends: close() resolving is the proof.
    await emulator.close();
    await expect(hung).rejects.toThrow(TypeError);
    expect(emulator.stats()).toMatchObject({ requests: 1, faults: { hang: 1 } });
    await expect.poll(() => emulator.stats().inFlight).toBe(0);
  });

  test('truncate: the body stops short of its content-length', async () => {
    const emulator = await started();
    const response = await send(emulator, VALID, { 'x-emulator-fault': 'truncate' });
    expect(response.status).toBe(200);
    await expect(response.text()).rejects.toThrow();
    await expect(aiSdkCall(emulator, { 'x-emulator-fault': 'truncate' })).rejects.toThrow();
    expect(emulator.stats().faults.truncate).toBe(2);
  });

  test('malformed-json: a complete 200 whose body is not JSON', async () => {
    const emulator = await started();
    const response = await send(emulator, VALID, { 'x-emulator-fault': 'malformed-json' });
    expect(response.status).toBe(200);
    const text = await response.text();
    expect(text.startsWith('{"id":')).toBe(true);
    expect(() => JSON.parse(text)).toThrow(SyntaxError);
    await expect(aiSdkCall(emulator, { 'x-emulator-fault': 'malformed-json' })).rejects.toThrow();
  });

  test('invalid-base64: b64_json that is not base64', async () => {
    const emulator = await started();
    const { status, json } = await post(emulator, { ...VALID, n: 2 }, { 'x-emulator-fault': 'invalid-base64' });
    expect(status).toBe(200);
    for (const item of (json as { data: { b64_json: string }[] }).data) {
      expect(item.b64_json).not.toMatch(/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/);
    }
    expect(emulator.stats().faults['invalid-base64']).toBe(1);
  });

  test('fault rates are drawn from the seed: the same seed breaks the same requests', async () => {
    const run = async () => {
      const emulator = await started({ faults: { reset: 0.5 }, seed: 3 });
      const outcomes = [];
      for (let index = 0; index < 20; index++) outcomes.push(await outcome(emulator, INVALID));
      return outcomes;
    };
    const first = await run();
    expect(await run()).toEqual(first);
    expect(new Set(first)).toEqual(new Set([400, 'failed']));
  });
});

describe('latency', () => {
  test('per image: a request for n images waits n times as long', async () => {
    const emulator = await started({ latency: { fixedMs: 60, per: 'image' } });
    expect(await elapsed(() => post(emulator, { ...VALID, n: 3 }))).toBeGreaterThanOrEqual(175);
  });

  test('per request, with jitter, and overridden by x-emulator-latency-ms', async () => {
    const emulator = await started({ latency: { fixedMs: 40, jitterMs: 20 } });
    const time = await elapsed(() => post(emulator, VALID));
    expect(time).toBeGreaterThanOrEqual(38);
    expect(await elapsed(() => post(emulator, VALID, { 'x-emulator-latency-ms': '0.15s' }))).toBeGreaterThanOrEqual(145);
  });

  test('timings.inference reports the time spent per image', async () => {
    const emulator = await started({ latency: '100ms' });
    const { json } = await post(emulator, { ...VALID, n: 2 });
    for (const item of (json as { data: { timings: { inference: number } }[] }).data) {
      expect(item.timings.inference).toBeGreaterThanOrEqual(0.045);
    }
  });
});
