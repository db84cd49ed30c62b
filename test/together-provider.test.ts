import type { ImageModelV3 } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { readdir, readFile } from 'node:fs/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { generateImages, InvalidRequestError, MissingApiKeyError } from '../src/index.js';
import { prepareGeneration } from '../src/generate.js';
import type { ImageModelV4Like } from '../src/shared/model-version.js';
import { together } from '../src/providers/together/index.js';
import { TogetherImageModel } from '../src/providers/together/image-model.js';

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

  it('count 3 in one request: three per-image entries in providerMetadata, each with the response id', async () => {
    useEmulator();
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 3, seed: 2 });
    const images = (result.providerMetadata.togetherai as { images: { id: string; timings: { inference: number } }[] }).images;
    expect(images).toHaveLength(3);
    expect(new Set(images.map((image) => image.id))).toEqual(new Set([result.images[0]!.responseId]));
    expect(result.images.map((image) => image.timings?.inferenceSeconds)).toEqual(images.map((image) => image.timings.inference));
  });

  it('does not load @ai-sdk/togetherai: no file of the provider imports it', async () => {
    const folder = new URL('../src/providers/together/', import.meta.url);
    const files = (await readdir(folder)).filter((file) => file.endsWith('.ts'));
    expect(files.sort()).toEqual(['image-model.ts', 'index.ts', 'list-models.ts', 'map.ts', 'models.ts', 'settings.ts']);
    for (const file of files) expect(await readFile(new URL(file, folder), 'utf8')).not.toMatch(/from '@ai-sdk\/togetherai'/);
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

  it('is rebuilt as the toolkit’s model: the app’s key, base URL, headers and fetch; the ids and timings kept', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    const { fetch, urls } = recordingFetch();
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch, headers: { 'x-app': 'mine' } });
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 6, seed: 5 }, { providers: { togetherai } });
    expect(urls).toEqual([`${emulator.url}/images/generations`, `${emulator.url}/images/generations`]);
    const [request] = emulator.requests();
    expect(request?.headers).toMatchObject({ authorization: `Bearer ${KEY}`, 'x-app': 'mine' });
    expect(request?.headers['user-agent']).toMatch(/^ai\/6\.\S+ ai-imagegen\//);
    expect(bodies()).toEqual([
      { model: SCHNELL, prompt: 'p', seed: 5, n: 4, width: 256, height: 256, response_format: 'base64' },
      { model: SCHNELL, prompt: 'p', seed: 9, n: 2, width: 256, height: 256, response_format: 'base64' },
    ]);
    for (const image of result.images) {
      expect(image.responseId).toMatch(/.+/);
      expect(image.timings?.inferenceSeconds).toBeGreaterThanOrEqual(0);
    }
    // Both responses' per-image entries, in order (the metadata of one call no longer replaces the other's).
    const images = (result.providerMetadata.togetherai as { images: { id: string }[] }).images;
    expect(images.map((image) => image.id)).toEqual(result.images.map((image) => image.responseId));
    expect(new Set(images.map((image) => image.id)).size).toBe(2);
  });

  it('responseFormat "url" works through it: the URLs kept, nothing downloaded', async () => {
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const result = await generateImages({ prompt: 'p', size: '256x256', count: 2, seed: 3, responseFormat: 'url' }, { providers: { togetherai } });
    expect((bodies()[0] as { response_format: string }).response_format).toBe('url');
    expect(emulator.stats().downloads).toBe(0);
    for (const image of result.images) {
      expect(image.hasBytes).toBe(false);
      expect(image.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/v1\/images\/files\//);
    }
  });

  it('responseFormat "url" is refused for a Together model the toolkit cannot rebuild (a wrapped one), before anything is sent', async () => {
    const wrapped = (model: ImageModelV3): ImageModelV3 => ({
      specificationVersion: 'v3',
      provider: model.provider,
      modelId: model.modelId,
      maxImagesPerCall: model.maxImagesPerCall,
      doGenerate: (options) => model.doGenerate(options),
    });
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const provider = { image: (modelId: string) => wrapped(togetherai.image(modelId)) };
    const error = await generateImages({ prompt: 'p', size: '256x256', responseFormat: 'url' }, { providers: { togetherai: provider } }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatchInlineSnapshot(`
      "Invalid request; nothing was sent:
        - responseFormat: needs the built-in togetherai provider or an app's own createTogetherAI() instance (this model cannot return URLs); configure it with TOGETHER_API_KEY / TOGETHER_BASE_URL (got "url")"
    `);
    expect(emulator.requests()).toEqual([]);
    // Without URLs, the wrapped model is used as it is.
    const result = await generateImages({ prompt: 'p', size: '256x256', seed: 1 }, { providers: { togetherai: provider } });
    expect(result.images[0]?.responseId).toBeUndefined();
    expect(emulator.requests()).toHaveLength(1);
  });
});

describe('fromAppModel', () => {
  it('takes @ai-sdk/togetherai 2.x models, and 3.x ones (spec v4, headers optional); nothing else', async () => {
    const fromTwo = together.fromAppModel!(createTogetherAI({ apiKey: KEY, baseURL: emulator.url }).image(SCHNELL));
    expect(fromTwo).toBeInstanceOf(TogetherImageModel);
    expect(fromTwo).toMatchObject({ specificationVersion: 'v3', provider: 'togetherai.image', modelId: SCHNELL, maxImagesPerCall: 4 });

    // The shape of @ai-sdk/togetherai 3.x's image model (read from its dist, 3.0.54): spec v4, and a
    // `config` whose `headers` its types make optional; here a config without one.
    const threeX = {
      specificationVersion: 'v4',
      provider: 'togetherai.image',
      modelId: 'black-forest-labs/FLUX.1.1-pro',
      maxImagesPerCall: 1,
      config: { provider: 'togetherai.image', baseURL: emulator.url, fetch: globalThis.fetch },
      doGenerate: () => Promise.reject(new Error('not used')),
    } as unknown as ImageModelV4Like;
    const fromThree = together.fromAppModel!(threeX) as ImageModelV3;
    expect(fromThree).toBeInstanceOf(TogetherImageModel);
    expect(fromThree).toMatchObject({ provider: 'togetherai.image', modelId: 'black-forest-labs/FLUX.1.1-pro', maxImagesPerCall: 1 });
    // The emulator refuses a request without a key: no config headers, so none were made up.
    const error = await Promise.resolve(
      fromThree.doGenerate({ prompt: 'p', n: 1, size: '256x256', aspectRatio: undefined, seed: undefined, files: undefined, mask: undefined, providerOptions: {} }),
    ).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ statusCode: 401 });

    const notTogether = { ...threeX, provider: 'openai.image' } as ImageModelV4Like;
    expect(together.fromAppModel!(notTogether)).toBeUndefined();
    const noConfig = { specificationVersion: 'v3', provider: 'togetherai.image', modelId: SCHNELL, maxImagesPerCall: 1, doGenerate: threeX.doGenerate } as unknown as ImageModelV3;
    expect(together.fromAppModel!(noConfig)).toBeUndefined();
  });
});
