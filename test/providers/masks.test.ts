import { createAmazonBedrock } from '@ai-sdk/amazon-bedrock';
import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { createFal } from '@ai-sdk/fal';
import { createOpenAI } from '@ai-sdk/openai';
import { createReplicate } from '@ai-sdk/replicate';
import { generateImage } from 'ai';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { generateImages, imageModel, InvalidRequestError } from '../../src/index.js';
import { encodeMask } from '../../src/providers/mask.js';
import {
  fileRoute,
  generateBothWays,
  multipartFields,
  startProviderServer,
  TEST_KEY,
  testImage,
  toBase64,
  type ProviderServer,
  type RecordedRequest,
} from '../helpers/provider-server.js';

/**
 * Masks at each provider's HTTP boundary, through the real AI SDK packages: the exact bodies sent,
 * with the mask in the form each provider reads (OpenAI: transparency; Black Forest Labs, fal,
 * Replicate: white on black), converted where it was given in the other form.
 */

const SIZE = 256;
/** The image to repaint: `testImage` is 256x256. */
const image = testImage(1);
/** Right half to repaint, white on black, one grey channel. */
const strengths = Uint8Array.from({ length: SIZE * SIZE }, (_, index) => (index % SIZE >= SIZE / 2 ? 255 : 0));
const blackAndWhite = encodePng({ width: SIZE, height: SIZE, data: strengths, channels: 1, depth: 8 });
/** The same mask in OpenAI's form: black, transparent where to repaint. */
const alphaData = new Uint8Array(SIZE * SIZE * 4);
for (let index = 0; index < strengths.length; index++) alphaData[index * 4 + 3] = 255 - strengths[index]!;
const withAlpha = encodePng({ width: SIZE, height: SIZE, data: alphaData, channels: 4, depth: 8 });

/** What the toolkit makes of `withAlpha` for a provider that reads white on black: the same pixels, its own encoding. */
const converted = encodeMask({ width: SIZE, height: SIZE, data: strengths, channels: 1 });

const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${toBase64(bytes)}`;

let server: ProviderServer;

beforeAll(async () => {
  server = await startProviderServer([
    fileRoute,
    {
      method: 'POST',
      path: '/images/edits',
      respond: () => ({ json: { created: 1, data: [{ b64_json: toBase64(testImage(0)) }] } }),
    },
    {
      method: 'GET',
      path: '/v1/get_result',
      respond: (request, { url }) => ({ json: { id: request.query.get('id'), status: 'Ready', result: { sample: `${url}/files/0.png`, seed: 1 } } }),
    },
    {
      method: 'POST',
      path: /^\/flux-[a-z0-9.-]+$/,
      respond: (_request, { url }) => ({ json: { id: 'task-1', polling_url: `${url}/v1/get_result?id=task-1` } }),
    },
    {
      method: 'POST',
      path: /^\/fal-ai\//,
      respond: (_request, { url }) => ({ json: { images: [{ url: `${url}/files/0.png`, width: 256, height: 256, content_type: 'image/png' }], seed: 1 } }),
    },
    {
      method: 'POST',
      path: '/model/amazon.nova-canvas-v1%3A0/invoke',
      respond: () => ({ json: { images: [toBase64(testImage(0))] } }),
    },
    {
      method: 'POST',
      path: /^\/models\/.+\/predictions$/,
      respond: (_request, { url }) => ({ status: 201, json: { id: 'prediction-1', status: 'succeeded', output: [`${url}/files/0.png`] } }),
    },
  ]);
});
afterAll(() => server.close());
afterEach(() => vi.unstubAllEnvs());

const posts = (requests: RecordedRequest[]) => requests.filter((request) => request.method === 'POST');

/** The alpha channel of a PNG, one byte a pixel, as base64 (vitest compares long typed arrays slowly). */
function alphaOf(png: Uint8Array): string {
  const decoded = decodePng(png);
  expect([decoded.width, decoded.height, decoded.channels, decoded.depth]).toEqual([SIZE, SIZE, 4, 8]);
  const alpha = new Uint8Array(SIZE * SIZE);
  for (let index = 0; index < alpha.length; index++) alpha[index] = decoded.data[index * 4 + 3]!;
  return toBase64(alpha);
}
/** Where the mask repaints, as OpenAI reads it: transparent (0) where white. */
const expectedAlpha = toBase64(strengths.map((strength) => 255 - strength));

/** A multipart file part, its bytes as base64. */
const asFile = (part: unknown) => {
  const { name, type, bytes } = part as { name: string; type: string; bytes: Uint8Array };
  return { name, type, base64: toBase64(bytes) };
};
const file = (bytes: Uint8Array) => ({ name: 'blob', type: 'image/png', base64: toBase64(bytes) });

describe('masks: OpenAI edits through @ai-sdk/openai', () => {
  const environment = () => ({ OPENAI_API_KEY: TEST_KEY, OPENAI_BASE_URL: server.url });
  const providers = () => ({ openai: createOpenAI({ baseURL: server.url, apiKey: TEST_KEY }) });

  it('a black-and-white mask goes out as a PNG, transparent where it was white, beside the image', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { prompt: 'a red door', model: 'openai:gpt-image-1', size: '1024x1024', referenceImages: [image], mask: blackAndWhite },
      providers: providers(),
      environment: environment(),
    });
    for (const run of [given, builtIn]) {
      const [edit] = posts(run.requests);
      expect(edit?.path).toBe('/images/edits');
      const { image: sentImage, mask, ...fields } = await multipartFields(edit!);
      expect(fields).toEqual({ model: 'gpt-image-1', prompt: 'a red door', n: '1', size: '1024x1024' });
      expect(asFile(sentImage)).toEqual(file(image));
      expect(typeof mask === 'object' && mask.type).toBe('image/png');
      expect(alphaOf((mask as { bytes: Uint8Array }).bytes)).toBe(expectedAlpha);
      expect(run.result.images).toHaveLength(1);
      expect(run.result.images[0]?.request.mask).toBe('<bytes>');
    }
    expect(given.result.warnings).toEqual([]);
  });

  it('a mask already transparent goes out byte for byte', async () => {
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    await generateImages({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: dataUrl(withAlpha) });
    const { mask } = await multipartFields(posts(server.requests())[0]!);
    expect(asFile(mask)).toEqual(file(withAlpha));
  });
});

describe('masks: Black Forest Labs FLUX.1 Fill through @ai-sdk/black-forest-labs', () => {
  it('image and mask as base64, a transparent mask made white where it was transparent', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { prompt: 'a red door', model: 'black-forest-labs:flux-pro-1.0-fill', seed: 5, referenceImages: [image], mask: withAlpha },
      providers: { 'black-forest-labs': createBlackForestLabs({ baseURL: server.url, apiKey: TEST_KEY }) },
      environment: { BFL_API_KEY: TEST_KEY, BFL_BASE_URL: server.url },
    });
    for (const run of [given, builtIn]) {
      expect(posts(run.requests).map((request) => [request.path, request.body])).toEqual([
        ['/flux-pro-1.0-fill', { prompt: 'a red door', seed: 5, input_image: toBase64(image), mask: toBase64(converted) }],
      ]);
      expect(run.result.images).toHaveLength(1);
    }
  });
});

describe('masks: fal inpainting through @ai-sdk/fal', () => {
  it('flux-lora/inpainting: image_url and mask_url; a black-and-white mask as given, a transparent one converted', async () => {
    const run = (mask: Uint8Array) =>
      generateBothWays({
        server,
        request: { prompt: 'a red door', model: 'fal:fal-ai/flux-lora/inpainting', seed: 5, referenceImages: [image], mask },
        providers: { fal: createFal({ baseURL: server.url, apiKey: TEST_KEY }) },
        environment: { FAL_API_KEY: TEST_KEY, FAL_BASE_URL: server.url },
      });
    for (const [given, sent] of [[blackAndWhite, blackAndWhite], [withAlpha, converted]] as const) {
      const runs = await run(given);
      for (const { requests } of [runs.given, runs.builtIn]) {
        expect(posts(requests).map((request) => [request.path, request.body])).toEqual([
          [
            '/fal-ai/flux-lora/inpainting',
            { prompt: 'a red door', seed: 5, num_images: 1, image_url: dataUrl(image), mask_url: dataUrl(sent) },
          ],
        ]);
      }
    }
  });

  it('a mask URL is passed on as given', async () => {
    vi.stubEnv('FAL_API_KEY', TEST_KEY);
    vi.stubEnv('FAL_BASE_URL', server.url);
    server.reset();
    await generateImages({ prompt: 'p', model: 'fal:fal-ai/bria/eraser', referenceImages: ['https://example.test/a.png'], mask: 'https://example.test/mask.png' });
    expect(posts(server.requests()).map((request) => request.body)).toEqual([
      { prompt: 'p', num_images: 1, image_url: 'https://example.test/a.png', mask_url: 'https://example.test/mask.png' },
    ]);
  });
});

describe('masks: Replicate FLUX Fill through @ai-sdk/replicate', () => {
  it('flux-fill-dev: image and mask as data URLs in the input, the model\'s own names for the rest', async () => {
    const { given, builtIn } = await generateBothWays({
      server,
      request: { prompt: 'a red door', model: 'replicate:black-forest-labs/flux-fill-dev', seed: 5, steps: 30, referenceImages: [image], mask: withAlpha },
      providers: { replicate: createReplicate({ baseURL: server.url, apiToken: TEST_KEY }) },
      environment: { REPLICATE_API_TOKEN: TEST_KEY, REPLICATE_BASE_URL: server.url },
    });
    for (const run of [given, builtIn]) {
      expect(posts(run.requests).map((request) => [request.path, request.body])).toEqual([
        [
          '/models/black-forest-labs/flux-fill-dev/predictions',
          { input: { prompt: 'a red door', aspect_ratio: '1:1', seed: 5, num_outputs: 1, image: dataUrl(image), mask: dataUrl(converted), num_inference_steps: 30 } },
        ],
      ]);
    }
  });
});

describe('masks: Amazon Bedrock Nova Canvas through @ai-sdk/amazon-bedrock', () => {
  const environment = () => ({ AWS_BEARER_TOKEN_BEDROCK: TEST_KEY, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: server.url });
  const clearAws = () => {
    for (const name of ['AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY', 'AWS_SESSION_TOKEN', 'AWS_ENDPOINT_URL']) vi.stubEnv(name, '');
  };
  /** Nova Canvas's form: an opaque RGB PNG, pure black where to repaint, pure white elsewhere. */
  const blackOnWhite = (threshold: (strength: number) => boolean) => {
    const data = new Uint8Array(SIZE * SIZE * 3);
    strengths.forEach((strength, index) => data.fill(threshold(strength) ? 0 : 255, index * 3, index * 3 + 3));
    return encodeMask({ width: SIZE, height: SIZE, data, channels: 3 });
  };

  it('INPAINTING with the image and the mask inverted: black where to repaint, whichever form it came in', async () => {
    clearAws();
    for (const mask of [blackAndWhite, withAlpha]) {
      const { given, builtIn } = await generateBothWays({
        server,
        request: { prompt: 'a red door', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', seed: 5, negativePrompt: 'fog', referenceImages: [image], mask },
        providers: { 'amazon-bedrock': createAmazonBedrock({ baseURL: server.url, apiKey: TEST_KEY }) },
        environment: environment(),
      });
      for (const run of [given, builtIn]) {
        expect(posts(run.requests).map((request) => request.body)).toEqual([
          {
            taskType: 'INPAINTING',
            inPaintingParams: { image: toBase64(image), text: 'a red door', negativeText: 'fog', maskImage: toBase64(blackOnWhite((strength) => strength >= 128)) },
            imageGenerationConfig: { seed: 5, numberOfImages: 1 },
          },
        ]);
      }
      expect(given.result.warnings).toEqual([]);
    }
  });

  it('grey pixels are rounded, with a warning; a mask URL or a second image is refused before sending', async () => {
    clearAws();
    for (const [name, value] of Object.entries(environment())) vi.stubEnv(name, value);
    server.reset();
    const soft = encodePng({ width: SIZE, height: SIZE, data: strengths.map((strength, index) => (index === 0 ? 200 : strength)), channels: 1, depth: 8 });
    const result = await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', seed: 5, referenceImages: [image], mask: soft });
    expect(result.warnings.map((warning) => [warning.field, warning.message])).toEqual([
      ['mask', 'Amazon Nova Canvas takes pure black and white masks: the mask has grey or half-transparent pixels; they were made pure black (repaint) or white (keep) at the halfway mark'],
    ]);
    const url = await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', referenceImages: [image], mask: 'https://example.test/m.png' }).catch((caught: unknown) => caught);
    expect((url as InvalidRequestError).issues).toEqual([{ field: 'mask', value: 'https://example.test/m.png', message: 'Amazon Bedrock takes a mask as a file or bytes only; download it first' }]);
    const two = await generateImages({ prompt: 'p', model: 'amazon-bedrock:amazon.nova-canvas-v1:0', referenceImages: [image, image], mask: blackAndWhite }).catch((caught: unknown) => caught);
    expect((two as InvalidRequestError).issues?.[0]?.message).toBe('with a mask, Nova Canvas repaints one image (INPAINTING): give one reference image');
    expect(posts(server.requests())).toHaveLength(1);
  });
});

describe('masks: imageModel() passes the call\'s mask through the plan', () => {
  it('converted to the provider\'s form, like generateImages', async () => {
    vi.stubEnv('OPENAI_API_KEY', TEST_KEY);
    vi.stubEnv('OPENAI_BASE_URL', server.url);
    server.reset();
    await generateImage({ model: imageModel('openai:gpt-image-1'), prompt: { text: 'a red door', images: [image], mask: blackAndWhite }, size: '1024x1024' });
    const { mask, image: sentImage } = await multipartFields(posts(server.requests())[0]!);
    expect(asFile(sentImage)).toEqual(file(image));
    expect(alphaOf((mask as { bytes: Uint8Array }).bytes)).toBe(expectedAlpha);
  });

  it('refused before sending for a model that takes none', async () => {
    vi.stubEnv('OPENAI_API_KEY', TEST_KEY);
    vi.stubEnv('OPENAI_BASE_URL', server.url);
    server.reset();
    const error = await generateImage({ model: imageModel('openai:dall-e-3'), prompt: { text: 'p', images: [], mask: blackAndWhite } }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error) || InvalidRequestError.isInstance((error as { cause?: unknown }).cause)).toBe(true);
    expect(String((error as Error).message)).toMatch(/mask: DALL·E 3 takes no mask; models that take one: openai: dall-e-2, gpt-image-1/);
    expect(server.requests()).toEqual([]);
  });
});
