import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
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
      // BFL's documented flow: submit, poll `polling_url` until Ready, download `result.sample`.
      method: 'GET',
      path: '/v1/get_result',
      respond: (request, { url }) => {
        const seed = Number(request.query.get('id')!.replace('task-', ''));
        return { json: { id: request.query.get('id'), status: 'Ready', result: { sample: `${url}/files/${seed}.png`, seed, duration: 1.5 } } };
      },
    },
    {
      method: 'POST',
      path: /^\/[a-z0-9.-]+$/,
      respond: (request, { url }) => {
        const { seed } = request.body as { seed: number };
        return { json: { id: `task-${seed}`, polling_url: `${url}/v1/get_result?id=task-${seed}`, cost: 2.5 } };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ BFL_API_KEY: TEST_KEY, BFL_BASE_URL: server.url });
const submissions = () => server.bodies('POST', /^\/[a-z0-9.-]+$/);

describe('black-forest-labs through @ai-sdk/black-forest-labs', () => {
  it('flux-dev: one submission per image, exact width and height, steps, guidance, tolerance; polled and downloaded', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'black-forest-labs:flux-dev' },
      providers: { 'black-forest-labs': createBlackForestLabs({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    const body = (seed: number) => ({ prompt: 'a lighthouse at dawn', seed, width: 1344, height: 768, steps: 20, guidance: 3.5, safety_tolerance: 6 });
    for (const run of [given, builtIn]) {
      const posts = run.requests.filter((request) => request.method === 'POST');
      expect(posts.map((request) => request.path)).toEqual(['/flux-dev', '/flux-dev']);
      expect(inAnyOrder(posts.map((request) => request.body))).toEqual([body(42), body(43)]);
      expect(posts[0]?.headers['x-key']).toBe(TEST_KEY);
      expect(run.requests.filter((request) => request.path === '/v1/get_result')).toHaveLength(2);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(42)), toBase64(testImage(43))].sort());
      // The seed each image was made with, as BFL reports it.
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', 42],
        [256, 256, 'image/png', 43],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "FLUX.1 [dev] takes no negative prompt; it was not sent",
        "Black Forest Labs' moderation cannot be turned off; sent safety_tolerance 6, its most permissive level",
      ]
    `);
  });

  it('Kontext: aspect_ratio, and reference images as input_image, input_image_2', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    const png = testImage(1);
    await generateImages({
      prompt: 'p',
      model: 'black-forest-labs:flux-kontext-pro',
      size: '1024x768',
      seed: 9,
      outputFormat: 'png',
      referenceImages: ['https://example.test/a.png', png],
    });
    expect(submissions()).toEqual([
      { prompt: 'p', seed: 9, aspect_ratio: '4:3', input_image: 'https://example.test/a.png', input_image_2: toBase64(png), output_format: 'png' },
    ]);
  });
});
