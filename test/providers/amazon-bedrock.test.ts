import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages, InvalidRequestError } from '../../src/index.js';
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
const INVOKE = '/model/amazon.nova-canvas-v1%3A0/invoke';

beforeAll(async () => {
  server = await startProviderServer([
    {
      method: 'POST',
      path: INVOKE,
      respond: (request) => {
        const { imageGenerationConfig } = request.body as { imageGenerationConfig: { numberOfImages: number } };
        return { json: { images: Array.from({ length: imageGenerationConfig.numberOfImages }, (_, index) => toBase64(testImage(index))) } };
      },
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

/** No credentials from the machine running the tests. */
const clearAws = () => {
  for (const name of ['AWS_BEARER_TOKEN_BEDROCK', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) vi.stubEnv(name, '');
};

describe('amazon-bedrock through @ai-sdk/amazon-bedrock', () => {
  it('Nova Canvas: the shared request as one invoke with numberOfImages 2, size, cfgScale and negativeText', async () => {
    clearAws();
    const { given, builtIn } = await generateBothWays({
      server,
      request: { ...SHARED_REQUEST, model: 'amazon-bedrock:amazon.nova-canvas-v1:0' },
      providers: { 'amazon-bedrock': createAmazonBedrock({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: { AWS_BEARER_TOKEN_BEDROCK: TEST_KEY, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: server.url },
    });
    for (const run of [given, builtIn]) {
      expect(run.requests.map((request) => [request.path, request.body])).toEqual([
        [
          INVOKE,
          {
            taskType: 'TEXT_IMAGE',
            textToImageParams: { text: 'a lighthouse at dawn', negativeText: 'fog' },
            imageGenerationConfig: { width: 1344, height: 768, seed: 42, numberOfImages: 2, cfgScale: 3.5 },
          },
        ],
      ]);
      expect(run.requests[0]?.headers.authorization).toBe(`Bearer ${TEST_KEY}`);
      expect(sortedBytes(run.result.images)).toEqual([toBase64(testImage(0)), toBase64(testImage(1))].sort());
      expect(run.result.images.map((image) => [image.width, image.height, image.mediaType, image.seed])).toEqual([
        [256, 256, 'image/png', 42],
        [256, 256, 'image/png', 42],
      ]);
    }
    expect(given.result.warnings.map((warning) => warning.message)).toMatchInlineSnapshot(`
      [
        "Amazon Nova Canvas takes no steps; it was not sent",
        "the safety checker cannot be disabled on Amazon Nova Canvas; it stays on",
      ]
    `);
  });

  it('access keys instead of an API key: the request is SigV4-signed', async () => {
    clearAws();
    vi.stubEnv('AWS_ACCESS_KEY_ID', 'AKIDEXAMPLE');
    vi.stubEnv('AWS_SECRET_ACCESS_KEY', 'secret-access-key-example');
    vi.stubEnv('AWS_REGION', 'us-east-1');
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', server.url);
    server.reset();
    await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', size: '512x512', seed: 5 });
    expect(server.requests()[0]?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  });

  it('seeds above Nova Canvas\'s range are brought into it; URL references are refused before sending', async () => {
    clearAws();
    vi.stubEnv('AWS_BEARER_TOKEN_BEDROCK', TEST_KEY);
    vi.stubEnv('AWS_ENDPOINT_URL_BEDROCK_RUNTIME', server.url);
    server.reset();
    const result = await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', size: '512x512', seed: 900_000_000 });
    expect(server.bodies('POST', INVOKE)).toEqual([
      { taskType: 'TEXT_IMAGE', textToImageParams: { text: 'p' }, imageGenerationConfig: { width: 512, height: 512, seed: 41_006_540, numberOfImages: 1 } },
    ]);
    expect(result.images[0]?.seed).toBe(900_000_000);
    expect(result.warnings.map((warning) => warning.message)).toEqual(['Nova Canvas takes seeds up to 858993459; larger seeds are sent modulo 858993460']);
    server.reset();
    const error = await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', referenceImages: ['https://example.test/a.png'] }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect(server.requests()).toEqual([]);
  });
});
