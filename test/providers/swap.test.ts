import { createFal } from '@ai-sdk/fal';
import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { GeneratedImage, generateImages, type GenerateImagesResult } from '../../src/index.js';
import { fileRoute, startProviderServer, TEST_KEY, testImage, toBase64, type ProviderServer } from '../helpers/provider-server.js';

let server: ProviderServer;

beforeAll(async () => {
  server = await startProviderServer([
    fileRoute,
    {
      method: 'POST',
      path: '/images/generations',
      respond: (request) => ({
        json: { data: Array.from({ length: (request.body as { n: number }).n }, (_, index) => ({ b64_json: toBase64(testImage(index)) })) },
      }),
    },
    {
      method: 'POST',
      path: /^\/fal-ai\//,
      respond: (request, { url }) => ({
        json: { images: Array.from({ length: (request.body as { num_images: number }).num_images }, (_, index) => ({ url: `${url}/files/${index}.png` })) },
      }),
    },
  ]);
});
afterAll(() => server.close());

/** The type of each field, `undefined` included: what a caller can rely on. */
const shapeOf = (value: object) => Object.fromEntries(Object.entries(value).map(([key, field]) => [key, field === null ? 'null' : Array.isArray(field) ? 'array' : typeof field]));

describe('swap providers by changing the model string', () => {
  it('one request on local, openai and fal: the same result shape and image shape', async () => {
    const providers = {
      openai: createOpenAI({ baseURL: server.url, apiKey: TEST_KEY }),
      fal: createFal({ baseURL: server.url, apiKey: TEST_KEY }),
    };
    const request = { prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 2, seed: 42 } as const;
    const results: GenerateImagesResult[] = [];
    for (const model of ['local:placeholder', 'openai:gpt-image-1', 'fal:fal-ai/flux/dev']) {
      results.push(await generateImages({ ...request, model }, { providers }));
    }

    const resultShapes = results.map(({ estimatedCostUsd: _cost, ...result }) => shapeOf(result));
    expect(resultShapes[1]).toEqual(resultShapes[0]);
    expect(resultShapes[2]).toEqual(resultShapes[0]);
    for (const result of results) {
      expect(result.images).toHaveLength(2);
      expect(result.errors).toEqual([]);
      for (const image of result.images) {
        expect(image).toBeInstanceOf(GeneratedImage);
        expect(image.uint8Array).toBeInstanceOf(Uint8Array);
        expect(Object.keys(image.toJSON()).sort()).toEqual(Object.keys(results[0]!.images[0]!.toJSON()).sort());
        expect(image).toMatchObject({ mediaType: 'image/png', provider: expect.any(String), modelId: expect.any(String) });
        expect(typeof image.width).toBe('number');
        expect(image.toDataURL()).toMatch(/^data:image\/png;base64,/);
      }
    }
    // What differs is what each provider did with the request, and it says so.
    expect(results.map((result) => result.images.map((image) => [image.provider, image.width, image.height, image.seed]))).toEqual([
      [['local', 1344, 768, 42], ['local', 1344, 768, 43]],
      [['openai', 256, 256, undefined], ['openai', 256, 256, undefined]],
      [['fal', 256, 256, 42], ['fal', 256, 256, 42]],
    ]);
    expect(results.map((result) => result.warnings.map((warning) => warning.field))).toEqual([[], ['seed', 'size'], []]);
    // The estimate comes from each model's catalog price: free locally, none listed for gpt-image-1,
    // fal's FLUX.1 [dev] per megapixel (1344x768, two images).
    expect(results.map((result) => result.estimatedCostUsd)).toEqual([0, undefined, expect.closeTo(0.05161, 6)]);
  });
});
