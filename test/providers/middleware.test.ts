import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { createOpenAI } from '@ai-sdk/openai';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createXai } from '@ai-sdk/xai';
import { generateImage } from 'ai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { imageModel, InvalidRequestError } from '../../src/index.js';
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
      // The same words generateImages gives: one mapping serves both doors.
      { type: 'other', message: 'DALL·E 3 takes only 1024x1024, 1792x1024, 1024x1792; sent 1792x1024 instead of 1344x768' },
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
