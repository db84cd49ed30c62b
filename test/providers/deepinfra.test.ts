import { createDeepInfra } from '@ai-sdk/deepinfra';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages } from '../../src/index.js';
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
      // DeepInfra's inference endpoint answers with data URLs.
      method: 'POST',
      path: /^\/inference\//,
      respond: (request) => {
        const { seed } = request.body as { seed: number };
        return { json: { images: [`data:image/png;base64,${toBase64(testImage(seed))}`], request_id: 'r1', inference_status: { status: 'succeeded' } } };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ DEEPINFRA_API_KEY: TEST_KEY, DEEPINFRA_BASE_URL: server.url });

describe('deepinfra through @ai-sdk/deepinfra', () => {
  it('FLUX-1-dev: one call per image, width/height (as the package sends them: strings), steps', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'deepinfra:black-forest-labs/FLUX-1-dev' },
      providers: { deepinfra: createDeepInfra({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    const body = (seed: number) => ({ prompt: 'a lighthouse at dawn', num_images: 1, width: '1344', height: '768', seed, num_inference_steps: 20 });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => request.path)).toEqual(['/inference/black-forest-labs/FLUX-1-dev', '/inference/black-forest-labs/FLUX-1-dev']);
      expect(inAnyOrder(run.requests.map((request) => request.body))).toEqual([body(42), body(43)]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(42)), toBase64(testImage(43))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', 42],
        [256, 256, 'image/png', 43],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "FLUX.1 [dev] takes no guidance; it was not sent",
        "FLUX.1 [dev] takes no negative prompt; it was not sent",
        "the safety checker cannot be disabled on FLUX.1 [dev]; it stays on",
      ]
    `);
  });

  it('SD 3.5: aspect_ratio, guidance_scale and negative_prompt', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    await generateImages({ prompt: 'p', model: 'deepinfra:stabilityai/sd3.5', size: '1024x1024', seed: 1, guidance: 6, negativePrompt: 'n', steps: 30 });
    expect(server.bodies('POST', '/inference/stabilityai/sd3.5')).toEqual([
      { prompt: 'p', num_images: 1, aspect_ratio: '1:1', seed: 1, num_inference_steps: 30, guidance_scale: 6, negative_prompt: 'n' },
    ]);
  });
});
