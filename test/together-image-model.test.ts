import { APICallError, InvalidArgumentError, JSONParseError, TypeValidationError, type ImageModelV3, type ImageModelV3CallOptions } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { InvalidResponseError, ProviderError, RateLimitError } from '../src/errors/errors.js';
import { toImagegenError } from '../src/errors/provider-errors.js';
import { TogetherImageModel } from '../src/providers/together/image-model.js';
import { VERSION } from '../src/version.js';
import { SMALL_PNG } from './helpers/fixtures.js';

const KEY = 'test-key-image-model';
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
const PNG_BASE64 = Buffer.from(SMALL_PNG).toString('base64');
const CONTEXT = { provider: 'togetherai', modelId: SCHNELL, environmentVariables: ['TOGETHER_API_KEY'] };

/** What one request to the raw server was, byte for byte. */
type Exchange = { text: string; headers: IncomingHttpHeaders };
/** How the raw server answers the request with this (0-based) number. */
type Answer = 'reset' | 'hang' | { status?: number; headers?: Record<string, string>; body: string };

/** A bare HTTP server on 127.0.0.1 that records raw request bodies and answers as told. */
async function startRawServer() {
  const exchanges: Exchange[] = [];
  let answer: (index: number) => Answer = () => ({ body: JSON.stringify({ id: 'raw-1', data: [{ index: 0, b64_json: PNG_BASE64 }] }) });
  const server = createServer((request, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      exchanges.push({ text: Buffer.concat(chunks).toString('utf8'), headers: request.headers });
      const reply = answer(exchanges.length - 1);
      if (reply === 'hang') return;
      if (reply === 'reset') return void request.socket.destroy();
      response.writeHead(reply.status ?? 200, { 'content-type': 'application/json', ...reply.headers });
      response.end(reply.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`,
    exchanges: () => [...exchanges],
    answer(next: (index: number) => Answer) {
      answer = next;
    },
    reset() {
      exchanges.length = 0;
    },
    close: () => {
      server.closeAllConnections();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

// The AI SDK model's wrong aspectRatio warning would be printed by generateImage otherwise.
(globalThis as { AI_SDK_LOG_WARNINGS?: unknown }).AI_SDK_LOG_WARNINGS = false;

let raw: Awaited<ReturnType<typeof startRawServer>>;
let emulator: Emulator;
beforeAll(async () => {
  raw = await startRawServer();
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 7 });
});
afterAll(async () => {
  await raw.close();
  await emulator.close();
});
afterEach(() => {
  raw.reset();
  raw.answer(() => ({ body: JSON.stringify({ id: 'raw-1', data: [{ index: 0, b64_json: PNG_BASE64 }] }) }));
  emulator.reset();
});

/** The AI SDK's Together model, and ours built from its config (key, base URL, headers) as an app's would be. */
function modelPair(baseURL: string, modelId = SCHNELL) {
  const sdkModel = createTogetherAI({ apiKey: KEY, baseURL }).image(modelId);
  const config = (sdkModel as unknown as { config: { baseURL: string; headers: () => Record<string, string | undefined> } }).config;
  const ours = new TogetherImageModel({ modelId, baseURL: config.baseURL, headers: config.headers, maxImagesPerCall: 4, currentDate: () => new Date(0) });
  return { sdkModel, ours };
}

const callOptions = (options: Partial<ImageModelV3CallOptions>): ImageModelV3CallOptions => ({
  prompt: 'a lighthouse at dawn',
  n: 1,
  size: undefined,
  aspectRatio: undefined,
  seed: undefined,
  providerOptions: {},
  ...options,
}) as ImageModelV3CallOptions;

/** What a call that must fail threw. */
async function failure(run: PromiseLike<unknown>): Promise<unknown> {
  try {
    await run;
  } catch (error) {
    return error;
  }
  throw new Error('expected the call to fail');
}

describe('the request: byte for byte what @ai-sdk/togetherai sends', () => {
  const cases: [string, Partial<ImageModelV3CallOptions>][] = [
    ['prompt only', {}],
    ['size, seed and n', { size: '1344x768', seed: 42, n: 3 }],
    ['seed 0 is sent', { seed: 0 }],
    [
      'provider options: checked ones, passed-through ones, and overrides of width and response_format',
      {
        size: '512x512',
        providerOptions: {
          togetherai: { steps: 4, guidance: 3.5, negative_prompt: 'fog', disable_safety_checker: true, image_loras: [{ path: 'a', scale: 1 }], width: 640, response_format: 'url', output_format: 'png' },
        },
      },
    ],
    ['a URL file becomes image_url', { files: [{ type: 'url', url: 'https://example.test/in.png' }] }],
    ['a bytes file becomes a data URL', { files: [{ type: 'file', mediaType: 'image/png', data: SMALL_PNG }] }],
    ['a base64 file becomes a data URL; a second file is dropped with a warning', {
      files: [
        { type: 'file', mediaType: 'image/jpeg', data: 'AAAA' },
        { type: 'url', url: 'https://example.test/second.png' },
      ],
    }],
    ['other providers’ options are not sent', { providerOptions: { fal: { sync_mode: true } } }],
  ];

  it.each(cases)('%s', async (_name, options) => {
    const { sdkModel, ours } = modelPair(raw.url);
    const sdkResult = await sdkModel.doGenerate(callOptions(options));
    const ourResult = await ours.doGenerate(callOptions(options));
    const [sdkRequest, ourRequest] = raw.exchanges();
    expect(ourRequest?.text).toBe(sdkRequest?.text);
    expect(ourResult.warnings).toEqual(sdkResult.warnings.filter((warning) => !(warning.type === 'unsupported' && warning.feature === 'aspectRatio')));
  });

  it('sends the key, JSON content type and the AI SDK user agent with this package named after it', async () => {
    const { ours } = modelPair(raw.url);
    await ours.doGenerate(callOptions({ headers: { 'X-Trace': 'abc', 'user-agent': 'ai/6.0.0' } }));
    const [request] = raw.exchanges();
    expect(request?.headers).toMatchObject({
      authorization: `Bearer ${KEY}`,
      'content-type': 'application/json',
      'x-trace': 'abc',
      'user-agent': `ai/6.0.0 ai-imagegen/${VERSION}`,
    });
    await ours.doGenerate(callOptions({}));
    expect(raw.exchanges()[1]?.headers['user-agent']).toMatch(/^ai-sdk\/togetherai\/2\.\d+\.\d+ ai-imagegen\//);
  });

  it('through generateImage: the same body as the AI SDK model for one image, and n in one request for four', async () => {
    const { sdkModel, ours } = modelPair(raw.url);
    await generateImage({ model: sdkModel, prompt: 'p', size: '256x256', seed: 9 });
    await generateImage({ model: ours, prompt: 'p', size: '256x256', seed: 9 });
    const [sdkRequest, ourRequest] = raw.exchanges();
    expect(ourRequest?.text).toBe(sdkRequest?.text);
    raw.reset();
    raw.answer(() => ({ body: JSON.stringify({ id: 'four', data: [0, 1, 2, 3].map((index) => ({ index, b64_json: PNG_BASE64 })) }) }));
    const result = await generateImage({ model: ours, prompt: 'p', size: '256x256', seed: 9, n: 4 });
    expect(result.images).toHaveLength(4);
    expect(raw.exchanges().map((exchange) => JSON.parse(exchange.text) as unknown)).toEqual([
      { model: SCHNELL, prompt: 'p', seed: 9, n: 4, width: 256, height: 256, response_format: 'base64' },
    ]);
  });

  it('warns about aspectRatio only when one is given (the AI SDK model warns whenever size is set)', async () => {
    const { ours } = modelPair(raw.url);
    expect((await ours.doGenerate(callOptions({ size: '512x512' }))).warnings).toEqual([]);
    expect((await ours.doGenerate(callOptions({ aspectRatio: '16:9' }))).warnings).toMatchInlineSnapshot(`
      [
        {
          "details": "This model does not support the \`aspectRatio\` option. Use \`size\` instead.",
          "feature": "aspectRatio",
          "type": "unsupported",
        },
      ]
    `);
    expect(JSON.parse(raw.exchanges()[1]!.text)).toEqual({ model: SCHNELL, prompt: 'a lighthouse at dawn', response_format: 'base64' });
  });

  it('refuses a mask and invalid provider options as the AI SDK model does, before sending', async () => {
    const { sdkModel, ours } = modelPair(raw.url);
    const mask = { type: 'url', url: 'https://example.test/mask.png' } as const;
    const sdkMaskError = await failure(sdkModel.doGenerate(callOptions({ mask })));
    await expect(ours.doGenerate(callOptions({ mask }))).rejects.toThrow((sdkMaskError as Error).message);
    const providerOptions = { togetherai: { steps: 'four' } };
    const sdkError = await failure(sdkModel.doGenerate(callOptions({ providerOptions })));
    const ourError = await failure(ours.doGenerate(callOptions({ providerOptions })));
    expect(InvalidArgumentError.isInstance(sdkError)).toBe(true);
    expect(InvalidArgumentError.isInstance(ourError)).toBe(true);
    expect((ourError as InvalidArgumentError).message).toBe((sdkError as InvalidArgumentError).message);
    expect((ourError as InvalidArgumentError).argument).toBe('providerOptions');
    expect(raw.exchanges()).toEqual([]);
  });
});

describe('responses from the emulator', () => {
  const ours = (modelId = SCHNELL) =>
    new TogetherImageModel({ modelId, baseURL: emulator.url, headers: () => ({ Authorization: `Bearer ${KEY}` }), maxImagesPerCall: 4 });

  it('b64_json: the images, and the response id and timings of each in providerMetadata', async () => {
    const result = await generateImage({ model: ours(), prompt: 'p', size: '256x256', seed: 3, n: 3 });
    expect(emulator.requests()).toHaveLength(1);
    expect(result.images).toHaveLength(3);
    for (const image of result.images) expect(image.mediaType).toBe('image/jpeg');
    const images = (result.providerMetadata.togetherai as { images: { id?: string; url?: string; timings?: { inference?: number } }[] }).images;
    expect(images).toHaveLength(3);
    const id = images[0]?.id;
    expect(id).toMatch(/.+/);
    for (const image of images) {
      expect(image.id).toBe(id);
      expect(image.timings?.inference).toBeGreaterThanOrEqual(0);
      expect(image.url).toBeUndefined();
    }
    expect(result.responses[0]?.modelId).toBe(SCHNELL);
    expect(result.responses[0]?.headers?.['content-type']).toMatch(/application\/json/);
  });

  it('url: an empty image per item and its URL in providerMetadata; nothing downloaded', async () => {
    const result = await generateImage({
      model: ours(),
      prompt: 'p',
      size: '256x256',
      n: 2,
      providerOptions: { togetherai: { response_format: 'url' } },
    });
    expect(result.images.map((image) => image.uint8Array.length)).toEqual([0, 0]);
    const images = (result.providerMetadata.togetherai as { images: { url?: string }[] }).images;
    expect(images.map((image) => image.url)).toEqual([expect.stringMatching(`^${emulator.url}/images/files/`), expect.stringMatching(`^${emulator.url}/images/files/`)]);
    expect(emulator.stats().downloads).toBe(0);
    const download = await fetch(images[0]!.url!);
    expect(download.status).toBe(200);
  });

  it('an error status from the emulator is an APICallError with Together’s message (401 not retried)', async () => {
    const model = new TogetherImageModel({ modelId: SCHNELL, baseURL: emulator.url, headers: () => ({ Authorization: 'Bearer wrong' }), maxImagesPerCall: 4 });
    const error = await failure(generateImage({ model, prompt: 'p', size: '256x256' }));
    expect(APICallError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 401, isRetryable: false, url: `${emulator.url}/images/generations` });
    expect((error as APICallError).message).toMatch(/.+/);
    expect(emulator.requests()).toHaveLength(1);
  });
});

describe('an injected fetch (the app’s, from createTogetherAI({ fetch }))', () => {
  /** A fetch answering `body` in chunks of `size` bytes, recording what it was asked. */
  function chunkedFetch(body: string, size: number) {
    const seen: { url: string; init: RequestInit | undefined }[] = [];
    const bytes = new TextEncoder().encode(body);
    const fetch: typeof globalThis.fetch = async (input, init) => {
      seen.push({ url: String(input), init });
      const stream = new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += size) controller.enqueue(bytes.subarray(offset, offset + size));
          controller.close();
        },
      });
      return new Response(stream, { status: 200, headers: { 'content-type': 'application/json' } });
    };
    return { fetch, seen };
  }

  const BODY = JSON.stringify({
    id: 'req-123',
    model: SCHNELL,
    object: 'list',
    data: [
      { index: 0, type: 'b64_json', b64_json: PNG_BASE64, timings: { inference: 0.5 } },
      { index: 1, type: 'b64_json', b64_json: PNG_BASE64, timings: { inference: 0.75 } },
    ],
  });

  it.each([1, 7, 4096, 1 << 20])('reads the id and timings of a body in chunks of %i bytes; the images are the bytes sent', async (size) => {
    const { fetch, seen } = chunkedFetch(BODY, size);
    const model = new TogetherImageModel({ modelId: SCHNELL, baseURL: 'http://127.0.0.1:9/v1', headers: () => ({ authorization: `Bearer ${KEY}` }), fetch, maxImagesPerCall: 4 });
    const result = await model.doGenerate(callOptions({ n: 2 }));
    expect(seen.map((request) => [request.url, request.init?.method])).toEqual([['http://127.0.0.1:9/v1/images/generations', 'POST']]);
    expect(result.images).toEqual([PNG_BASE64, PNG_BASE64]);
    expect(result.providerMetadata).toEqual({
      togetherai: { images: [{ id: 'req-123', timings: { inference: 0.5 } }, { id: 'req-123', timings: { inference: 0.75 } }] },
    });
  });

  it('a response mixing url and b64_json items: bytes for the one, an empty image and the URL for the other', async () => {
    const body = JSON.stringify({ id: 'mixed', data: [{ index: 0, b64_json: PNG_BASE64 }, { index: 1, type: 'url', url: 'https://cdn.test/b.jpg' }] });
    const { fetch } = chunkedFetch(body, 64);
    const model = new TogetherImageModel({ modelId: SCHNELL, baseURL: 'http://127.0.0.1:9/v1', headers: () => ({}), fetch, maxImagesPerCall: 4 });
    const result = await model.doGenerate(callOptions({ n: 2 }));
    expect(result.images).toEqual([SMALL_PNG, new Uint8Array(0)]);
    expect(result.providerMetadata).toEqual({ togetherai: { images: [{ id: 'mixed' }, { id: 'mixed', url: 'https://cdn.test/b.jpg' }] } });
  });
});

describe('faults, as the AI SDK model meets them', () => {
  const ours = () => modelPair(raw.url).ours;
  const success = { body: JSON.stringify({ id: 'ok', data: [{ index: 0, b64_json: PNG_BASE64, timings: { inference: 0.25 } }] }) };

  it('429 with retry-after: generateImage waits and retries; without retries it maps to RateLimitError', async () => {
    raw.answer((index) => (index === 0 ? { status: 429, headers: { 'retry-after': '0' }, body: JSON.stringify({ error: { message: 'slow down' } }) } : success));
    const result = await generateImage({ model: ours(), prompt: 'p', maxRetries: 2 });
    expect(raw.exchanges()).toHaveLength(2);
    expect(result.providerMetadata.togetherai).toEqual({ images: [{ id: 'ok', timings: { inference: 0.25 } }] });

    raw.reset();
    raw.answer(() => ({ status: 429, headers: { 'retry-after': '7' }, body: JSON.stringify({ error: { message: 'slow down' } }) }));
    const error = await failure(generateImage({ model: ours(), prompt: 'p', maxRetries: 0 }));
    expect(error).toMatchObject({ statusCode: 429, isRetryable: true, message: 'slow down', responseBody: JSON.stringify({ error: { message: 'slow down' } }) });
    expect((error as APICallError).responseHeaders?.['retry-after']).toBe('7');
    expect((error as APICallError).requestBodyValues).toEqual({ model: SCHNELL, prompt: 'p', response_format: 'base64' });
    const mapped = toImagegenError(error, CONTEXT);
    expect(mapped).toBeInstanceOf(RateLimitError);
    expect(mapped).toMatchObject({ retryAfterSeconds: 7, providerMessage: 'slow down' });
  });

  it.each([
    [500, true],
    [503, true],
    [408, true],
    [409, true],
    [400, false],
    [422, false],
  ])('status %i: retryable %s, as the AI SDK decides', async (status, retryable) => {
    raw.answer(() => ({ status, body: JSON.stringify({ error: { message: `status ${status}` } }) }));
    const { sdkModel, ours: model } = modelPair(raw.url);
    const sdkError = (await failure(sdkModel.doGenerate(callOptions({})))) as APICallError;
    const ourError = (await failure(model.doGenerate(callOptions({})))) as APICallError;
    expect(APICallError.isInstance(ourError)).toBe(true);
    for (const field of ['message', 'statusCode', 'isRetryable', 'responseBody', 'url', 'requestBodyValues'] as const) {
      expect(ourError[field], field).toEqual(sdkError[field]);
    }
    expect(ourError.isRetryable).toBe(retryable);
  });

  it('an error status with an empty or non-JSON body: the status text, as the AI SDK gives it', async () => {
    for (const body of ['', '<html>bad gateway</html>']) {
      raw.answer(() => ({ status: 502, body }));
      const { sdkModel, ours: model } = modelPair(raw.url);
      const sdkError = (await failure(sdkModel.doGenerate(callOptions({})))) as APICallError;
      const ourError = (await failure(model.doGenerate(callOptions({})))) as APICallError;
      expect({ message: ourError.message, retryable: ourError.isRetryable, body: ourError.responseBody }).toEqual({
        message: sdkError.message,
        retryable: sdkError.isRetryable,
        body: sdkError.responseBody,
      });
      expect(ourError.message).toBe('Bad Gateway');
    }
  });

  it('5xx then success: retried by generateImage; 5xx throughout maps to ProviderError with the status', async () => {
    raw.answer((index) => (index === 0 ? { status: 503, headers: { 'retry-after': '0' }, body: JSON.stringify({ error: { message: 'overloaded' } }) } : success));
    const result = await generateImage({ model: ours(), prompt: 'p', maxRetries: 1 });
    expect(result.images).toHaveLength(1);
    expect(raw.exchanges()).toHaveLength(2);

    raw.reset();
    raw.answer(() => ({ status: 503, headers: { 'retry-after': '0' }, body: JSON.stringify({ error: { message: 'overloaded' } }) }));
    const error = await failure(generateImage({ model: ours(), prompt: 'p', maxRetries: 1 }));
    expect(raw.exchanges()).toHaveLength(2);
    const mapped = toImagegenError(error, CONTEXT);
    expect(mapped).toBeInstanceOf(ProviderError);
    expect(mapped).toMatchObject({ statusCode: 503, providerMessage: 'overloaded' });
  });

  it('a connection reset is a retryable APICallError without a status; generateImage retries it', async () => {
    raw.answer(() => 'reset');
    const { sdkModel, ours: model } = modelPair(raw.url);
    const sdkError = (await failure(sdkModel.doGenerate(callOptions({})))) as APICallError;
    const ourError = (await failure(model.doGenerate(callOptions({})))) as APICallError;
    expect(APICallError.isInstance(ourError)).toBe(true);
    expect({ message: ourError.message, retryable: ourError.isRetryable, status: ourError.statusCode }).toEqual({
      message: sdkError.message,
      retryable: true,
      status: undefined,
    });
    expect(toImagegenError(ourError, CONTEXT)).toMatchObject({ name: 'ProviderError', message: expect.stringMatching(/^Could not reach togetherai/) });

    raw.reset();
    raw.answer((index) => (index === 0 ? 'reset' : success));
    const result = await generateImage({ model: ours(), prompt: 'p', maxRetries: 1 });
    expect(result.images).toHaveLength(1);
    expect(raw.exchanges()).toHaveLength(2);
  });

  it.each([
    ['a body that is not JSON', 'not json {', JSONParseError],
    ['JSON without a data array', JSON.stringify({ id: 'x', object: 'list' }), TypeValidationError],
    ['an item with neither b64_json nor url', JSON.stringify({ data: [{ index: 0 }] }), TypeValidationError],
  ] as const)('%s: "Invalid JSON response", not retried, mapped to InvalidResponseError', async (_name, body, causeType) => {
    raw.answer(() => ({ body }));
    const { sdkModel, ours: model } = modelPair(raw.url);
    const sdkError = (await failure(sdkModel.doGenerate(callOptions({})))) as APICallError;
    const error = await failure(generateImage({ model, prompt: 'p', maxRetries: 2 }));
    expect(raw.exchanges()).toHaveLength(2);
    expect(APICallError.isInstance(error)).toBe(true);
    const ourError = error as APICallError;
    expect({ message: ourError.message, retryable: ourError.isRetryable, status: ourError.statusCode, body: ourError.responseBody }).toEqual({
      message: sdkError.message,
      retryable: sdkError.isRetryable,
      status: 200,
      body,
    });
    expect(causeType.isInstance(ourError.cause)).toBe(true);
    expect(toImagegenError(error, CONTEXT)).toBeInstanceOf(InvalidResponseError);
  });

  it('an abort passes through as an abort, not as a provider error, and is not retried', async () => {
    raw.answer(() => 'hang');
    const controller = new AbortController();
    const pending = failure(generateImage({ model: ours(), prompt: 'p', maxRetries: 3, abortSignal: controller.signal }));
    while (raw.exchanges().length === 0) await new Promise((resolve) => setTimeout(resolve, 5));
    controller.abort();
    const error = await pending;
    expect(error).toMatchObject({ name: 'AbortError' });
    expect(APICallError.isInstance(error)).toBe(false);
    expect(toImagegenError(error, CONTEXT)).toBe(error);
    expect(raw.exchanges()).toHaveLength(1);
  });
});

/** `ImageModelV3` as a type, so the class stays assignable to what `generateImage` takes. */
const _typeCheck: (model: TogetherImageModel) => ImageModelV3 = (model) => model;
void _typeCheck;
