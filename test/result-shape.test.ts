import type { ImageModelV3, ImageModelV3ProviderMetadata } from '@ai-sdk/provider';
import { generateImage, type GenerateImageResult } from 'ai';
import { describe, expect, it } from 'vitest';
import { generateImages, InvalidResponseError } from '../src/index.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

type Answer = { images?: (Uint8Array | string)[]; providerMetadata?: ImageModelV3ProviderMetadata; usage?: { inputTokens?: number; outputTokens?: number; totalTokens?: number } };

/** A v3 model answering each call from a script (by call number), as a provider package would. */
function scriptedModel(answer: (call: number, n: number) => Answer, maxImagesPerCall = 2): ImageModelV3 {
  let calls = 0;
  return {
    specificationVersion: 'v3',
    provider: 'scripted.image',
    modelId: 'scripted',
    maxImagesPerCall,
    async doGenerate({ n }) {
      const call = calls++;
      const { images, providerMetadata, usage } = answer(call, n);
      return {
        images: (images as Uint8Array[] | undefined) ?? Array.from({ length: n }, (_, index) => renderPlaceholder({ prompt: 'p', seed: call * 10 + index, width: 64, height: 64, format: 'png' })),
        warnings: [{ type: 'unsupported', feature: 'seed', details: 'not here' }],
        response: { timestamp: new Date(1000 * call), modelId: 'scripted', headers: { 'x-call': String(call) } },
        ...(providerMetadata === undefined ? {} : { providerMetadata }),
        ...(usage === undefined ? {} : { usage: { inputTokens: usage.inputTokens, outputTokens: usage.outputTokens, totalTokens: usage.totalTokens } }),
      };
    },
  };
}

const metadataOf = (call: number, n: number): ImageModelV3ProviderMetadata => ({
  scripted: { images: Array.from({ length: n }, (_, index) => ({ call, index })), revisedPrompt: `call ${call}` },
  gateway: { images: [], cost: call === 0 ? '0.0125' : '0.0075', routing: `r${call}` },
});

describe('the result has generateImage’s shape', () => {
  it('type-checks as the AI SDK’s GenerateImageResult, and reads the same as generateImage’s for the same calls', async () => {
    const answer = (call: number, n: number): Answer => ({ providerMetadata: metadataOf(call, n), usage: { inputTokens: 10 + call, outputTokens: 100 } });
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:scripted', size: '64x64', count: 2 },
      { providers: { scripted: { imageModel: () => scriptedModel(answer) } }, concurrency: 1 },
    );
    // Code written for generateImage's result takes ours as it is.
    const ours: GenerateImageResult = result;
    // An id no catalog knows takes one image a call: two calls, as generateImage makes them here.
    const theirs = await generateImage({ model: scriptedModel(answer), prompt: 'p', size: '64x64', n: 2, maxImagesPerCall: 1 });

    expect(ours.image).toBe(ours.images[0]);
    expect(ours.images.map((image) => [image.mediaType, image.base64])).toEqual(theirs.images.map((image) => [image.mediaType, image.base64]));
    expect(ours.images.map((image) => Buffer.from(image.uint8Array).toString('base64'))).toEqual(theirs.images.map((image) => image.base64));
    // Merged as generateImage merges it: only each provider's per-image entries, joined; the
    // gateway's fields merged, its cost added up across the two calls, an empty images left out.
    // ai 7 adds the gateway's cost up across calls; ai 6 (installed here) keeps the last call's.
    const { gateway: ourGateway, ...ourOthers } = ours.providerMetadata;
    const { gateway: theirGateway, ...theirOthers } = theirs.providerMetadata;
    expect(ourOthers).toEqual(theirOthers);
    expect({ ...(ourGateway as object), cost: undefined }).toEqual({ ...(theirGateway as object), cost: undefined });
    expect(ours.providerMetadata).toEqual({
      scripted: { images: [{ call: 0, index: 0 }, { call: 1, index: 0 }] },
      gateway: { cost: '0.02', routing: 'r1' },
    });
    expect(ours.usage).toEqual(theirs.usage);
    expect(ours.usage).toEqual({ inputTokens: 21, outputTokens: 200, totalTokens: undefined });
    expect(ours.responses).toHaveLength(2);
    expect(ours.responses).toEqual(theirs.responses);
    // The provider's warnings keep the AI SDK's type, once per call as generateImage gives them.
    const fromProvider = result.warnings.filter((warning) => warning.source === 'provider');
    expect(fromProvider.map(({ type }) => type)).toEqual(theirs.warnings.map(({ type }) => type));
    expect(fromProvider[0]).toMatchObject({ type: 'unsupported', feature: 'seed', details: 'not here', source: 'provider', message: 'unsupported: seed (not here)' });
  });

  it('calls: one entry per provider call, in ai 7’s shape (images, warnings, response, usage, providerMetadata) with the toolkit’s report', async () => {
    const answer = (call: number, n: number): Answer => ({ providerMetadata: metadataOf(call, n), ...(call === 1 ? { usage: { outputTokens: 5 } } : {}) });
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:scripted', size: '64x64', count: 3 },
      { providers: { scripted: { imageModel: () => scriptedModel(answer) } }, concurrency: 1 },
    );
    expect(result.calls).toHaveLength(3);
    const [first, second] = result.calls;
    expect(result.calls.flatMap((call) => call.images)).toEqual(result.images);
    expect(first).toMatchObject({ n: 1, attempts: 1, response: { modelId: 'scripted', headers: { 'x-call': '0' } }, providerMetadata: metadataOf(0, 1) });
    expect(first!.usage).toBeUndefined();
    expect(second).toMatchObject({ n: 1, usage: { outputTokens: 5 } });
    expect(first!.warnings).toHaveLength(1);
    expect(first!.durationMs).toBeGreaterThanOrEqual(0);
  });

  it('an image that cannot be read costs only itself: the call’s other images are kept, the bad one reported', async () => {
    const svg = new TextEncoder().encode('<svg xmlns="http://www.w3.org/2000/svg" width="40" height="30"><rect width="40" height="30"/></svg>');
    const garbage = new Uint8Array([1, 2, 3, 4, 5, 6, 7, 8]);
    const png = renderPlaceholder({ prompt: 'p', seed: 1, width: 64, height: 64, format: 'png' });
    const result = await generateImages(
      { prompt: 'p', model: 'scripted:scripted', size: '64x64' },
      { providers: { scripted: { imageModel: () => scriptedModel(() => ({ images: [png, svg, garbage] }), 3) } }, maxRetries: 0 },
    );
    // A PNG and an SVG (Recraft's vector models answer SVG): both kept, each sized from its bytes.
    expect(result.images.map((image) => [image.index, image.mediaType, image.width, image.height, image.extension])).toEqual([
      [0, 'image/png', 64, 64, 'png'],
      [1, 'image/svg+xml', 40, 30, 'svg'],
    ]);
    expect(result.errors).toHaveLength(1);
    expect(InvalidResponseError.isInstance(result.errors[0])).toBe(true);
    expect(result.errors[0]!.message).toMatch(/image 2 is not a valid image/);
  });

  it('a call whose every image is unreadable fails as that call’s error', async () => {
    const error = await generateImages(
      { prompt: 'p', model: 'scripted:scripted', size: '64x64' },
      { providers: { scripted: { imageModel: () => scriptedModel(() => ({ images: [new Uint8Array([9, 9, 9])] }), 1) } } },
    ).catch((caught: unknown) => caught);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
  });
});
