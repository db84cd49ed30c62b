import { createLuma } from '@ai-sdk/luma';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages, InvalidRequestError } from '../../src/index.js';
import { SMALL_PNG } from '../helpers/fixtures.js';
import {
  fileRoute,
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
let generations = 0;

beforeAll(async () => {
  server = await startProviderServer([
    fileRoute,
    {
      // Luma's documented flow: create a generation, poll it until completed, download assets.image.
      method: 'POST',
      path: '/dream-machine/v1/generations/image',
      respond: () => ({ status: 201, json: { id: `generation-${(generations += 1)}`, state: 'queued' } }),
    },
    {
      method: 'GET',
      path: /^\/dream-machine\/v1\/generations\/generation-\d+$/,
      respond: (request, { url }) => {
        const id = request.path.split('/').pop()!;
        return { json: { id, state: 'completed', assets: { image: `${url}/files/${id.replace('generation-', '')}.jpg` } } };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const environment = () => ({ LUMA_API_KEY: TEST_KEY, LUMA_BASE_URL: server.url });

describe('luma through @ai-sdk/luma', () => {
  it('photon-1: one generation per image with aspect_ratio; polled and downloaded', async () => {
    generations = 0;
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'luma:photon-1' },
      providers: { luma: createLuma({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: environment(),
    });
    const body = { prompt: 'a lighthouse at dawn', aspect_ratio: '16:9', model: 'photon-1' };
    for (const [run, ids] of [[given, [1, 2]], [builtIn, [3, 4]]] as const) {
      expect(run.requests.filter((request) => request.method === 'POST').map((request) => request.body)).toEqual([body, body]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(run.requests.filter((request) => request.path.startsWith('/dream-machine/v1/generations/generation-'))).toHaveLength(2);
      expect(sortedBytes(run.result.images)).toEqual(ids.map((id) => toBase64(testImage(id, 'jpeg'))).sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/jpeg', undefined],
        [256, 256, 'image/jpeg', undefined],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "Luma Photon takes no steps; it was not sent",
        "Luma Photon takes no guidance; it was not sent",
        "Luma Photon takes no negative prompt; it was not sent",
        "the safety checker cannot be disabled on Luma Photon; it stays on",
        "Luma Photon takes no seed; it was not sent, so results are not reproducible",
      ]
    `);
  });

  it('reference images: URLs become image references; bytes are refused before anything is sent', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    await generateImages({ prompt: 'p', model: 'luma:photon-flash-1', aspectRatio: '21:9', referenceImages: ['https://example.test/a.jpg'] });
    expect(server.bodies('POST', '/dream-machine/v1/generations/image')).toEqual([
      { prompt: 'p', aspect_ratio: '21:9', model: 'photon-flash-1', image: [{ url: 'https://example.test/a.jpg', weight: 0.85 }] },
    ]);
    server.reset();
    const error = await generateImages({ prompt: 'p', model: 'luma:photon-1', referenceImages: [SMALL_PNG] }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('Luma takes reference images as http(s) URLs only');
    expect(server.requests()).toEqual([]);
  });
});
