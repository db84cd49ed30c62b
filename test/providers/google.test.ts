import { createGoogleGenerativeAI } from '@ai-sdk/google';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
import { SMALL_PNG } from '../helpers/fixtures.js';
import {
  generateBothWays,
  inAnyOrder,
  SHARED_REQUEST,
  sortedBytes,
  startProviderServer,
  TEST_KEY,
  testImage,
  toBase64,
  type ProviderServer,
} from '../helpers/provider-server.js';

let server: ProviderServer;

beforeAll(async () => {
  server = await startProviderServer([
    {
      method: 'POST',
      path: /:predict$/,
      respond: (request) => {
        const { parameters } = request.body as { parameters: { sampleCount: number } };
        return {
          json: { predictions: Array.from({ length: parameters.sampleCount }, (_, index) => ({ bytesBase64Encoded: toBase64(testImage(index)), mimeType: 'image/png' })) },
        };
      },
    },
    {
      method: 'POST',
      path: /:generateContent$/,
      respond: (request) => {
        const { generationConfig } = request.body as { generationConfig: { seed: number } };
        return {
          json: {
            candidates: [
              { content: { role: 'model', parts: [{ inlineData: { mimeType: 'image/png', data: toBase64(testImage(generationConfig.seed)) } }] }, finishReason: 'STOP' },
            ],
            usageMetadata: { promptTokenCount: 10, candidatesTokenCount: 1290, totalTokenCount: 1300 },
          },
        };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ GOOGLE_GENERATIVE_AI_API_KEY: TEST_KEY, GOOGLE_GENERATIVE_AI_BASE_URL: server.url });
const providers = () => ({ google: createGoogleGenerativeAI({ baseURL: server.url, apiKey: TEST_KEY }) });

describe('google through @ai-sdk/google', () => {
  it('Imagen 4: the shared request as one :predict call with sampleCount 2 and the ratio', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'google:imagen-4.0-generate-001' },
      providers: providers(),
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => [request.path, request.body])).toEqual([
        ['/models/imagen-4.0-generate-001:predict', { instances: [{ prompt: 'a lighthouse at dawn' }], parameters: { sampleCount: 2, aspectRatio: '16:9' } }],
      ]);
      expect(run.requests[0]?.headers['x-goog-api-key']).toBe(TEST_KEY);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(0)), toBase64(testImage(1))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', undefined],
        [256, 256, 'image/png', undefined],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "Imagen 4 takes no steps; it was not sent",
        "Imagen 4 takes no guidance; it was not sent",
        "Imagen 4 takes no negative prompt; it was not sent",
        "the safety checker cannot be disabled on Imagen 4; it stays on",
        "Imagen 4 takes no seed; it was not sent, so results are not reproducible",
      ]
    `);
  });

  it('Gemini: one image per call (the package throws on n > 1), seeds, ratio and safety threshold', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'google:gemini-2.5-flash-image' },
      providers: providers(),
      environment: environment(),
    });
    const body = (seed: number) => ({
      generationConfig: { seed, responseModalities: ['IMAGE'], imageConfig: { aspectRatio: '16:9' } },
      contents: [{ role: 'user', parts: [{ text: 'a lighthouse at dawn' }] }],
      safetySettings: ['HARM_CATEGORY_HATE_SPEECH', 'HARM_CATEGORY_DANGEROUS_CONTENT', 'HARM_CATEGORY_HARASSMENT', 'HARM_CATEGORY_SEXUALLY_EXPLICIT'].map(
        (category) => ({ category, threshold: 'BLOCK_NONE' }),
      ),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => request.path)).toEqual([
        '/models/gemini-2.5-flash-image:generateContent',
        '/models/gemini-2.5-flash-image:generateContent',
      ]);
      expect(inAnyOrder(run.requests.map((request) => request.body))).toEqual([body(42), body(43)]);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(42)), toBase64(testImage(43))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', 42],
        [256, 256, 'image/png', 43],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "Gemini 2.5 Flash Image takes no steps; it was not sent",
        "Gemini 2.5 Flash Image takes no guidance; it was not sent",
        "Gemini 2.5 Flash Image takes no negative prompt; it was not sent",
        "Google's safety filters cannot be turned off; sent threshold BLOCK_NONE, the least blocking setting",
      ]
    `);
  });

  it('Gemini: reference images as inline data and file URLs', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    await generateImages({ prompt: 'make it blue', model: 'google:gemini-2.5-flash-image', seed: 1, referenceImages: [SMALL_PNG, 'https://example.test/cat.png'] });
    const [body] = server.bodies('POST', /:generateContent$/) as { contents: unknown }[];
    expect(body?.contents).toEqual([
      {
        role: 'user',
        parts: [
          { text: 'make it blue' },
          { inlineData: { mimeType: 'image/png', data: toBase64(SMALL_PNG) } },
          { fileData: { mimeType: 'image/jpeg', fileUri: 'https://example.test/cat.png' } },
        ],
      },
    ]);
  });

  it('Imagen takes no reference images: refused before anything is sent', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    const error = await generateImages({ prompt: 'p', model: 'google:imagen-4.0-fast-generate-001', referenceImages: [SMALL_PNG] }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/referenceImages: Imagen 4 Fast takes no input images/);
    expect(server.requests()).toEqual([]);
  });
});
