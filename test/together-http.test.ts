import { createTogetherAI } from '@ai-sdk/togetherai';
import { createProviderRegistry, generateImage } from 'ai';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import {
  InvalidApiKeyError,
  InvalidResponseError,
  ProviderError,
  RateLimitError,
  SafetyCheckerError,
} from '../src/index.js';
import { generateImages, saveImages } from '../src/node/index.js';
import { DEFAULT_DOWNLOAD_LIMITS, downloadImage, guardedFetch } from '../src/util/download.js';
import sharp from 'sharp';
import { createServer } from 'node:http';
import { runCli } from '../src/cli/main.js';
import { SMALL_PNG } from './helpers/fixtures.js';
import { memoryIO } from './helpers/cli.js';

const KEY = 'test-key-0123456789';
let emulator: Emulator;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
});
afterAll(() => emulator.close());

function useEmulator(target: Emulator, key = KEY) {
  vi.stubEnv('TOGETHER_API_KEY', key);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', target.url);
}
afterEach(() => {
  vi.unstubAllEnvs();
  emulator.reset();
});

const bodies = () => emulator.requests().map((request) => request.body);

describe('exact request bodies and headers from the built-in Together model', () => {
  it('schnell: size, seed, steps, negative prompt; key and user agent in the headers', async () => {
    useEmulator(emulator);
    const result = await generateImages({
      prompt: 'a lighthouse at dawn',
      size: 'landscape',
      seed: 42,
      steps: 3,
      negativePrompt: 'fog',
    });
    expect(bodies()).toEqual([
      {
        model: 'black-forest-labs/FLUX.1-schnell',
        prompt: 'a lighthouse at dawn',
        seed: 42,
        width: 1344,
        height: 768,
        response_format: 'base64',
        steps: 3,
        negative_prompt: 'fog',
      },
    ]);
    const [request] = emulator.requests();
    expect(request?.headers.authorization).toBe(`Bearer ${KEY}`);
    expect(request?.headers['content-type']).toBe('application/json');
    // Sent by @ai-sdk/togetherai through the AI SDK's provider-utils, whose name is in the user agent.
    expect(request?.headers['user-agent']).toMatch(/^ai\/6\.\S+ ai-sdk\/provider-utils\//);
    expect(result.images[0]).toMatchObject({ width: 1344, height: 768, mediaType: 'image/jpeg', seed: 42 });
    // Together's response id and timings, which the AI SDK drops, are kept.
    expect(result.images[0]?.responseId).toMatch(/.+/);
    expect(result.images[0]?.timings?.inferenceSeconds).toBeGreaterThanOrEqual(0);
  });

  it('the gap: plain @ai-sdk/togetherai drops aspectRatio silently and sends one request per image', async () => {
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const logging = globalThis as { AI_SDK_LOG_WARNINGS?: unknown };
    logging.AI_SDK_LOG_WARNINGS = false;
    try {
      await generateImage({ model: togetherai.image('black-forest-labs/FLUX.1-schnell'), prompt: 'p', aspectRatio: '16:9', n: 2 });
    } finally {
      logging.AI_SDK_LOG_WARNINGS = undefined;
    }
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', response_format: 'base64' },
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', response_format: 'base64' },
    ]);
  });

  it('FLUX.2-flex: aspect ratio becomes the docs table size, guidance goes out as `guidance`, prompt_upsampling off, png output', async () => {
    useEmulator(emulator);
    const result = await generateImages({
      prompt: 'p',
      model: 'togetherai:black-forest-labs/FLUX.2-flex',
      aspectRatio: '9:16',
      guidance: 5,
      seed: 1,
      promptUpsampling: false,
      outputFormat: 'png',
      safetyChecker: false,
    });
    expect(bodies()).toEqual([
      {
        model: 'black-forest-labs/FLUX.2-flex',
        prompt: 'p',
        seed: 1,
        width: 768,
        height: 1344,
        response_format: 'base64',
        guidance: 5,
        prompt_upsampling: false,
        disable_safety_checker: true,
        output_format: 'png',
      },
    ]);
    expect(result.images[0]).toMatchObject({ width: 768, height: 1344, mediaType: 'image/png' });
  });

  it('Kontext: width/height (as every official example), and a reference file sent as an image_url data URL', async () => {
    useEmulator(emulator);
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-ref-'));
    const file = path.join(folder, 'cat.png');
    await writeFile(file, SMALL_PNG);
    const result = await generateImages({
      prompt: 'make it blue',
      model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro',
      aspectRatio: '4:3',
      referenceImages: [file],
      seed: 9,
    });
    const [body] = bodies() as Record<string, unknown>[];
    expect(body).toEqual({
      model: 'black-forest-labs/FLUX.1-kontext-pro',
      prompt: 'make it blue',
      seed: 9,
      width: 1184,
      height: 864,
      response_format: 'base64',
      image_url: `data:image/png;base64,${Buffer.from(SMALL_PNG).toString('base64')}`,
    });
    expect(result.images[0]).toMatchObject({ width: 1184, height: 864 });
  });

  it('FLUX.2-dev: reference_images and LoRAs', async () => {
    useEmulator(emulator);
    await generateImages({
      prompt: 'p',
      model: 'togetherai:black-forest-labs/FLUX.2-dev',
      size: '512x512',
      seed: 2,
      referenceImages: ['https://example.test/a.png', 'https://example.test/b.png'],
      loras: [{ path: 'https://example.test/lora', scale: 1 }],
    });
    expect(bodies()).toEqual([
      {
        model: 'black-forest-labs/FLUX.2-dev',
        prompt: 'p',
        seed: 2,
        width: 512,
        height: 512,
        response_format: 'base64',
        reference_images: ['https://example.test/a.png', 'https://example.test/b.png'],
        image_loras: [{ path: 'https://example.test/lora', scale: 1 }],
      },
    ]);
  });
});

describe('count batching over HTTP', () => {
  it.each([
    [4, [4]],
    [6, [4, 2]],
  ])('count %i → requests with n %j', async (count, ns) => {
    useEmulator(emulator);
    const result = await generateImages({ prompt: 'p', size: '256x256', count, seed: 5 });
    expect(bodies().map((body) => (body as { n?: number }).n ?? 1)).toEqual(ns);
    expect(result.requests).toBe(ns.length);
    expect(result.images.map((image) => image.index)).toEqual([...Array(count).keys()]);
    expect(emulator.stats().images).toBe(count);
  });
});

describe('error paths: the right typed error, and no file written', () => {
  async function runAndExpectNoFiles(target: Emulator, argv: string[], key = KEY) {
    useEmulator(target, key);
    const out = await mkdtemp(path.join(tmpdir(), 'imagegen-out-'));
    const io = memoryIO();
    const code = await runCli(['generate', 'a lighthouse', '-s', '256x256', '-o', out, '--max-retries', '0', ...argv], io);
    const files = await readdir(out).catch(() => []);
    return { code, files, stderr: io.stderrText() };
  }

  it('401: InvalidApiKeyError naming both variables; the key never appears', async () => {
    useEmulator(emulator, 'wrong-key-abcdef');
    const error = await generateImages({ prompt: 'p', size: '256x256' }).catch((caught: unknown) => caught);
    expect(InvalidApiKeyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('TOGETHER_API_KEY or TOGETHER_AI_API_KEY');
    expect((error as Error).message).not.toContain('wrong-key-abcdef');
    const cli = await runAndExpectNoFiles(emulator, [], 'wrong-key-abcdef');
    expect(cli).toMatchObject({ code: 1, files: [] });
    expect(cli.stderr).not.toContain('wrong-key-abcdef');
  });

  it('422: SafetyCheckerError', async () => {
    useEmulator(emulator);
    const error = await generateImages({ prompt: 'gore everywhere', size: '256x256' }).catch((caught: unknown) => caught);
    expect(SafetyCheckerError.isInstance(error)).toBe(true);
    const cli = await runAndExpectNoFiles(emulator, ['--negative', 'gore']);
    expect(cli.code).toBe(0); // the negative prompt is not checked, only the prompt
  });

  it('429 is retried after retry-after, then succeeds', async () => {
    const limited = await startEmulator({ apiKey: KEY, quiet: true, rateLimit: { requests: 1, windowMs: 1000 } });
    try {
      useEmulator(limited);
      await generateImages({ prompt: 'p', size: '256x256' });
      const result = await generateImages({ prompt: 'p', size: '256x256' });
      expect(result.images).toHaveLength(1);
      expect(result.requests).toBe(2);
      expect(limited.stats().byStatus).toEqual({ 200: 2, 429: 1 });
    } finally {
      await limited.close();
    }
  });

  it('429 when retries run out: RateLimitError with the retry-after', async () => {
    const limited = await startEmulator({ apiKey: KEY, quiet: true, rateLimit: { requests: 1, windowMs: 60_000 } });
    try {
      useEmulator(limited);
      await generateImages({ prompt: 'p', size: '256x256' });
      const error = await generateImages({ prompt: 'p', size: '256x256' }, { maxRetries: 0 }).catch((caught: unknown) => caught);
      expect(RateLimitError.isInstance(error)).toBe(true);
      expect((error as RateLimitError).retryAfterSeconds).toBeGreaterThan(0);
      const cli = await runAndExpectNoFiles(limited, []);
      expect(cli.code).toBe(1);
      expect(cli.files).toEqual([]);
    } finally {
      await limited.close();
    }
  });

  it.each([
    ['500', { failRate: { 500: 1 } }, (error: unknown) => ProviderError.isInstance(error) && error.statusCode === 500],
    ['malformed JSON', { faults: { 'malformed-json': 1 } }, InvalidResponseError.isInstance],
    ['invalid base64', { faults: { 'invalid-base64': 1 } }, InvalidResponseError.isInstance],
    ['truncated body', { faults: { truncate: 1 } }, InvalidResponseError.isInstance],
  ] as const)('%s', async (_name, faults, isExpected) => {
    const faulty = await startEmulator({ apiKey: KEY, quiet: true, ...faults });
    try {
      useEmulator(faulty);
      const error = await generateImages({ prompt: 'p', size: '256x256' }, { maxRetries: 0 }).catch((caught: unknown) => caught);
      expect(isExpected(error), String(error)).toBe(true);
      const cli = await runAndExpectNoFiles(faulty, []);
      expect(cli.code).toBe(1);
      expect(cli.files).toEqual([]);
    } finally {
      await faulty.close();
    }
  });
});

describe('responseFormat: "url"', () => {
  it('is refused for every provider before anything is sent: @ai-sdk/togetherai reads only base64 (vercel/ai issue 11490)', async () => {
    useEmulator(emulator);
    for (const model of ['togetherai:black-forest-labs/FLUX.1-schnell', 'local:placeholder']) {
      const error = await generateImages({ prompt: 'p', model, responseFormat: 'url' }).catch((caught: unknown) => caught);
      expect((error as Error).message).toMatch(/responseFormat: is not available: @ai-sdk\/togetherai reads only base64 images \(vercel\/ai issue 11490\)/);
    }
    expect(emulator.requests()).toEqual([]);
  });
});

describe('downloads of URL images', () => {
  it('are capped in size and time', async () => {
    // An image URL as Together gives one (asked for directly: the toolkit asks for base64 only).
    const answer = await fetch(`${emulator.url}/images/generations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', width: 256, height: 256, response_format: 'url' }),
    });
    const url = ((await answer.json()) as { data: { url: string }[] }).data[0]!.url;
    const context = { provider: 'togetherai', modelId: 'x' };
    await expect(downloadImage(url, { ...context, limits: { ...DEFAULT_DOWNLOAD_LIMITS, maxBytes: 100 } })).rejects.toThrow(/over the 100-byte download cap/);
    // A server that takes the request and never answers; it counts what reaches it and what closes.
    const seen = { requests: 0, closed: 0 };
    const silent = createServer((request) => {
      seen.requests++;
      request.socket.once('close', () => seen.closed++);
    });
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const hanging = `http://127.0.0.1:${(silent.address() as { port: number }).port}/image.png`;
      await expect(guardedFetch({ ...DEFAULT_DOWNLOAD_LIMITS, timeoutMs: 200 })(hanging)).rejects.toMatchObject({ name: 'TimeoutError' });
      // The download gave up by itself: one request, whose connection the client closed.
      expect(seen.requests).toBe(1);
      await expect.poll(() => seen.closed).toBe(1);
    } finally {
      silent.closeAllConnections();
      await new Promise((resolve) => silent.close(resolve));
    }
  });
});

describe('an app bringing its own providers', () => {
  it('an AI SDK provider registry works, and the catalog applies whatever the app named Together', async () => {
    const togetherai = createTogetherAI({ apiKey: KEY, baseURL: emulator.url });
    const registry = createProviderRegistry({ together: togetherai });
    const result = await generateImages(
      { prompt: 'p', model: 'together:black-forest-labs/FLUX.1-schnell', aspectRatio: '16:9', count: 4, seed: 8, guidance: 3 },
      { providers: { registry } },
    );
    expect(result.images).toHaveLength(4);
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', seed: 8, n: 4, width: 1344, height: 768, response_format: 'base64' },
    ]);
    // FLUX.1-schnell takes no guidance: the catalog was applied, not the generic capabilities.
    expect(result.warnings.map((warning) => warning.message)).toEqual(['FLUX.1 [schnell] (Turbo) takes no guidance; it was not sent']);

    const error = await generateImages({ prompt: 'p', model: 'nope:model' }, { providers: { registry } }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/model: the provider registry has no such image model/);
    // A registry passed as the provider itself is given the model string whole, as it needs.
    const direct = await generateImages({ prompt: 'p', model: 'together:black-forest-labs/FLUX.1-schnell', size: '256x256', seed: 1 }, { providers: registry });
    expect(direct.images).toHaveLength(1);
  });

  it('provider instances by name: the app’s key and base URL are used, the environment is not', async () => {
    vi.stubEnv('TOGETHER_API_KEY', '');
    vi.stubEnv('TOGETHER_AI_API_KEY', '');
    const result = await generateImages(
      { prompt: 'p', size: '256x256' },
      { providers: { togetherai: createTogetherAI({ apiKey: KEY, baseURL: emulator.url }) } },
    );
    expect(result.images).toHaveLength(1);
    expect(emulator.requests()[0]?.headers.authorization).toBe(`Bearer ${KEY}`);
  });
});
