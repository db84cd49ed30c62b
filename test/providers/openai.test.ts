import { createOpenAI } from '@ai-sdk/openai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
import {
  generateBothWays,
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
      path: '/images/generations',
      respond: (request) => {
        const { n } = request.body as { n: number };
        return { json: { created: 1, data: Array.from({ length: n }, (_, index) => ({ b64_json: toBase64(testImage(index)) })) } };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.url });

describe('openai through @ai-sdk/openai', () => {
  it('gpt-image-1: the shared request as one call, the ratio snapped to a size the model takes', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'openai:gpt-image-1' },
      providers: { openai: createOpenAI({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => request.body)).toEqual([
        { model: 'gpt-image-1', prompt: 'a lighthouse at dawn', n: 2, size: '1536x1024', moderation: 'low' },
      ]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(0)), toBase64(testImage(1))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', undefined],
        [256, 256, 'image/png', undefined],
      ]);
    }
    expect(given.result.warnings).toEqual(builtIn.result.warnings);
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "GPT Image 1 takes no steps; it was not sent",
        "GPT Image 1 takes no guidance; it was not sent",
        "GPT Image 1 takes no negative prompt; it was not sent",
        "GPT Image 1 takes no seed; it was not sent, so results are not reproducible",
        "GPT Image 1 takes only 1024x1024, 1536x1024, 1024x1536; sent 1536x1024 instead of 1344x768",
        "OpenAI's moderation cannot be turned off; sent moderation: "low", its least restrictive level",
      ]
    `);
  });

  it('dall-e-3: one image per request, and no outputFormat or seed the model cannot take', async () => {
    vi.stubEnv('OPENAI_API_KEY', TEST_KEY);
    vi.stubEnv('OPENAI_BASE_URL', server.url);
    server.reset();
    const result = await generateImages({ prompt: 'p', model: 'openai:dall-e-3', size: '1024x1792', count: 2 });
    expect(server.bodies('POST', '/images/generations')).toEqual([
      { model: 'dall-e-3', prompt: 'p', n: 1, size: '1024x1792', response_format: 'b64_json' },
      { model: 'dall-e-3', prompt: 'p', n: 1, size: '1024x1792', response_format: 'b64_json' },
    ]);
    expect(result.images).toHaveLength(2);
    expect(result.warnings).toEqual([]);
  });

  it('gpt-image-2.5: custom sizes, scaled up to the smallest pixel count it takes', async () => {
    vi.stubEnv('OPENAI_API_KEY', TEST_KEY);
    vi.stubEnv('OPENAI_BASE_URL', server.url);
    server.reset();
    await generateImages({ prompt: 'p', model: 'openai:gpt-image-2.5-flare', size: '512x256', outputFormat: 'jpeg' });
    expect(server.bodies('POST', '/images/generations')).toEqual([
      { model: 'gpt-image-2.5-flare', prompt: 'p', n: 1, size: '1152x576', output_format: 'jpeg' },
    ]);
  });
});
