import type { ImageModelV3 } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { generateImages, InvalidRequestError, MissingApiKeyError, togetherMetadataFetch } from '../src/index.js';
import { prepareGeneration } from '../src/generate.js';
import { together } from '../src/providers/together/index.js';

const KEY = 'test-key-together-provider';
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 11 });
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  emulator.reset();
});

function useEmulator() {
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
}

const bodies = () => emulator.requests().map((request) => request.body);

describe('the built-in provider', () => {
  it('builds the model once per request: the key check and every call share it', async () => {
    useEmulator();
    const createModel = vi.spyOn(together, 'createModel');
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 10, seed: 4 });
    expect(bodies().map((body) => (body as { n?: number }).n ?? 1)).toEqual([4, 4, 2]);
    expect(result.images).toHaveLength(10);
    expect(createModel).toHaveBeenCalledOnce();
  });

  it('a dry run (no key check) builds no model', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    const createModel = vi.spyOn(together, 'createModel');
    const prepared = await prepareGeneration({ prompt: 'p', size: '256x256', count: 2 }, { checkKey: false });
    expect(prepared.calls).toHaveLength(1);
    expect(createModel).not.toHaveBeenCalled();
  });

  it('without a key: MissingApiKeyError naming both variables, before anything is sent', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
    const error = await generateImages({ prompt: 'p', size: '256x256' }).catch((caught: unknown) => caught);
    expect(MissingApiKeyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('TOGETHER_API_KEY or TOGETHER_AI_API_KEY');
    expect(emulator.requests()).toEqual([]);
  });

  it('takes TOGETHER_AI_API_KEY, and TOGETHER_BASE_URL with a trailing slash', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', KEY);
    vi.stubEnv('TOGETHER_BASE_URL', `${emulator.url}/`);
    const result = await generateImages({ prompt: 'p', size: '256x256', seed: 1 });
    expect(result.images).toHaveLength(1);
    expect(emulator.requests()[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });

  it('count 3 in one request: each image with the response id and its timings, read through the fetch given to createTogetherAI', async () => {
    useEmulator();
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 3, seed: 2 });
    expect(emulator.requests()).toHaveLength(1);
    expect(new Set(result.images.map((image) => image.responseId)).size).toBe(1);
    expect(result.images[0]!.responseId).toMatch(/.+/);
    for (const image of result.images) expect(image.timings?.inferenceSeconds).toBeGreaterThanOrEqual(0);
    expect(result.calls.map((call) => call.responseId)).toEqual([result.images[0]!.responseId]);
    // As generateImage gives it: @ai-sdk/togetherai reports no provider metadata, and the header
    // that carried the ids is not in the responses.
    expect(result.providerMetadata).toEqual({});
    expect(Object.keys(result.responses[0]!.headers ?? {}).filter((name) => name.startsWith('x-ai-imagegen'))).toEqual([]);
  });

  it('sends through @ai-sdk/togetherai: its user agent on every request, and no HTTP code of the toolkit’s own in the provider', async () => {
    useEmulator();
    await generateImages({ prompt: 'p', size: '256x256', count: 6, seed: 1 });
    const agents = emulator.requests().map((request) => request.headers['user-agent']);
    expect(agents).toHaveLength(2);
    // @ai-sdk/togetherai posts through the AI SDK's provider-utils, which names itself in the user agent.
    for (const agent of agents) expect(agent).toMatch(/(^| )ai-sdk\/provider-utils\/\d+\.\d+\.\d+( |$)/);
    const folder = new URL('../src/providers/together/', import.meta.url);
    const files = (await readdir(folder)).filter((file) => file.endsWith('.ts'));
    expect(files.sort()).toEqual(['index.ts', 'list-models.ts', 'map.ts', 'metadata-fetch.ts', 'models.ts', 'settings.ts']);
    const index = await readFile(new URL('index.ts', folder), 'utf8');
    expect(index).toMatch(/import\('@ai-sdk\/togetherai'\)/);
    expect(index).toMatch(/createTogetherAI\(\{ apiKey, baseURL, fetch: togetherMetadataFetch\(\) \}\)\.image\(modelId\)/);
    // Generation requests are POSTed by the package: no file of the provider posts JSON itself.
    for (const file of files) expect(await readFile(new URL(file, folder), 'utf8')).not.toMatch(/method: 'POST'|postJsonToApi/);
  });
});

describe('an app’s own createTogetherAI() instance', () => {
  /** A fetch of the app's own that records what goes through it. */
  function recordingFetch() {
    const urls: string[] = [];
    const fetch: typeof globalThis.fetch = (input, init) => {
      urls.push(String(input));
      return globalThis.fetch(input, init);
    };
    return { fetch, urls };
  }

  it('is used as it is: the app’s key, base URL, headers and fetch; count 4 one request; no ids without the metadata fetch', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    const { fetch, urls } = recordingFetch();
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch, headers: { 'x-app': 'mine' } });
    const model = togetherai.image(SCHNELL);
    const provider = { image: vi.fn(() => model) };
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 6, seed: 5 }, { providers: { togetherai: provider } });
    expect(provider.image).toHaveBeenCalledOnce();
    expect(urls).toEqual([`${emulator.url}/images/generations`, `${emulator.url}/images/generations`]);
    const [request] = emulator.requests();
    expect(request?.headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'x-app': 'mine' });
    expect(request?.headers['user-agent']).toMatch(/ai-sdk\/provider-utils\//);
    expect(bodies()).toEqual([
      { model: SCHNELL, prompt: 'p', seed: 5, n: 4, width: 256, height: 256, response_format: 'base64' },
      { model: SCHNELL, prompt: 'p', seed: 9, n: 2, width: 256, height: 256, response_format: 'base64' },
    ]);
    expect(result.images).toHaveLength(6);
    // What @ai-sdk/togetherai drops stays dropped without the toolkit's fetch.
    for (const image of result.images) {
      expect(image.responseId).toBeUndefined();
      expect(image.timings).toBeUndefined();
    }
  });

  it('keeps Together’s response ids and timings when the app passes togetherMetadataFetch() to createTogetherAI', async () => {
    const { fetch, urls } = recordingFetch();
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch: togetherMetadataFetch(fetch) });
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 8, seed: 7 }, { providers: { togetherai } });
    expect(urls).toHaveLength(2);
    const ids = result.images.map((image) => image.responseId);
    expect(ids.every((id) => typeof id === 'string')).toBe(true);
    // Two concurrent calls, each image with its own response's id: nothing shared between them.
    expect(new Set(ids).size).toBe(2);
    expect(ids.slice(0, 4).every((id) => id === ids[0])).toBe(true);
    expect(ids.slice(4).every((id) => id === ids[4])).toBe(true);
  });

  it('the metadata fetch never changes the bytes the package parses: plain generateImage gives the same images with it', async () => {
    const plain = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const withMetadata = createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch: togetherMetadataFetch() });
    const call = (provider: typeof plain) => generateImage({ model: provider.image(SCHNELL), prompt: 'p', size: '256x256', n: 2, maxImagesPerCall: 4, seed: 3 });
    const [first, second] = [await call(plain), await call(withMetadata)];
    expect(second.images.map((image) => image.base64)).toEqual(first.images.map((image) => image.base64));
  });

  it('responseFormat "url" is refused before anything is sent, naming the upstream limitation', async () => {
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const error = await generateImages({ prompt: 'p', size: '256x256', responseFormat: 'url' }, { providers: { togetherai } }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatchInlineSnapshot(`
      "Invalid request; nothing was sent:
        - responseFormat: is not available: @ai-sdk/togetherai reads only base64 images (vercel/ai issue 11490), and other providers return bytes; use "base64" (the default) (got "url")"
    `);
    expect(emulator.requests()).toEqual([]);
  });

  it('a wrapped Together model is used as it is', async () => {
    const wrapped = (model: ImageModelV3): ImageModelV3 => ({
      specificationVersion: 'v3',
      provider: model.provider,
      modelId: model.modelId,
      maxImagesPerCall: model.maxImagesPerCall,
      doGenerate: (options) => model.doGenerate(options),
    });
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const provider = { image: (modelId: string) => wrapped(togetherai.image(modelId) as ImageModelV3) };
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 4, seed: 1 }, { providers: { togetherai: provider } });
    expect(result.images).toHaveLength(4);
    expect(emulator.requests()).toHaveLength(1);
  });
});

describe('togetherMetadataFetch', () => {
  /** A fetch answering every request with `body`. */
  const answering = (body: string, status = 200): typeof globalThis.fetch => async () => new Response(body, { status, headers: { 'content-type': 'application/json' } });
  const post = (fetch: typeof globalThis.fetch, url = 'http://127.0.0.1:9/v1/images/generations') => fetch(url, { method: 'POST', body: '{}' });

  it('carries the id, seeds and timings in a header and leaves the body as it was, byte for byte', async () => {
    const body = '{"id":"r-1","model":"m","object":"list","data":[{"index":0,"b64_json":"QUJD","seed":7,"timings":{"inference":0.25}},{"index":1,"type":"b64_json","b64_json" : "REVG","timings":{"inference":0.5}}]}';
    const response = await post(togetherMetadataFetch(answering(body)));
    expect(await response.text()).toBe(body);
    const header = response.headers.get('x-ai-imagegen-together-metadata');
    expect(JSON.parse(decodeURIComponent(header!))).toEqual({ id: 'r-1', images: [{ seed: 7, inference: 0.25 }, { inference: 0.5 }] });
    expect(response.headers.get('content-type')).toBe('application/json');
  });

  it('passes anything else through untouched: errors, other paths, GETs, bodies that are not JSON', async () => {
    const error = '{"error":{"message":"nope"}}';
    for (const [fetch, url, init] of [
      [answering(error, 400), 'http://h/v1/images/generations', { method: 'POST' }],
      [answering('{"id":"x","data":[]}'), 'http://h/v1/models', { method: 'POST' }],
      [answering('{"id":"x","data":[]}'), 'http://h/v1/images/generations', { method: 'GET' }],
      [answering('not json'), 'http://h/v1/images/generations', { method: 'POST' }],
    ] as const) {
      const response = await togetherMetadataFetch(fetch)(url, init);
      expect(response.headers.get('x-ai-imagegen-together-metadata')).toBeNull();
      expect(await response.text()).toBe(await (await fetch(url, init)).text());
    }
  });
});
