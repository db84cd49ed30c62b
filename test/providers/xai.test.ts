import { createXai } from '@ai-sdk/xai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
import { SMALL_PNG } from '../helpers/fixtures.js';
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
  const respond = (request: { body: unknown }) => {
    const { n } = request.body as { n: number };
    return { json: { data: Array.from({ length: n }, (_, index) => ({ b64_json: toBase64(testImage(index, 'jpeg')), revised_prompt: 'revised' })) } };
  };
  server = await startProviderServer([
    { method: 'POST', path: '/images/generations', respond },
    { method: 'POST', path: '/images/edits', respond },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ XAI_API_KEY: TEST_KEY, XAI_BASE_URL: server.url });

describe('xai through @ai-sdk/xai', () => {
  it('grok-imagine-image: the shared request as one call with n 2 and aspect_ratio', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'xai:grok-imagine-image' },
      providers: { xai: createXai({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => [request.path, request.body])).toEqual([
        ['/images/generations', { model: 'grok-imagine-image', prompt: 'a lighthouse at dawn', n: 2, response_format: 'b64_json', aspect_ratio: '16:9' }],
      ]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(0, 'jpeg')), toBase64(testImage(1, 'jpeg'))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/jpeg', undefined],
        [256, 256, 'image/jpeg', undefined],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "Grok Imagine Image takes no steps; it was not sent",
        "Grok Imagine Image takes no guidance; it was not sent",
        "Grok Imagine Image takes no negative prompt; it was not sent",
        "the safety checker cannot be disabled on Grok Imagine Image; it stays on",
        "Grok Imagine Image takes no seed; it was not sent, so results are not reproducible",
      ]
    `);
  });

  it('ten images in one request (the package assumes three), and the nearest ratio it takes', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    const result = await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image', count: 10, size: '2048x1024' });
    expect(server.bodies('POST', '/images/generations')).toEqual([
      { model: 'grok-imagine-image', prompt: 'p', n: 10, response_format: 'b64_json', aspect_ratio: '2:1' },
    ]);
    expect(result.images).toHaveLength(10);
  });

  it('reference images go to /images/edits', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    await generateImages({ prompt: 'p', model: 'xai:grok-imagine-image', referenceImages: [SMALL_PNG] });
    expect(server.bodies('POST', '/images/edits')).toEqual([
      {
        model: 'grok-imagine-image',
        prompt: 'p',
        n: 1,
        response_format: 'b64_json',
        aspect_ratio: '1:1',
        image: { url: `data:image/png;base64,${toBase64(SMALL_PNG)}`, type: 'image_url' },
      },
    ]);
  });
});
