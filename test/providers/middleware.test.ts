import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { createOpenAI } from '@ai-sdk/openai';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createXai } from '@ai-sdk/xai';
import { APICallError, generateImage } from 'ai';
import { MockImageModelV3 } from 'ai/test';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { imageModel, InvalidRequestError, MissingApiKeyError } from '../../src/index.js';
import { fileRoute, startProviderServer, TEST_KEY, testImage, toBase64, type ProviderServer } from '../helpers/provider-server.js';

let server: ProviderServer;

beforeAll(async () => {
  // The warnings are asserted on; the AI SDK would also print them.
  globalThis.AI_SDK_LOG_WARNINGS = false;
  const images = (count: number) => Array.from({ length: count }, (_, index) => ({ b64_json: toBase64(testImage(index)) }));
  server = await startProviderServer([
    fileRoute,
    { method: 'POST', path: '/images/generations', respond: (request) => ({ json: { data: images((request.body as { n: number }).n) } }) },
    { method: 'GET', path: '/v1/get_result', respond: (_request, { url }) => ({ json: { status: 'Ready', result: { sample: `${url}/files/1.png` } } }) },
    { method: 'POST', path: '/flux-pro-1.1', respond: (_request, { url }) => ({ json: { id: 'task', polling_url: `${url}/v1/get_result?id=task` } }) },
  ]);
});
afterAll(async () => {
  globalThis.AI_SDK_LOG_WARNINGS = undefined;
  await server.close();
});

describe('imageModel(): the catalog applied to plain generateImage calls', () => {
  it('openai: an aspect ratio becomes the nearest size the model takes, with a warning instead of a drop', async () => {
    server.reset();
    const model = imageModel('openai:dall-e-3', { providers: { openai: createOpenAI({ baseURL: server.url, apiKey: TEST_KEY }) } });
    const result = await generateImage({ model, prompt: 'p', aspectRatio: '16:9', n: 2 });
    expect(server.bodies('POST', '/images/generations')).toEqual([
      { model: 'dall-e-3', prompt: 'p', n: 1, size: '1792x1024', response_format: 'b64_json' },
      { model: 'dall-e-3', prompt: 'p', n: 1, size: '1792x1024', response_format: 'b64_json' },
    ]);
    expect(result.warnings).toEqual([
      // The same words generateImages gives, once as it gives them: one mapping serves both doors.
      { type: 'other', message: 'DALL·E 3 takes only 1024x1024, 1792x1024, 1024x1792; sent 1792x1024 instead of 1344x768' },
    ]);
  });

  it('xai: up to ten per call, a size turned into the nearest ratio', async () => {
    server.reset();
    const model = imageModel('xai:grok-imagine-image', { providers: { xai: createXai({ baseURL: server.url, apiKey: TEST_KEY }) } });
    await generateImage({ model, prompt: 'p', size: '1024x1024', n: 5 });
    expect(server.bodies('POST', '/images/generations')).toEqual([
      { model: 'grok-imagine-image', prompt: 'p', n: 5, response_format: 'b64_json', aspect_ratio: '1:1' },
    ]);
  });

  it('black-forest-labs: a size as width and height, without the reduced ratio or the package warning', async () => {
    server.reset();
    const model = imageModel('black-forest-labs:flux-pro-1.1', {
      providers: { 'black-forest-labs': createBlackForestLabs({ baseURL: server.url, apiKey: TEST_KEY }) },
    });
    const result = await generateImage({ model, prompt: 'p', size: '1344x768', seed: 1 });
    expect(server.bodies('POST', '/flux-pro-1.1')).toEqual([{ prompt: 'p', seed: 1, width: 1344, height: 768 }]);
    expect(result.warnings).toEqual([]);
  });
});

describe('imageModel() refuses typos as generateImages does', () => {
  it('a model id a slip away from a known one is an InvalidRequestError with the suggestion; a far one is made', () => {
    expect(() => imageModel('togetherai:black-forest-labs/FLUX.1-shnell')).toThrow(InvalidRequestError);
    expect(() => imageModel('togetherai:black-forest-labs/FLUX.1-shnell')).toThrow(/did you mean "togetherai:black-forest-labs\/FLUX.1-schnell"/);
    expect(() => imageModel('local:placehodler')).toThrow(/did you mean "local:placeholder"/);
    const togetherai = createTogetherAI({ apiKey: 'test-key', baseURL: 'http://127.0.0.1:9' });
    expect(imageModel('togetherai:acme/entirely-new-model', { providers: { togetherai } }).modelId).toBe('acme/entirely-new-model');
  });
});

describe('imageModel(): a count split into calls, as generateImages splits it', () => {
  it('a call that fails while the others bring images is said in a warning, not lost silently', async () => {
    const seeds: (number | undefined)[] = [];
    const base = new MockImageModelV3({
      provider: 'togetherai.image',
      modelId: 'black-forest-labs/FLUX.1-schnell',
      maxImagesPerCall: 4,
      doGenerate: async (options) => {
        seeds.push(options.seed);
        if (options.seed === 24) {
          throw new APICallError({ message: 'upstream busy', url: 'http://127.0.0.1', requestBodyValues: {}, statusCode: 500, isRetryable: false });
        }
        return { images: Array.from({ length: options.n }, (_, index) => toBase64(testImage(index))), warnings: [], response: { timestamp: new Date(), modelId: 'm', headers: undefined } };
      },
    });
    const model = imageModel('togetherai:black-forest-labs/FLUX.1-schnell', { providers: { togetherai: { image: () => base } } });
    const { images, warnings } = await generateImage({ model, prompt: 'p', n: 8, size: '512x512', seed: 20, maxRetries: 0 });
    expect(seeds.sort()).toEqual([20, 24]);
    expect(images).toHaveLength(4);
    expect(warnings).toEqual([{ type: 'other', message: 'call 2 of 2 (4 images, seed 24) failed, so its images are missing: upstream busy' }]);
  });

  it('when every call fails, generateImage gets the error (and retries it as it retries one call)', async () => {
    const base = new MockImageModelV3({
      provider: 'togetherai.image',
      modelId: 'black-forest-labs/FLUX.1-schnell',
      maxImagesPerCall: 4,
      doGenerate: async () => {
        throw new APICallError({ message: 'upstream down', url: 'http://127.0.0.1', requestBodyValues: {}, statusCode: 500, isRetryable: false });
      },
    });
    const model = imageModel('togetherai:black-forest-labs/FLUX.1-schnell', { providers: { togetherai: { image: () => base } } });
    await expect(generateImage({ model, prompt: 'p', n: 8, size: '512x512', maxRetries: 0 })).rejects.toThrow('upstream down');
  });
});

describe('imageModel(): keys are read at call time, as AI SDK providers read them', () => {
  afterEach(() => vi.unstubAllEnvs());

  it('built without a key (a module-scope model during `next build`), it reads the key at each call', async () => {
    vi.stubEnv('TOGETHER_API_KEY', undefined);
    vi.stubEnv('TOGETHER_AI_API_KEY', undefined);
    vi.stubEnv('TOGETHER_BASE_URL', server.url);
    const model = imageModel('togetherai:black-forest-labs/FLUX.1-schnell');
    await expect(generateImage({ model, prompt: 'p', size: '512x512', maxRetries: 0 })).rejects.toSatisfy((error) => MissingApiKeyError.isInstance(error));
    vi.stubEnv('TOGETHER_API_KEY', TEST_KEY);
    server.reset();
    // n 2: this server answers with `n` images, and Together's body leaves n out for one.
    const { images } = await generateImage({ model, prompt: 'p', size: '512x512', n: 2, maxRetries: 0 });
    expect(images).toHaveLength(2);
    expect(server.requests()[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
  });
});

describe('imageModel(): raw steps as generateImages takes steps', () => {
  it('to a model without steps: left out, with the warning generateImages gives', async () => {
    server.reset();
    const model = imageModel('openai:gpt-image-1', { providers: { openai: createOpenAI({ baseURL: server.url, apiKey: TEST_KEY }) } });
    const result = await generateImage({ model, prompt: 'p', size: '1024x1024', providerOptions: { openai: { steps: 4, quality: 'low' } } });
    expect(server.bodies('POST', '/images/generations')).toEqual([{ model: 'gpt-image-1', prompt: 'p', n: 1, size: '1024x1024', quality: 'low' }]);
    expect(result.warnings).toEqual([{ type: 'other', message: 'GPT Image 1 takes no steps; it was not sent' }]);
  });
});
