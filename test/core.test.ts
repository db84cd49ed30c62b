import { APICallError, generateImage } from 'ai';
import { MockImageModelV3 } from 'ai/test';
import { afterEach, describe, expect, it, vi } from 'vitest';
import {
  createLocalImageModel,
  generateImages,
  GeneratedImage,
  imageModel,
  InvalidRequestError,
  prepareGeneration,
  ProviderError,
} from '../src/index.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

const png = (seed: number) => renderPlaceholder({ prompt: 'mock', seed, width: 32, height: 24, format: 'png' });

/** A model whose calls fail or succeed by call number (from 1). */
function scriptedModel(failOn: Set<number>, maxImagesPerCall = 1) {
  let call = 0;
  let inFlight = 0;
  const stats = { calls: 0, maxInFlight: 0 };
  const model = new MockImageModelV3({
    provider: 'scripted.image',
    modelId: 'scripted',
    maxImagesPerCall,
    doGenerate: async ({ n }) => {
      call += 1;
      stats.calls += 1;
      const current = call;
      inFlight += 1;
      stats.maxInFlight = Math.max(stats.maxInFlight, inFlight);
      await new Promise((resolve) => setTimeout(resolve, 5));
      inFlight -= 1;
      if (failOn.has(current)) {
        throw new APICallError({ message: 'boom', url: 'http://127.0.0.1/x', requestBodyValues: {}, statusCode: 500, isRetryable: false, responseBody: '{"error":{"message":"upstream exploded"}}' });
      }
      return {
        images: Array.from({ length: n }, (_, index) => png(current * 10 + index)),
        warnings: [{ type: 'other' as const, message: `call ${current} warning` }],
        response: { timestamp: new Date(), modelId: 'scripted', headers: undefined },
      };
    },
  });
  return { model, stats };
}

afterEach(() => vi.restoreAllMocks());

describe('local:placeholder', () => {
  it('same input, same bytes; different seeds, different images', async () => {
    const request = { prompt: 'a red fox', model: 'local:placeholder', size: '64x48', seed: 3 } as const;
    const [first, second, other] = await Promise.all([
      generateImages(request),
      generateImages(request),
      generateImages({ ...request, seed: 4 }),
    ]);
    expect(Buffer.from(first.images[0]!.uint8Array).equals(Buffer.from(second.images[0]!.uint8Array))).toBe(true);
    expect(Buffer.from(first.images[0]!.uint8Array).equals(Buffer.from(other.images[0]!.uint8Array))).toBe(false);
  });

  it('renders the requested size and format, read back from the bytes', async () => {
    const { images } = await generateImages({ prompt: 'p', model: 'local:placeholder', size: '80x40', count: 2, outputFormat: 'jpeg' });
    expect(images.map((image) => [image.width, image.height, image.mediaType, image.extension])).toEqual([
      [80, 40, 'image/jpeg', 'jpg'],
      [80, 40, 'image/jpeg', 'jpg'],
    ]);
    expect(images[0]!.toDataURL().startsWith('data:image/jpeg;base64,/9j/')).toBe(true);
  });

  it('is a real ImageModelV3 that works with plain generateImage', async () => {
    const result = await generateImage({ model: createLocalImageModel(), prompt: 'p', size: '16x16', n: 2, seed: 1 });
    expect(result.images).toHaveLength(2);
    expect(result.images[0]!.mediaType).toBe('image/png');
  });
});

describe('the GeneratedImage type', () => {
  it('carries provider, model, index, seed and the request that reproduces it', async () => {
    const result = await generateImages({ prompt: 'p', model: 'local:placeholder', size: '32x32', count: 5, seed: 100 });
    const image = result.images[4]!;
    expect(image).toBeInstanceOf(GeneratedImage);
    expect(image.toJSON()).toMatchObject({ index: 4, seed: 104, provider: 'local', modelId: 'placeholder', width: 32, height: 32 });
    // Images 4.. came from the second call: its request reproduces them.
    expect(image.request).toMatchObject({ prompt: 'p', model: 'local:placeholder', size: '32x32', count: 1, seed: 104 });
    const again = await generateImages(image.request);
    expect(Buffer.from(again.images[0]!.uint8Array).equals(Buffer.from(image.uint8Array))).toBe(true);
    expect(result.requests).toBe(2);
    expect(result.calls.map((call) => call.n)).toEqual([4, 1]);
  });
});

describe('partial failure', () => {
  it('the gap: plain generateImage loses every image when one call fails', async () => {
    const { model } = scriptedModel(new Set([2]));
    await expect(generateImage({ model, prompt: 'p', n: 3, maxRetries: 0 })).rejects.toThrow();
  });

  it('generateImages keeps the images of the calls that succeeded, with the error attached', async () => {
    const { model } = scriptedModel(new Set([2]));
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:scripted', count: 3, size: '64x64' },
      { providers: { scripted: { imageModel: () => model } }, maxRetries: 0, concurrency: 1 },
    );
    expect(result.images.map((image) => image.index)).toEqual([0, 2]);
    expect(result.errors).toHaveLength(1);
    expect(ProviderError.isInstance(result.errors[0])).toBe(true);
    expect(result.errors[0]!.message).toContain('upstream exploded');
    expect(result.calls.map((call) => call.images.map((image) => image.index))).toEqual([[0], [2]]);
  });

  it('throws the typed error when every call failed', async () => {
    const { model } = scriptedModel(new Set([1, 2]));
    await expect(
      generateImages({ prompt: 'p', model: 'scripted:x', count: 2 }, { providers: { scripted: { imageModel: () => model } }, maxRetries: 0 }),
    ).rejects.toSatisfy((error) => ProviderError.isInstance(error) && error.statusCode === 500);
  });
});

describe('concurrency', () => {
  it('the gap: plain generateImage starts every call at once', async () => {
    const { model, stats } = scriptedModel(new Set());
    await generateImage({ model, prompt: 'p', n: 6 });
    expect(stats.maxInFlight).toBe(6);
  });

  it('generateImages keeps at most `concurrency` calls in flight', async () => {
    const { model, stats } = scriptedModel(new Set());
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:x', count: 6 },
      { providers: { scripted: { imageModel: () => model } }, concurrency: 2 },
    );
    expect(result.images).toHaveLength(6);
    expect(stats.calls).toBe(6);
    expect(stats.maxInFlight).toBe(2);
  });
});

describe('warnings', () => {
  it('come back on the result and are not printed by the AI SDK', async () => {
    const warn = vi.spyOn(console, 'warn').mockImplementation(() => {});
    const info = vi.spyOn(console, 'info').mockImplementation(() => {});
    const { model } = scriptedModel(new Set());
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:x', count: 2, negativePrompt: 'n' },
      { providers: { scripted: { imageModel: () => model } } },
    );
    expect(result.warnings.map((warning) => [warning.source, warning.message])).toEqual([
      ['imagegen', 'scripted:x is not in the catalog; using generic scripted capabilities, unchecked'],
      ['provider', 'call 1 warning'],
      ['provider', 'call 2 warning'],
    ]);
    expect(warn).not.toHaveBeenCalled();
    expect(info).not.toHaveBeenCalled();
  });
});

describe('imageModel(): the AI SDK-native door', () => {
  it('raises maxImagesPerCall to the catalog value and honours aspect ratio', async () => {
    const seen: { n: number; size: string | undefined; aspectRatio: string | undefined; providerOptions: unknown }[] = [];
    const base = new MockImageModelV3({
      provider: 'togetherai.image',
      modelId: 'black-forest-labs/FLUX.2-dev',
      maxImagesPerCall: 1,
      doGenerate: async (options) => {
        seen.push({ n: options.n, size: options.size, aspectRatio: options.aspectRatio, providerOptions: options.providerOptions });
        return {
          images: Array.from({ length: options.n }, (_, index) => png(index)),
          warnings: [{ type: 'unsupported' as const, feature: 'aspectRatio', details: 'wrong upstream warning' }],
          response: { timestamp: new Date(), modelId: 'x', headers: undefined },
        };
      },
    });
    const model = imageModel('togetherai:black-forest-labs/FLUX.2-dev', { providers: { togetherai: { image: () => base } } });
    const result = await generateImage({
      model,
      prompt: 'p',
      n: 4,
      aspectRatio: '16:9',
      providerOptions: { togetherai: { guidance: 5 } },
    });
    expect(result.images).toHaveLength(4);
    expect(seen).toEqual([{ n: 4, size: '1344x768', aspectRatio: undefined, providerOptions: { togetherai: { guidance: 5 } } }]);
    expect(result.warnings).toEqual([]);

    // Without a numeric guidance the call's provider options go on as given: other keys kept, no empty entry added.
    seen.length = 0;
    await generateImage({ model, prompt: 'p', n: 1, size: '1024x768', providerOptions: { togetherai: { steps: 4 }, gateway: { order: ['togetherai'] } } });
    expect(seen[0]?.providerOptions).toEqual({ togetherai: { steps: 4 }, gateway: { order: ['togetherai'] } });
    seen.length = 0;
    await generateImage({ model, prompt: 'p', n: 1, size: '1024x768' });
    expect(seen[0]?.providerOptions).toEqual({ togetherai: {} });
  });
});

describe('strict mode and provider-level changes', () => {
  it('a size the provider snaps to one it takes is a warning, and an error under strict', async () => {
    const { createOpenAI } = await import('@ai-sdk/openai');
    // Nothing listens on port 9: an attempt to send would fail differently.
    const providers = { openai: createOpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' }) };
    const request = { prompt: 'p', model: 'openai:gpt-image-1', size: '256x256' } as const;
    const { warnings } = await prepareGeneration(request, { providers });
    expect(warnings.map((warning) => warning.message).join(' ')).toMatch(/1024x1024/);
    await expect(generateImages({ ...request, strict: true }, { providers })).rejects.toSatisfy(
      (error) => InvalidRequestError.isInstance(error) && /strict mode/.test(error.message),
    );
  });
});

describe('provider metadata across calls', () => {
  it('count 3 over three calls keeps one per-image entry each, as generateImage does (was one, by Object.assign)', async () => {
    let call = 0;
    const model = new MockImageModelV3({
      provider: 'meta.image',
      modelId: 'meta',
      maxImagesPerCall: 1,
      doGenerate: async () => {
        call += 1;
        return {
          images: [png(call)],
          warnings: [],
          providerMetadata: { meta: { images: [{ revisedPrompt: `call ${call}` }] } },
          response: { timestamp: new Date(), modelId: 'meta', headers: undefined },
        };
      },
    });
    const providers = { meta: { imageModel: () => model } };
    const plain = await generateImage({ model, prompt: 'p', n: 3 });
    call = 0;
    const result = await generateImages({ prompt: 'p', model: 'meta:meta', count: 3 }, { providers, concurrency: 1 });
    expect(result.providerMetadata).toEqual({ meta: { images: [{ revisedPrompt: 'call 1' }, { revisedPrompt: 'call 2' }, { revisedPrompt: 'call 3' }] } });
    expect(result.providerMetadata).toEqual(plain.providerMetadata);
  });
});

describe('abortSignal', () => {
  it('is an option of generateImages; a request that still carries one is taken; anything else there is refused', async () => {
    const aborted = AbortSignal.abort(new Error('stop'));
    const request = { prompt: 'p', model: 'local:placeholder', size: '64x64' } as const;
    await expect(generateImages(request, { abortSignal: aborted })).rejects.toThrow('stop');
    await expect(generateImages({ ...request, abortSignal: aborted } as never)).rejects.toThrow('stop');
    await expect(generateImages({ ...request, abortSignal: 'soon' } as never)).rejects.toThrow(/abortSignal: unknown field/);
    expect((await generateImages(request)).images).toHaveLength(1);
  });
});
