import type { ImageModelV3 } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createProviderRegistry, generateImage } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { generateImages, imageModel, InvalidRequestError, togetherMetadataFetch } from '../src/index.js';
import { forInstalledAi, installedAiMajor, toImageModelV3, type ImageModelV4Like } from '../src/shared/model-version.js';

// AI SDK 7 providers make spec v4 models. ai 6 (what this suite runs on) throws on a raw v4 model,
// so these tests prove the toolkit converts them itself; the consumer suite runs the real ai 7.
const KEY = 'test-key-versions';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 3 });
});
afterAll(() => emulator.close());
afterEach(() => emulator.reset());

const bodies = () => emulator.requests().map((request) => request.body);

/** What an AI SDK 7 Together model looks like from outside: spec v4, and a `deprecated` warning. */
function asV4(model: ImageModelV3): ImageModelV4Like {
  return {
    specificationVersion: 'v4',
    provider: model.provider,
    modelId: model.modelId,
    maxImagesPerCall: model.maxImagesPerCall,
    async doGenerate(options) {
      const result = await model.doGenerate(options);
      return { ...result, isRetryable: false, warnings: [...result.warnings, { type: 'deprecated', setting: 'guidance', message: 'use guidance_scale' }] };
    },
  };
}

const v4Provider = () => {
  const together = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
  const image = (modelId: string) => asV4(together.image(modelId));
  return { image, imageModel: image };
};

describe('AI SDK 7 (v4) models and providers, converted explicitly', () => {
  it('an app’s v4 provider instance through generateImages: count 4 is one request, the deprecation a warning', async () => {
    const result = await generateImages(
      { prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', count: 4, seed: 5, size: '512x512' },
      { providers: { togetherai: v4Provider() } },
    );
    expect(result.images).toHaveLength(4);
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', seed: 5, n: 4, width: 512, height: 512, response_format: 'base64' },
    ]);
    expect(result.warnings).toContainEqual({ type: 'other', source: 'provider', message: 'deprecated: guidance (use guidance_scale)' });
  });

  it('a registry whose provider makes v4 models', async () => {
    const registry = createProviderRegistry({ together: v4Provider() as never });
    const result = await generateImages({ prompt: 'p', model: 'together:black-forest-labs/FLUX.1-schnell', count: 2, seed: 1, size: '256x256' }, { providers: registry });
    expect(result.images).toHaveLength(2);
    expect(bodies()).toHaveLength(1);
  });

  it('imageModel() over a v4 model works with ai 6’s generateImage (which refuses raw v4 models)', async () => {
    const raw = v4Provider().image('black-forest-labs/FLUX.1-schnell');
    await expect(generateImage({ model: raw as never, prompt: 'p' })).rejects.toThrow(/version/i);
    const model = imageModel('togetherai:black-forest-labs/FLUX.1-schnell', { providers: { togetherai: v4Provider() } });
    expect(model.specificationVersion).toBe('v3');
    const { images } = await generateImage({ model, prompt: 'p', n: 4, aspectRatio: '16:9', seed: 2 });
    expect(images).toHaveLength(4);
    expect(bodies()).toEqual([{ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', seed: 2, n: 4, width: 1344, height: 768, response_format: 'base64' }]);
  });

  it('a model of another spec version is refused with what is taken', () => {
    const v2 = { specificationVersion: 'v2', provider: 'old', modelId: 'm', maxImagesPerCall: 1, doGenerate: async () => ({}) };
    expect(() => toImageModelV3(v2 as never)).toThrow(InvalidRequestError);
    expect(() => toImageModelV3(v2 as never)).toThrow(/specificationVersion v2; ai-imagegen takes image models of AI SDK 6 \(v3\) and AI SDK 7 \(v4\)/);
  });
});

/**
 * An AI SDK 7 model whose provider filtered the prompt: no images, marked `isRetryable: false` (as
 * `@ai-sdk/google` marks blocked prompts), so `generateImage` must not send it again. Counts calls.
 */
function filteredV4Model() {
  const calls: number[] = [];
  const model: ImageModelV4Like = {
    specificationVersion: 'v4',
    provider: 'togetherai.image',
    modelId: 'black-forest-labs/FLUX.1-schnell',
    maxImagesPerCall: 4,
    supportsFileInputs: true,
    supportsMaskInputs: false,
    async doGenerate(options) {
      calls.push(options.n);
      return { images: [], warnings: [], isRetryable: false, response: { timestamp: new Date(), modelId: 'black-forest-labs/FLUX.1-schnell', headers: {} } };
    },
  };
  return { model, calls, provider: { image: () => model, imageModel: () => model } };
}

describe('AI SDK 7 (v4) models keep every field on ai 6', () => {
  it('the installed ai is detected through its public API', () => {
    expect(installedAiMajor()).toBe(6);
  });

  it('toImageModelV3 keeps supportsFileInputs, supportsMaskInputs and a result’s isRetryable', async () => {
    const { model } = filteredV4Model();
    const converted = forInstalledAi(model);
    expect(converted.specificationVersion).toBe('v3');
    expect(converted).toMatchObject({ provider: 'togetherai.image', modelId: 'black-forest-labs/FLUX.1-schnell', maxImagesPerCall: 4, supportsFileInputs: true, supportsMaskInputs: false });
    const result = await converted.doGenerate({ prompt: 'p', n: 1, size: undefined, aspectRatio: undefined, seed: undefined, files: undefined, mask: undefined, providerOptions: {} });
    expect(result.isRetryable).toBe(false);
  });

  it('an empty result marked isRetryable: false is sent once through generateImages, not 3 times', async () => {
    const { calls, provider } = filteredV4Model();
    // generateImage then reports that no image came back: the point is how often it was sent.
    await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', count: 4, size: '512x512' }, { providers: { togetherai: provider } }).catch(() => undefined);
    expect(calls).toEqual([4]);
  });

  it('… and once through imageModel() and ai 6’s generateImage', async () => {
    const { calls, provider } = filteredV4Model();
    const model = imageModel('togetherai:black-forest-labs/FLUX.1-schnell', { providers: { togetherai: provider } });
    await expect(generateImage({ model, prompt: 'p', n: 4 })).rejects.toThrow(/No image generated/);
    expect(calls).toEqual([4]);
  });
});

describe('an app’s own Together instance keeps what the built-in one keeps, with togetherMetadataFetch', () => {
  it('responseId and timings are kept, through the app’s own fetch', async () => {
    const seen: string[] = [];
    const appFetch: typeof fetch = (input, init) => {
      seen.push(String(input));
      return fetch(input, init);
    };
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch: togetherMetadataFetch(appFetch) });
    const result = await generateImages({ prompt: 'p', count: 2, size: '256x256' }, { providers: { togetherai } });
    expect(seen).toEqual([`${emulator.url}/images/generations`]);
    const [first, second] = result.images;
    expect(first?.responseId).toMatch(/.+/);
    expect(second?.responseId).toBe(first?.responseId);
    expect(first?.timings?.inferenceSeconds).toBeGreaterThanOrEqual(0);
    expect(result.calls[0]?.responseId).toBe(first?.responseId);
  });

  it('through a registry too', async () => {
    const registry = createProviderRegistry({ togetherai: createTogetherAI({ apiKey: KEY, baseURL: emulator.url, fetch: togetherMetadataFetch() }) });
    const viaRegistry = await generateImages({ prompt: 'p', size: '256x256' }, { providers: { registry } });
    expect(viaRegistry.images[0]?.responseId).toMatch(/.+/);
  });

  it('a model that is not the AI SDK’s Together model is used as it is, without ids', async () => {
    const together = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const inner = together.image('black-forest-labs/FLUX.1-schnell');
    const wrapped: ImageModelV3 = {
      specificationVersion: 'v3',
      provider: inner.provider,
      modelId: inner.modelId,
      maxImagesPerCall: inner.maxImagesPerCall,
      doGenerate: (options) => inner.doGenerate(options),
    };
    const result = await generateImages({ prompt: 'p', size: '256x256' }, { providers: { togetherai: { image: () => wrapped } } });
    expect(result.images).toHaveLength(1);
    expect(result.images[0]?.responseId).toBeUndefined();
  });
});
