import { createFireworks } from '@ai-sdk/fireworks';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
import { SMALL_PNG } from '../helpers/fixtures.js';
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
  const imageBytes = (request: { body: unknown }) => ({ bytes: testImage((request.body as { seed: number }).seed, 'jpeg'), contentType: 'image/jpeg' });
  server = await startProviderServer([
    fileRoute,
    // FLUX workflows and SDXL-class models answer with the image itself.
    { method: 'POST', path: /^\/workflows\/.+\/text_to_image$/, respond: imageBytes },
    { method: 'POST', path: /^\/image_generation\//, respond: imageBytes },
    // Kontext: submit, then poll get_result until Ready, then download result.sample.
    {
      method: 'POST',
      path: /^\/workflows\/.+\/get_result$/,
      respond: (request, { url }) => ({ json: { id: (request.body as { id: string }).id, status: 'Ready', result: { sample: `${url}/files/7.jpg` } } }),
    },
    { method: 'POST', path: /^\/workflows\/accounts\/fireworks\/models\/flux-kontext-(pro|max)$/, respond: () => ({ json: { request_id: 'kontext-1' } }) },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ FIREWORKS_API_KEY: TEST_KEY, FIREWORKS_BASE_URL: server.url });
const useEnvironment = () => Object.entries(environment()).forEach(([name, value]) => vi.stubEnv(name, value));

describe('fireworks through @ai-sdk/fireworks', () => {
  it('flux-1-dev-fp8: one workflow call per image with aspect_ratio, steps and guidance; bytes back', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'fireworks:accounts/fireworks/models/flux-1-dev-fp8' },
      providers: { fireworks: createFireworks({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    const body = (seed: number) => ({ prompt: 'a lighthouse at dawn', aspect_ratio: '16:9', seed, samples: 1, num_inference_steps: 20, guidance_scale: 3.5 });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => request.path)).toEqual([
        '/workflows/accounts/fireworks/models/flux-1-dev-fp8/text_to_image',
        '/workflows/accounts/fireworks/models/flux-1-dev-fp8/text_to_image',
      ]);
      expect(inAnyOrder(run.requests.map((request) => request.body))).toEqual([body(42), body(43)]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(42, 'jpeg')), toBase64(testImage(43, 'jpeg'))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/jpeg', 42],
        [256, 256, 'image/jpeg', 43],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "FLUX.1 [dev] FP8 takes no negative prompt; it was not sent",
        "the safety checker cannot be disabled on FLUX.1 [dev] FP8; it stays on",
      ]
    `);
  });

  it('SDXL: the nearest of its nine sizes, steps as steps, guidance as cfg_scale', async () => {
    useEnvironment();
    server.reset();
    const result = await generateImages({
      prompt: 'p',
      model: 'fireworks:accounts/fireworks/models/stable-diffusion-xl-1024-v1-0',
      size: '1280x720',
      seed: 1,
      steps: 30,
      guidance: 7,
      negativePrompt: 'n',
    });
    expect(server.bodies('POST', /^\/image_generation\//)).toEqual([
      { prompt: 'p', seed: 1, samples: 1, width: '1344', height: '768', steps: 30, cfg_scale: 7, negative_prompt: 'n' },
    ]);
    expect(result.warnings.map((warning) => warning.message)).toContain(
      'Stable Diffusion XL 1.0 takes 640x1536, 768x1344, 832x1216, 896x1152, 1024x1024, 1152x896, 1216x832, 1344x768, 1536x640; sent the nearest, 1344x768, instead of 1280x720',
    );
  });

  it('Kontext: the input image, then polled and downloaded', async () => {
    useEnvironment();
    server.reset();
    const result = await generateImages({ prompt: 'p', model: 'fireworks:accounts/fireworks/models/flux-kontext-pro', aspectRatio: '1:1', seed: 3, referenceImages: [SMALL_PNG] });
    expect(server.requests().map((request) => [request.method, request.path, request.body])).toEqual([
      ['POST', '/workflows/accounts/fireworks/models/flux-kontext-pro', { prompt: 'p', aspect_ratio: '1:1', seed: 3, samples: 1, input_image: `data:image/png;base64,${toBase64(SMALL_PNG)}` }],
      ['POST', '/workflows/accounts/fireworks/models/flux-kontext-pro/get_result', { id: 'kontext-1' }],
      ['GET', '/files/7.jpg', undefined],
    ]);
    expect(sortedBytes(result.images)).toEqual([toBase64(testImage(7, 'jpeg'))]);
  });
});
