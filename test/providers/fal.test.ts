import { createFal } from '@ai-sdk/fal';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
import {
  fileRoute,
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
    fileRoute,
    {
      // fal's synchronous endpoint: POST https://fal.run/<model id>, images as URLs to download.
      method: 'POST',
      path: /^\/fal-ai\//,
      respond: (request, { url }) => {
        const { num_images: count, seed } = request.body as { num_images: number; seed?: number };
        return {
          json: {
            images: Array.from({ length: count }, (_, index) => ({
              url: `${url}/files/${index}.png`,
              width: 256,
              height: 256,
              content_type: 'image/png',
            })),
            seed: seed ?? 7,
            has_nsfw_concepts: Array.from({ length: count }, () => false),
            prompt: 'echoed',
            timings: { inference: 0.25 },
          },
        };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ FAL_API_KEY: TEST_KEY, FAL_BASE_URL: server.url });

describe('fal through @ai-sdk/fal', () => {
  it('flux/dev: the shared request as one call with num_images 2 and the exact size', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'fal:fal-ai/flux/dev' },
      providers: { fal: createFal({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.filter((request) => request.method === 'POST').map((request) => [request.path, request.body])).toEqual([
        [
          '/fal-ai/flux/dev',
          {
            prompt: 'a lighthouse at dawn',
            seed: 42,
            image_size: { width: 1344, height: 768 },
            num_images: 2,
            num_inference_steps: 20,
            guidance_scale: 3.5,
            enable_safety_checker: false,
          },
        ],
      ]);
      expect(run.requests[0]?.headers.authorization).toBe(`Key ${TEST_KEY}`);
      // Both returned URLs were downloaded.
      expect(run.requests.filter((request) => request.method === 'GET').map((request) => request.path).sort()).toEqual(['/files/0.png', '/files/1.png']);
      // Downloads carry a User-Agent (CDNs such as Together's refuse none).
      for (const download of run.requests.filter((request) => request.method === 'GET')) {
        expect(download.headers['user-agent']).toMatch(/\S/);
      }
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(0)), toBase64(testImage(1))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', 42],
        [256, 256, 'image/png', 42],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "FLUX.1 [dev] takes no negative prompt; it was not sent",
      ]
    `);
  });

  it('FLUX Ultra: sized by aspect_ratio (not an image_size preset), one image per call', async () => {
    vi.stubEnv('FAL_KEY', TEST_KEY);
    vi.stubEnv('FAL_BASE_URL', server.url);
    server.reset();
    await generateImages({ prompt: 'p', model: 'fal:fal-ai/flux-pro/v1.1-ultra', aspectRatio: '21:9', count: 2, seed: 1, outputFormat: 'png' });
    expect(inAnyOrder(server.bodies('POST', '/fal-ai/flux-pro/v1.1-ultra'))).toEqual([
      { prompt: 'p', seed: 1, num_images: 1, aspect_ratio: '21:9', output_format: 'png' },
      { prompt: 'p', seed: 2, num_images: 1, aspect_ratio: '21:9', output_format: 'png' },
    ]);
  });

  it('flux-lora: LoRAs under the loras key', async () => {
    vi.stubEnv('FAL_KEY', TEST_KEY);
    vi.stubEnv('FAL_BASE_URL', server.url);
    server.reset();
    await generateImages({
      prompt: 'p',
      model: 'fal:fal-ai/flux-lora',
      size: '512x512',
      seed: 3,
      loras: [{ path: 'https://example.test/style.safetensors', scale: 0.8 }],
    });
    expect(server.bodies('POST', '/fal-ai/flux-lora')).toEqual([
      { prompt: 'p', seed: 3, image_size: { width: 512, height: 512 }, num_images: 1, loras: [{ path: 'https://example.test/style.safetensors', scale: 0.8 }] },
    ]);
  });
});

describe('fal downloads through the built-in provider', () => {
  it('are capped: an image over the cap fails the call with a clear error, nothing half-read is kept', async () => {
    const { DEFAULT_DOWNLOAD_LIMITS } = await import('../../src/util/download.js');
    const huge = new Uint8Array(DEFAULT_DOWNLOAD_LIMITS.maxBytes + 1);
    const oversized = await startProviderServer([
      { method: 'POST', path: '/fal-ai/flux/schnell', respond: (_request, { url }) => ({ json: { images: [{ url: `${url}/files/huge.png` }] } }) },
      { method: 'GET', path: '/files/huge.png', respond: () => ({ bytes: huge, contentType: 'image/png' }) },
    ]);
    try {
      vi.stubEnv('FAL_KEY', TEST_KEY);
      vi.stubEnv('FAL_BASE_URL', oversized.url);
      const error = await generateImages({ prompt: 'p', model: 'fal:fal-ai/flux/schnell', size: '256x256' }, { maxRetries: 0 }).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(/^fal answered for fal-ai\/flux\/schnell, but the image at 127\.0\.0\.1:\d+ (is|went over) .*download cap/);
    } finally {
      await oversized.close();
    }
  });
});
