import { createReplicate } from '@ai-sdk/replicate';
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
      // A prediction created with `Prefer: wait` comes back finished, its outputs as URLs.
      method: 'POST',
      path: /^\/models\/.+\/predictions$/,
      respond: (request, { url }) => {
        const { input } = request.body as { input: { num_outputs: number } };
        return {
          status: 201,
          json: {
            id: 'prediction-1',
            status: 'succeeded',
            output: Array.from({ length: input.num_outputs }, (_, index) => `${url}/files/${index}.png`),
          },
        };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ REPLICATE_API_TOKEN: TEST_KEY, REPLICATE_BASE_URL: server.url });
const useEnvironment = () => Object.entries(environment()).forEach(([name, value]) => vi.stubEnv(name, value));
const predictions = () => server.bodies('POST', /predictions$/);

describe('replicate through @ai-sdk/replicate', () => {
  it('flux-dev: the shared request as one prediction with num_outputs 2, under the model\'s own input names', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'replicate:black-forest-labs/flux-dev' },
      providers: { replicate: createReplicate({ baseURL: server.url, apiToken: TEST_KEY }) },
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.filter((request) => request.method === 'POST').map((request) => [request.path, request.body])).toEqual([
        [
          '/models/black-forest-labs/flux-dev/predictions',
          {
            input: {
              prompt: 'a lighthouse at dawn',
              aspect_ratio: '16:9',
              seed: 42,
              num_outputs: 2,
              num_inference_steps: 20,
              guidance: 3.5,
              disable_safety_checker: true,
            },
          },
        ],
      ]);
      expect(run.requests[0]?.headers).toMatchObject({ authorization: `Bearer ${TEST_KEY}`, prefer: 'wait' });
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

  it('SDXL models get width/height; SD 3.5 gets steps and cfg', async () => {
    useEnvironment();
    server.reset();
    await generateImages({ prompt: 'p', model: 'replicate:bytedance/sdxl-lightning-4step', size: '768x512', steps: 4, guidance: 1, negativePrompt: 'n', seed: 1 });
    await generateImages({ prompt: 'p', model: 'replicate:stability-ai/stable-diffusion-3.5-large', aspectRatio: '3:2', steps: 30, guidance: 4, seed: 1, outputFormat: 'jpeg' });
    expect(predictions()).toEqual([
      { input: { prompt: 'p', seed: 1, num_outputs: 1, width: 768, height: 512, num_inference_steps: 4, guidance_scale: 1, negative_prompt: 'n' } },
      { input: { prompt: 'p', aspect_ratio: '3:2', seed: 1, num_outputs: 1, steps: 30, cfg: 4, output_format: 'jpg' } },
    ]);
  });

  it('FLUX.2: one image per prediction (the package\'s 8 is its input-image limit), reference images as input_image*', async () => {
    useEnvironment();
    server.reset();
    const result = await generateImages({
      prompt: 'p',
      model: 'replicate:black-forest-labs/flux-2-pro',
      count: 2,
      seed: 5,
      referenceImages: ['https://example.test/a.png', 'https://example.test/b.png'],
    });
    expect(inAnyOrder(predictions())).toEqual([
      { input: { prompt: 'p', aspect_ratio: '1:1', seed: 5, num_outputs: 1, input_image: 'https://example.test/a.png', input_image_2: 'https://example.test/b.png' } },
      { input: { prompt: 'p', aspect_ratio: '1:1', seed: 6, num_outputs: 1, input_image: 'https://example.test/a.png', input_image_2: 'https://example.test/b.png' } },
    ]);
    expect(result.images).toHaveLength(2);
  });

  it('Recraft: the nearest of its fixed sizes, with a warning', async () => {
    useEnvironment();
    server.reset();
    const result = await generateImages({ prompt: 'p', model: 'replicate:recraft-ai/recraft-v3', aspectRatio: '16:9' });
    expect(predictions()).toEqual([{ input: { prompt: 'p', size: '1820x1024', num_outputs: 1 } }]);
    expect(result.warnings.map((warning) => warning.message)).toContain(
      'Recraft V3 takes a fixed set of sizes; sent the nearest, 1820x1024, instead of 1344x768',
    );
  });
});
