import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { Ajv, type ValidateFunction } from 'ajv';
import { readFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import sharp from 'sharp';
import Together from 'together-ai';
import { afterAll, afterEach, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { listModels } from '../src/index.js';
import { describeEmulator, DOCUMENTED_MODELS, parseDuration, parseRateLimit, startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import { acceptedParameters, smallestSize } from './helpers/catalog-parameters.js';

// The AI SDK's warnings (a known wrong "aspectRatio" one when `size` is passed) would flood the log.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'test-key';
// Deprecated catalog models are retired at Together: the emulator answers them 404, like the service.
const MODELS = listModels({ provider: 'togetherai' }).filter((model) => model.deprecated === undefined);
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';

// Together's official schema (an MIT-licensed extract, copied from shared/reference so a clean clone has it).
const SCHEMA_PATH = new URL('./fixtures/together-images-openapi.yaml', import.meta.url);
const ajv = new Ajv({ strict: false, discriminator: true, allErrors: true });
ajv.addSchema(parse(readFileSync(SCHEMA_PATH, 'utf8')) as object, 'together');
const schema = (pointer: string) => ajv.getSchema(`together#${pointer}`)!;
const schemas = {
  request: schema('/paths/~1images~1generations/post/requestBody/content/application~1json/schema'),
  image: schema('/components/schemas/ImageResponse'),
  error: schema('/components/schemas/ErrorData'),
};

/** Every request body and generation response seen by `checkedFetch`, and what failed the schema. */
const checked = { requests: 0, responses: 0, problems: [] as string[] };

function check(validate: ValidateFunction, value: unknown, what: string): void {
  if (!validate(value)) checked.problems.push(`${what}: ${ajv.errorsText(validate.errors)}`);
}

/**
 * A fetch that checks every generation response against the official schema, and the requests too
 * (the SDKs' requests must be valid; the tests' own requests are sometimes invalid on purpose).
 */
const schemaCheckedFetch = ({ requests }: { requests: boolean }) => async (input: string | URL | Request, init?: RequestInit): Promise<Response> => {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const isGeneration = url.endsWith('/images/generations');
  if (requests && isGeneration && typeof init?.body === 'string') {
    checked.requests++;
    check(schemas.request, JSON.parse(init.body), `request to ${url}`);
  }
  const response = await fetch(input, init);
  if (isGeneration) {
    checked.responses++;
    check(response.ok ? schemas.image : schemas.error, await response.clone().json(), `${response.status} response`);
  }
  return response;
};
const checkedFetch = schemaCheckedFetch({ requests: true });

afterEach(() => {
  expect(checked.problems.splice(0)).toEqual([]);
});

test('the schema check is not vacuous', () => {
  expect(schemas.image({ id: 'a', model: 'm', object: 'list', data: [{ index: 0, type: 'b64_json' }] })).toBe(false);
  expect(schemas.image({ id: 'a', model: 'm', object: 'list', data: [{ index: 0, type: 'url', url: 'u' }] })).toBe(true);
  expect(schemas.error({ error: { message: 'm' } })).toBe(false);
});

type Sent = { status: number; headers: Headers; text: string; json(): unknown };

async function post(emulator: Emulator, body: unknown, headers: Record<string, string> = {}): Promise<Sent> {
  const response = await schemaCheckedFetch({ requests: false })(`${emulator.url}/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: () => JSON.parse(text) };
}

const expectedSize = smallestSize;

async function decode(bytes: Uint8Array) {
  const { format, width, height } = await sharp(bytes).metadata();
  return { format, width, height };
}

async function started(options: EmulatorOptions = {}): Promise<Emulator> {
  const emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1, ...options });
  emulators.push(emulator);
  return emulator;
}

const emulators: Emulator[] = [];
let emulator: Emulator;
let inputImage: string;

beforeAll(async () => {
  emulator = await started();
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#c33' } }).png().toBuffer();
  inputImage = `data:image/png;base64,${png.toString('base64')}`;
});

afterAll(async () => {
  await Promise.all(emulators.map((each) => each.close()));
  expect(checked.requests).toBeGreaterThan(0);
  expect(checked.responses).toBeGreaterThan(0);
});

describe("Together's own SDK (together-ai)", () => {
  const client = () => new Together({ apiKey: KEY, baseURL: emulator.url, maxRetries: 0, fetch: checkedFetch });

  test.each(MODELS.map((model) => [model.modelId, model] as const))('%s: every parameter it takes', async (_id, model) => {
    const response = await client().images.generate({
      model: model.modelId,
      prompt: 'a lighthouse at dusk',
      response_format: 'base64',
      output_format: 'png',
      ...acceptedParameters(model, inputImage),
    });
    expect(response).toMatchObject({ model: model.modelId, object: 'list' });
    expect(response.data).toHaveLength(model.acceptsN ? 2 : 1);
    for (const [index, item] of response.data.entries()) {
      expect(item).toMatchObject({ index, type: 'b64_json' });
      expect(await decode(Buffer.from(item.b64_json, 'base64'))).toEqual({ format: 'png', ...expectedSize(model) });
    }
  });

  test("lists Together's current image models: its own table, the same ids as the catalog's current models", async () => {
    const models = await client().models.list();
    const listed = models.map((model) => model.id).sort();
    expect(listed).toEqual(DOCUMENTED_MODELS.filter((model) => !model.retired).map((model) => model.id).sort());
    // Two accounts written apart (documented-models.ts and providers/together/models.ts) agree on what is current.
    expect(listed).toEqual(MODELS.map((model) => model.modelId).sort());
    for (const model of models) {
      expect(model).toMatchObject({ object: 'model', type: 'image' });
      expect(model.display_name).toBeTypeOf('string');
    }
    expect(models.find((model) => model.id === 'google/imagen-4.0-fast')).toMatchObject({ organization: 'Google' });
  });

  test('documented errors: 401, 400, 404, 422', async () => {
    const errorOf = (promise: Promise<unknown>) =>
      promise.then(
        () => expect.unreachable('the request should fail'),
        (error: unknown) => {
          expect(error).toBeInstanceOf(Together.APIError);
          const { status, error: body } = error as InstanceType<typeof Together.APIError>;
          return { status, error: (body as { error: unknown }).error };
        },
      );
    const wrongKey = new Together({ apiKey: 'wrong', baseURL: emulator.url, maxRetries: 0, fetch: checkedFetch });

    expect(await errorOf(wrongKey.images.generate({ model: SCHNELL, prompt: 'a cat' }))).toMatchObject({
      status: 401,
      error: { type: 'invalid_request_error', code: 'invalid_api_key' },
    });
    expect(await errorOf(client().images.generate({ model: 'black-forest-labs/FLUX.2-pro', prompt: 'a cat', steps: 4 }))).toEqual({
      status: 400,
      error: { message: "Unsupported use of 'steps' parameter", type: 'invalid_request_error', param: 'steps', code: 'unsupported_parameter' },
    });
    expect(await errorOf(client().images.generate({ model: 'acme/no-such-model', prompt: 'a cat' }))).toMatchObject({
      status: 404,
      error: { code: 'model_not_found', param: 'model' },
    });
    expect(await errorOf(client().images.generate({ model: SCHNELL, prompt: 'a NSFW cat', width: 256, height: 256 }))).toMatchObject({
      status: 422,
      error: { param: 'prompt' },
    });
  });
});

describe('@ai-sdk/togetherai through generateImage', () => {
  const together = () => createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch: checkedFetch });

  test.each(MODELS.map((model) => [model.modelId, model] as const))('%s: every parameter it takes', async (_id, model) => {
    const { width, height, aspect_ratio, n, seed, image_url, ...rest } = acceptedParameters(model, inputImage);
    const count = model.acceptsN ? 3 : 1;
    const { images } = await generateImage({
      model: together().image(model.modelId),
      // The AI SDK sends the first prompt image as `image_url`; reference images go as an option.
      prompt: image_url === undefined ? 'a lighthouse at dusk' : { text: 'a lighthouse at dusk', images: [image_url as string] },
      n: count,
      maxImagesPerCall: model.acceptsN ? model.maxImagesPerCall : 1,
      ...(width === undefined ? {} : { size: `${width as number}x${height as number}` as const }),
      ...(seed === undefined ? {} : { seed: seed as number }),
      providerOptions: { togetherai: { ...(aspect_ratio === undefined ? {} : { aspect_ratio: aspect_ratio as string }), ...(rest as Record<string, never>) } },
      maxRetries: 0,
    });
    expect(images).toHaveLength(count);
    for (const image of images) {
      expect(image.mediaType).toBe('image/jpeg');
      expect(await decode(image.uint8Array)).toEqual({ format: 'jpeg', ...expectedSize(model) });
    }
  });

  test('documented errors: 401, 400, 404, 422', async () => {
    const failure = (options: { key?: string; modelId?: string; prompt?: string; togetherai?: Record<string, string | number> }) =>
      generateImage({
        model: createTogetherAI({ apiKey: options.key ?? KEY, baseURL: emulator.url, fetch: checkedFetch }).image(options.modelId ?? SCHNELL),
        prompt: options.prompt ?? 'a cat',
        size: '256x256',
        providerOptions: { togetherai: options.togetherai ?? {} },
        maxRetries: 0,
      }).then(
        () => expect.unreachable('the call should fail'),
        (error: unknown) => error as { statusCode: number; message: string },
      );

    expect(await failure({ key: 'wrong' })).toMatchObject({ statusCode: 401, message: expect.stringContaining('Invalid API key') });
    expect(await failure({ togetherai: { negative_prompt: 'x' }, modelId: 'black-forest-labs/FLUX.1-kontext-pro' })).toMatchObject({
      statusCode: 400,
      message: "Unsupported use of 'negative_prompt' parameter",
    });
    expect(await failure({ modelId: 'acme/no-such-model' })).toMatchObject({ statusCode: 404 });
    expect(await failure({ prompt: 'gore everywhere' })).toMatchObject({ statusCode: 422 });
  });
});

describe('validation like the real service', () => {
  const base = { model: SCHNELL, prompt: 'a cat', width: 256, height: 256 };

  test.each([
    ['missing prompt', { model: SCHNELL }, 400, 'prompt'],
    ['missing model', { prompt: 'a cat' }, 400, 'model'],
    ['prompt not a string', { ...base, prompt: 7 }, 400, 'prompt'],
    ['n over 4', { ...base, n: 5 }, 400, 'n'],
    ['n not an integer', { ...base, n: 1.5 }, 400, 'n'],
    ['steps over 50', { ...base, steps: 51 }, 400, 'steps'],
    ['steps on FLUX.2 pro (a dev/flex feature)', { ...base, model: 'black-forest-labs/FLUX.2-pro', steps: 20 }, 400, 'steps'],
    ['width not a multiple of 8', { ...base, width: 260 }, 400, 'width'],
    ['height over the documented 1920', { ...base, height: 1928 }, 400, 'height'],
    ['a size Gemini 3 Pro Image does not list', { ...base, model: 'google/gemini-3-pro-image', width: 1024, height: 768 }, 400, 'width'],
    ['seed above 2,147,483,647', { ...base, seed: 2_147_483_648 }, 400, 'seed'],
    ['guidance_scale on FLUX.2 pro', { ...base, model: 'black-forest-labs/FLUX.2-pro', guidance_scale: 3.5 }, 400, 'guidance_scale'],
    ['guidance on a model without guidance', { ...base, guidance: 3.5 }, 400, 'guidance'],
    ['prompt_upsampling outside FLUX.2', { ...base, prompt_upsampling: false }, 400, 'prompt_upsampling'],
    ['image_url on a model without image input', { ...base, image_url: 'https://example.com/a.png' }, 400, 'image_url'],
    ['image_url on FLUX.2 dev (reference_images only)', { ...base, model: 'black-forest-labs/FLUX.2-dev', image_url: 'https://example.com/a.png' }, 400, 'image_url'],
    ['reference_images on an image_url model', { ...base, model: 'black-forest-labs/FLUX.1-kontext-pro', reference_images: ['https://example.com/a.png'] }, 400, 'reference_images'],
    ['image_loras on a model without LoRAs', { ...base, image_loras: [{ path: 'https://x/lora', scale: 1 }] }, 400, 'image_loras'],
    ['more than 2 LoRAs', { ...base, model: 'black-forest-labs/FLUX.2-dev', image_loras: [1, 2, 3].map(() => ({ path: 'https://x/lora', scale: 1 })) }, 400, 'image_loras'],
    ['aspect_ratio (not in the schema; Kontext is sized by width/height)', { model: 'black-forest-labs/FLUX.1-kontext-pro', prompt: 'a cat', aspect_ratio: '16:9' }, 400, 'aspect_ratio'],
    ['unknown response_format', { ...base, response_format: 'gif' }, 400, 'response_format'],
    ['unknown output_format', { ...base, output_format: 'webp' }, 400, 'output_format'],
    ['unknown model', { ...base, model: 'acme/no-such-model' }, 404, 'model'],
    ['a model removed from serverless', { ...base, model: 'black-forest-labs/FLUX.1-dev' }, 404, 'model'],
    ['unsafe prompt', { ...base, prompt: 'nude figure study' }, 422, 'prompt'],
    ['unsafe prompt, checker not disableable', { ...base, model: 'black-forest-labs/FLUX.1.1-pro', prompt: 'nude', disable_safety_checker: true }, 422, 'prompt'],
  ])('%s', async (_name, body, status, param) => {
    const response = await post(emulator, body);
    expect(response.status).toBe(status);
    expect(response.json()).toMatchObject({ error: { param } });
  });

  test("unsupported parameters get Together's message", async () => {
    const response = await post(emulator, { ...base, model: 'black-forest-labs/FLUX.2-pro', steps: 4 });
    // Shaped like a live 400: a top-level id beside the error (FACTS.md).
    expect(response.json()).toEqual({
      id: expect.stringMatching(/.+/),
      error: { message: "Unsupported use of 'steps' parameter", type: 'invalid_request_error', param: 'steps', code: 'unsupported_parameter' },
    });
  });

  test('a body that is not JSON is a 400', async () => {
    const response = await post(emulator, '{"model":');
    expect(response.status).toBe(400);
    expect(response.json()).toMatchObject({ error: { code: 'invalid_json' } });
  });

  test('401 without a key, with a malformed header, or with the wrong key', async () => {
    for (const authorization of ['', 'Basic abc', 'Bearer ', 'Bearer wrong']) {
      const response = await post(emulator, base, { authorization });
      expect(response.status).toBe(401);
      expect(response.json()).toMatchObject({ error: { code: 'invalid_api_key', type: 'invalid_request_error' } });
    }
  });

  test('any key is accepted when no apiKey is configured', async () => {
    const open = await started({ apiKey: undefined });
    expect((await post(open, base, { authorization: 'Bearer anything' })).status).toBe(200);
  });

  test('disable_safety_checker lets a flagged prompt through where the model allows it', async () => {
    expect((await post(emulator, { ...base, prompt: 'nude figure study', disable_safety_checker: true })).status).toBe(200);
  });

  test('the safety word list is configurable', async () => {
    const strict = await started({ safetyWords: ['lighthouse'] });
    expect((await post(strict, { ...base, prompt: 'Lighthouses at dusk' })).status).toBe(422);
    expect((await post(strict, { ...base, prompt: 'nude figure study' })).status).toBe(200);
  });
});

describe('images', () => {
  test('Kontext renders at the width/height sent (the official example: 1536x1024); no size means 1024x1024', async () => {
    const kontext = await post(emulator, { model: 'black-forest-labs/FLUX.1-kontext-pro', prompt: 'a cat', width: 1536, height: 1024, image_url: inputImage, response_format: 'base64' });
    const [kontextImage] = (kontext.json() as { data: { b64_json: string }[] }).data;
    expect(await decode(Buffer.from(kontextImage!.b64_json, 'base64'))).toEqual({ format: 'jpeg', width: 1536, height: 1024 });

    const plain = await post(emulator, { model: SCHNELL, prompt: 'a cat', response_format: 'base64' });
    const [plainImage] = (plain.json() as { data: { b64_json: string }[] }).data;
    expect(await decode(Buffer.from(plainImage!.b64_json, 'base64'))).toEqual({ format: 'jpeg', width: 1024, height: 1024 });
  });

  test('image i of a request with seed s is the image of seed s + i', async () => {
    const images = async (seed: number, n: number) => {
      const response = await post(emulator, { model: SCHNELL, prompt: 'a cat', width: 256, height: 256, seed, n, response_format: 'base64', output_format: 'png' });
      return (response.json() as { data: { b64_json: string }[] }).data.map((item) => item.b64_json);
    };
    const [first, second] = await images(10, 2);
    expect(await images(10, 1)).toEqual([first]);
    expect(await images(11, 1)).toEqual([second]);
    expect(first).not.toBe(second);
  });

  test('url responses point at images served with a User-Agent, refused without one', async () => {
    const response = await post(emulator, { model: SCHNELL, prompt: 'a cat', width: 256, height: 320, n: 2 });
    const { data } = response.json() as { data: { index: number; type: string; url: string }[] };
    expect(data.map((item) => item.type)).toEqual(['url', 'url']);
    for (const item of data) {
      const download = await fetch(item.url, { headers: { 'user-agent': 'ai-imagegen-test' } });
      expect(download.status).toBe(200);
      expect(download.headers.get('content-type')).toBe('image/jpeg');
      expect(await decode(new Uint8Array(await download.arrayBuffer()))).toEqual({ format: 'jpeg', width: 256, height: 320 });
      expect(await statusWithoutUserAgent(item.url)).toBe(403);
      expect(await statusWithoutUserAgent(item.url, '')).toBe(403);
    }
    const missing = await fetch(data[0]!.url.replace(/[^/]+$/, 'nothing.jpeg'), { headers: { 'user-agent': 'test' } });
    expect(missing.status).toBe(404);
  });

  test('the url store evicts old images past its byte budget, so memory stays flat', async () => {
    const small = await started({ maxStoredImageBytes: 1 });
    const urls = [];
    for (let index = 0; index < 3; index++) {
      const response = await post(small, { model: SCHNELL, prompt: 'a cat', width: 256, height: 256 });
      urls.push((response.json() as { data: { url: string }[] }).data[0]!.url);
    }
    const statuses = await Promise.all(urls.map(async (url) => (await fetch(url, { headers: { 'user-agent': 'test' } })).status));
    expect(statuses).toEqual([404, 404, 200]);
  });
});

/** node:http sends no User-Agent unless told to (fetch always sends one). */
function statusWithoutUserAgent(url: string, userAgent?: string): Promise<number | undefined> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(url, { headers: userAgent === undefined ? {} : { 'user-agent': userAgent } }, (response) => {
      response.resume();
      resolve(response.statusCode);
    });
    request.on('error', reject).end();
  });
}

describe('stats and reset', () => {
  test('count requests, images and statuses; reset zeroes them, over HTTP too', async () => {
    const own = await started();
    await post(own, { model: SCHNELL, prompt: 'a cat', width: 256, height: 256, n: 3 });
    await post(own, { model: SCHNELL, prompt: 'a cat', width: 250, height: 256 });
    expect(own.stats()).toMatchObject({ requests: 2, images: 3, byStatus: { 200: 1, 400: 1 }, inFlight: 0 });

    const origin = own.url.replace(/\/v1$/, '');
    expect(await (await fetch(`${origin}/_emulator/stats`)).json()).toEqual(own.stats());
    expect((await fetch(`${origin}/_emulator/reset`, { method: 'POST' })).status).toBe(200);
    expect(own.stats()).toMatchObject({ requests: 0, images: 0, byStatus: {} });
  });
});

describe('recorded requests', () => {
  test('requests() returns the exact bodies and headers received (no body for a wrong key); reset() forgets them', async () => {
    const own = await started();
    const client = new Together({ apiKey: KEY, baseURL: own.url, maxRetries: 0 });
    await client.images.generate({ model: SCHNELL, prompt: 'a cat', width: 256, height: 256, steps: 2 });
    await post(own, '{"model":', { authorization: 'Bearer wrong' });
    const [first, second] = own.requests();
    expect(first).toMatchObject({
      method: 'POST',
      path: '/v1/images/generations',
      body: { model: SCHNELL, prompt: 'a cat', width: 256, height: 256, steps: 2 },
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    });
    expect(first?.headers['user-agent']).toMatch(/Together/i);
    // A wrong key's body is neither read nor kept: without a key, no one can fill the emulator's memory.
    expect(second).toMatchObject({ body: undefined, headers: { authorization: 'Bearer wrong' } });
    own.reset();
    expect(own.requests()).toEqual([]);
  });
});

describe('helpers for the CLI', () => {
  test('parseDuration', () => {
    expect([parseDuration('300ms'), parseDuration('2s'), parseDuration('1.5m'), parseDuration('250')]).toEqual([300, 2000, 90000, 250]);
    expect(() => parseDuration('soon')).toThrow(/Invalid duration "soon"/);
  });

  test('parseRateLimit', () => {
    expect(parseRateLimit('60/min')).toEqual({ requests: 60, windowMs: 60000 });
    expect(parseRateLimit('5/s')).toEqual({ requests: 5, windowMs: 1000 });
    expect(parseRateLimit('10/30s')).toEqual({ requests: 10, windowMs: 30000 });
    expect(() => parseRateLimit('lots')).toThrow(/Invalid rate limit "lots"/);
  });

  test('describeEmulator', () => {
    expect(describeEmulator('http://127.0.0.1:8787/v1', { apiKey: 'KEY' })).toMatchInlineSnapshot(`
      "Together emulator listening on http://127.0.0.1:8787/v1

      Point ai-imagegen at it:
        export TOGETHER_BASE_URL=http://127.0.0.1:8787/v1 TOGETHER_API_KEY=KEY

      Try it with curl:
        curl -s http://127.0.0.1:8787/v1/images/generations \\
          -H "Authorization: Bearer KEY" -H "Content-Type: application/json" \\
          -d '{"model":"black-forest-labs/FLUX.1-schnell","prompt":"a lighthouse at dusk","width":256,"height":256,"response_format":"base64"}'

      Together's SDKs:
        TypeScript: new Together({ apiKey: 'KEY', baseURL: 'http://127.0.0.1:8787/v1' })
        Python:     Together(api_key="KEY", base_url="http://127.0.0.1:8787/v1")

      Stats: curl http://127.0.0.1:8787/_emulator/stats    Reset: curl -X POST http://127.0.0.1:8787/_emulator/reset
      Per request: x-emulator-latency-ms: 300, x-emulator-fail-status: 503, x-emulator-fault: reset|hang|truncate|malformed-json|invalid-base64"
    `);
  });
});
