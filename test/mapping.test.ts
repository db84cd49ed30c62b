import { generateImage } from 'ai';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { imageModel, isRetired, listModels, type GenerateImagesOptions, type GenerateImagesResult, type GenerateRequest, type ModelCapabilities } from '../src/index.js';
import { generateImages } from '../src/node/index.js';
import { fixedSeed, SMALL_PNG } from './helpers/fixtures.js';

/**
 * What Together receives for each catalog model, asserted on the exact JSON bodies the emulator
 * records, through the public `generateImages` and through `imageModel()` + the AI SDK's
 * `generateImage`. Nothing here reads the plan or the provider adapter.
 */

// The AI SDK's own warnings (a known wrong "aspectRatio" one when `size` is passed) would flood the log.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'test-key-mapping';
const PROMPT = 'a lighthouse at dawn';
const IMAGE_URL = 'https://example.test/cat.png';
const TOGETHER_MODELS = listModels({ provider: 'togetherai' });
/** The models that still run: retired ones are refused before sending (test/retired-models.test.ts). */
const RUNNING_MODELS = TOGETHER_MODELS.filter((model) => !isRetired(model));
/** Ids the catalog does not know, and those Together retired, served here so that their results come back. */
const SERVED_UNKNOWN = ['someone/new-model', 'black-forest-labs/FLUX.3-pro', 'ideogram/ideogram-5.0'];

let emulator: Emulator;

beforeAll(async () => {
  const retired = TOGETHER_MODELS.filter((model) => model.deprecated !== undefined).map((model) => model.modelId);
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1, extraModels: [...retired, ...SERVED_UNKNOWN].map((id) => ({ id })) });
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
});
beforeEach(() => emulator.reset());

/** The bodies the emulator received since the test began, oldest first. */
const bodies = () => emulator.requests().map((request) => request.body as Record<string, unknown>);

const generate = (request: GenerateRequest, options: GenerateImagesOptions = {}) => generateImages(request, options);

/** The error `generateImages` refused the request with; nothing may have been sent. */
async function refusal(request: GenerateRequest): Promise<string> {
  const error = await generate(request).then(
    () => expect.unreachable('the request should be refused'),
    (caught: unknown) => caught as Error,
  );
  expect(bodies()).toEqual([]);
  return error.message;
}

const messages = (result: GenerateImagesResult) => result.warnings.map((warning) => warning.message);

/** What Together takes from every option in Together's names, for a model the catalog describes. */
function expectedOptions(model: ModelCapabilities, { guidance }: { guidance: boolean }): Record<string, unknown> {
  return {
    ...(model.steps ? { steps: model.steps.default } : {}),
    ...(model.negativePrompt ? { negative_prompt: 'blurry' } : {}),
    ...(guidance && model.guidance ? { [model.guidanceParameter ?? 'guidance_scale']: model.guidance.default } : {}),
    ...(model.imageInput.kind === 'image_url' ? { image_url: IMAGE_URL } : {}),
    ...(model.imageInput.kind === 'reference_images' ? { reference_images: [IMAGE_URL] } : {}),
    ...(model.safetyCheckerCanBeDisabled ? { disable_safety_checker: true } : {}),
    output_format: 'png',
  };
}

describe('every Together catalog model, at the HTTP boundary', () => {
  it('covers the models the docs name', () => {
    expect(TOGETHER_MODELS.map((model) => model.modelId).sort()).toEqual([
      'ByteDance-Seed/Seedream-3.0',
      'ByteDance-Seed/Seedream-4.0',
      'HiDream-ai/HiDream-I1-Dev',
      'HiDream-ai/HiDream-I1-Fast',
      'HiDream-ai/HiDream-I1-Full',
      'Lykon/DreamShaper',
      'Qwen/Qwen-Image',
      'RunDiffusion/Juggernaut-pro-flux',
      'Rundiffusion/Juggernaut-Lightning-Flux',
      'black-forest-labs/FLUX.1-dev',
      'black-forest-labs/FLUX.1-kontext-dev',
      'black-forest-labs/FLUX.1-kontext-max',
      'black-forest-labs/FLUX.1-kontext-pro',
      'black-forest-labs/FLUX.1-krea-dev',
      'black-forest-labs/FLUX.1-schnell',
      'black-forest-labs/FLUX.1-schnell-Free',
      'black-forest-labs/FLUX.1.1-pro',
      'black-forest-labs/FLUX.2-dev',
      'black-forest-labs/FLUX.2-flex',
      'black-forest-labs/FLUX.2-max',
      'black-forest-labs/FLUX.2-pro',
      'google/flash-image-2.5',
      'google/flash-image-3.1-lite',
      'google/gemini-3-pro-image',
      'google/imagen-4.0-fast',
      'google/imagen-4.0-preview',
      'google/imagen-4.0-ultra',
      'ideogram/ideogram-3.0',
      'ideogram/ideogram-4.0',
      'stabilityai/stable-diffusion-3-medium',
    ]);
  });

  // One request with every option; each model gets exactly what it takes, and what was dropped says so.
  it.each(RUNNING_MODELS.map((model) => [model.modelId, model] as const))('generateImages → %s', async (modelId, model) => {
    const result = await generate({
      prompt: PROMPT,
      model: `togetherai:${modelId}`,
      aspectRatio: '16:9',
      count: 2,
      seed: 42,
      ...(model.steps ? { steps: model.steps.default } : {}),
      ...(model.guidance ? { guidance: model.guidance.default } : {}),
      negativePrompt: 'blurry',
      safetyChecker: false,
      outputFormat: 'png',
      ...(model.imageInput.kind === 'none' ? {} : { referenceImages: [IMAGE_URL] }),
    });
    const body = { model: modelId, prompt: PROMPT, width: 1344, height: 768, response_format: 'base64', ...expectedOptions(model, { guidance: true }) };
    expect(bodies()).toEqual(
      model.acceptsN
        ? [{ ...body, n: 2, seed: 42 }]
        : [0, 1].map((offset) => ({ ...body, ...(model.acceptsSeed ? { seed: 42 + offset } : {}) })),
    );
    expect(result.images.map((image) => [image.width, image.height, image.mediaType])).toEqual([
      [1344, 768, 'image/png'],
      [1344, 768, 'image/png'],
    ]);
    const dropped = result.warnings.map((warning) => warning.field);
    expect(dropped.includes('negativePrompt')).toBe(!model.negativePrompt);
    expect(dropped.includes('safetyChecker')).toBe(!model.safetyCheckerCanBeDisabled);
    expect(dropped.includes('seed')).toBe(!model.acceptsSeed);
  });

  // The same through the AI SDK's own call: imageModel() sizes the ratio, batches by what the model
  // takes, drops a seed it does not take, names guidance as the model reads it and routes input
  // images; raw options pass as given.
  it.each(RUNNING_MODELS.map((model) => [model.modelId, model] as const))('imageModel() + generateImage → %s', async (modelId, model) => {
    const { images, warnings } = await generateImage({
      model: imageModel(`togetherai:${modelId}`),
      prompt: model.imageInput.kind === 'none' ? PROMPT : { text: PROMPT, images: [IMAGE_URL] },
      aspectRatio: '16:9',
      n: 2,
      seed: 42,
      providerOptions: {
        togetherai: {
          ...(model.steps ? { steps: model.steps.default } : {}),
          ...(model.negativePrompt ? { negative_prompt: 'blurry' } : {}),
          ...(model.guidance ? { guidance: model.guidance.default } : {}),
          ...(model.safetyCheckerCanBeDisabled ? { disable_safety_checker: true } : {}),
          output_format: 'png',
        },
      },
      maxRetries: 0,
    });
    const body = { model: modelId, prompt: PROMPT, width: 1344, height: 768, response_format: 'base64', ...expectedOptions(model, { guidance: true }) };
    // As generateImages sends it: one call where the model takes n, else one a image, the seed moved on per call.
    expect(bodies()).toEqual(
      model.acceptsN
        ? [{ ...body, n: 2, ...(model.acceptsSeed ? { seed: 42 } : {}) }]
        : [0, 1].map((offset) => ({ ...body, ...(model.acceptsSeed ? { seed: 42 + offset } : {}) })),
    );
    expect(images.map((image) => image.mediaType)).toEqual(['image/png', 'image/png']);
    // A seed the model does not take is dropped here as generateImages drops it, and said once.
    const said = warnings.map((warning) => ('message' in warning ? warning.message : JSON.stringify(warning)));
    expect(said).toEqual(model.acceptsSeed ? [] : [`${model.displayName} takes no seed; it was not sent, so results are not reproducible`]);
  });
});

describe('count: up to four images a request where the model takes n', () => {
  it.each([
    [1, [1]],
    [4, [4]],
    [5, [4, 1]],
    [6, [4, 2]],
    [8, [4, 4]],
    [9, [4, 4, 1]],
  ])('count %i on FLUX.1-schnell → requests of %j images, the seed moved on per request', async (count, sizes) => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', count, seed: 10 });
    // n is left out of a body for one image, as the AI SDK sends it.
    expect(bodies().map((body) => [body.n ?? 1, body.seed])).toEqual(sizes.map((n, index) => [n, 10 + index * 4]));
  });

  it('partner models that take no n get one request per image', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', size: '256x256', count: 3, seed: 1 });
    expect(bodies()).toEqual([1, 2, 3].map((seed) => ({ model: 'black-forest-labs/FLUX.1.1-pro', prompt: 'p', width: 256, height: 256, seed, response_format: 'base64' })));
  });

  it('imageModel(): n over four is split into requests of four at most, the seed moved on per request as generateImages moves it', async () => {
    const { images } = await generateImage({ model: imageModel('togetherai:black-forest-labs/FLUX.1-schnell'), prompt: 'p', size: '256x256', n: 6, seed: 3, maxRetries: 0 });
    expect(images).toHaveLength(6);
    expect(bodies().map((body) => [body.n ?? 1, body.seed]).sort()).toEqual([[2, 7], [4, 3]]);
    emulator.reset();
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', count: 6, seed: 3 });
    expect(bodies().map((body) => [body.n ?? 1, body.seed]).sort()).toEqual([[2, 7], [4, 3]]);
  });

  it('imageModel(): the app’s maxImagesPerCall above the model’s (8 of 4) still brings back all 8, in two requests of 4', async () => {
    const { images, warnings } = await generateImage({
      model: imageModel('togetherai:black-forest-labs/FLUX.1-schnell'),
      prompt: 'p',
      size: '256x256',
      n: 8,
      maxImagesPerCall: 8,
      seed: 20,
      maxRetries: 0,
    });
    expect(images).toHaveLength(8);
    expect(warnings).toEqual([]);
    expect(bodies().map((body) => [body.n, body.seed]).sort()).toEqual([[4, 20], [4, 24]]);
    // The seeds moved on: the second request's images are not the first's again.
    const digests = images.map((image) => image.base64);
    expect(new Set(digests).size).toBe(8);
  });
});

describe('sizes and ratios', () => {
  const schnell = 'togetherai:black-forest-labs/FLUX.1-schnell';
  const sizeSent = () => bodies().map((body) => `${body.width as number}x${body.height as number}`);

  it.each([
    ['square', '1024x1024'],
    ['landscape', '1344x768'],
    ['portrait', '768x1344'],
    ['photo', '1248x832'],
    ['classic', '1184x864'],
    ['512x768', '512x768'],
  ])('size %s → width and height %s', async (size, expected) => {
    await generate({ prompt: 'p', model: schnell, size });
    expect(sizeSent()).toEqual([expected]);
  });

  it.each([
    ['1:1', '1024x1024'],
    ['16:9', '1344x768'],
    ['9:16', '768x1344'],
    ['3:2', '1248x832'],
    ['4:3', '1184x864'],
  ])('aspectRatio %s → the docs table %s, never dropped', async (aspectRatio, expected) => {
    const result = await generate({ prompt: 'p', model: schnell, aspectRatio });
    expect(sizeSent()).toEqual([expected]);
    expect(bodies()[0]).not.toHaveProperty('aspect_ratio');
    expect(result.warnings).toEqual([]);
  });

  it('a ratio outside the table → about one megapixel, multiples of 8, with a warning', async () => {
    const result = await generate({ prompt: 'p', model: schnell, aspectRatio: '5:4' });
    expect(sizeSent()).toEqual(['1144x912']);
    expect(messages(result)).toEqual(['5:4 is not in the dimension table; sent 1144x912, the nearest multiple of 8 at about one megapixel']);
  });

  it('imageModel(): a ratio becomes width and height from the same table', async () => {
    for (const [aspectRatio, expected] of [['9:16', '768x1344'], ['4:3', '1184x864']] as const) {
      emulator.reset();
      await generateImage({ model: imageModel(schnell), prompt: 'p', aspectRatio, maxRetries: 0 });
      expect(sizeSent()).toEqual([expected]);
      expect(bodies()[0]).not.toHaveProperty('aspect_ratio');
    }
  });

  it('Kontext is sized by width/height, as every official example sends it; never aspect_ratio', async () => {
    const sized = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '1536x1024' });
    expect(sizeSent()).toEqual(['1536x1024']);
    expect(bodies()[0]).not.toHaveProperty('aspect_ratio');
    expect(sized.warnings).toEqual([]);
    emulator.reset();
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-max', aspectRatio: '3:2' });
    expect(sizeSent()).toEqual(['1248x832']);
    expect(bodies()[0]).not.toHaveProperty('aspect_ratio');
  });

  it('Gemini 3 Pro Image takes only its listed sizes: another size is refused before sending, a ratio picks the listed 1K size', async () => {
    const gemini = 'togetherai:google/gemini-3-pro-image';
    expect(await refusal({ prompt: 'p', model: gemini, size: '1000x1000' })).toMatch(/size: Gemini 3 Pro Image \(Nano Banana 2\) takes only 1024x1024, 1248x832/);
    await generate({ prompt: 'p', model: gemini, size: '2048x2048' });
    expect(sizeSent()).toEqual(['2048x2048']);
    emulator.reset();
    const wide = await generate({ prompt: 'p', model: gemini, aspectRatio: '21:9' });
    expect(sizeSent()).toEqual(['1536x672']);
    expect(wide.warnings).toEqual([]);
    emulator.reset();
    // Models whose sizes no source gives take the standard sizes only.
    expect(await refusal({ prompt: 'p', model: 'togetherai:google/imagen-4.0-fast', size: '512x512' })).toMatch(/takes only 1024x1024, 1344x768/);
  });
});

describe('options, in Together’s names', () => {
  it('steps, seed, negative prompt, guidance, safety checker and formats on FLUX.1-schnell', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', steps: 3, seed: 9, negativePrompt: 'fog', safetyChecker: false, outputFormat: 'jpeg' });
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', width: 256, height: 256, seed: 9, steps: 3, negative_prompt: 'fog', response_format: 'base64', disable_safety_checker: true, output_format: 'jpeg' },
    ]);
  });

  it('reference image bytes become a data URL under image_url (Kontext)', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '256x256', seed: 1, referenceImages: [SMALL_PNG] });
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.1-kontext-pro', prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64', image_url: `data:image/png;base64,${Buffer.from(SMALL_PNG).toString('base64')}` },
    ]);
  });

  it('several reference images go to reference_images (FLUX.2), from generateImages and from imageModel()', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '256x256', seed: 1, referenceImages: ['https://example.test/a.png', 'https://example.test/b.png'] });
    await generateImage({
      model: imageModel('togetherai:black-forest-labs/FLUX.2-dev'),
      prompt: { text: 'p', images: ['https://example.test/a.png', 'https://example.test/b.png'] },
      size: '256x256',
      seed: 1,
      maxRetries: 0,
    });
    const expected = { model: 'black-forest-labs/FLUX.2-dev', prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64', reference_images: ['https://example.test/a.png', 'https://example.test/b.png'] };
    expect(bodies()).toEqual([expected, expected]);
  });

  it('LoRAs go to image_loras as given (FLUX.2-dev)', async () => {
    const loras = [{ path: 'https://huggingface.co/example/lora-a', scale: 0.8 }, { path: 'https://huggingface.co/example/lora-b', scale: 1 }];
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '256x256', seed: 1, loras });
    expect(bodies()).toEqual([{ model: 'black-forest-labs/FLUX.2-dev', prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64', image_loras: loras }]);
  });

  it('steps on a model that takes none are not sent, with a warning that says so', async () => {
    const result = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', size: '256x256', seed: 1, steps: 10 });
    expect(bodies()).toEqual([{ model: 'black-forest-labs/FLUX.1.1-pro', prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64' }]);
    expect(result.warnings).toEqual([{ type: 'other', source: 'imagegen', field: 'steps', message: 'FLUX1.1 [pro] takes no steps; it was not sent' }]);
  });

  it('raw providerOptions are merged last and can override', async () => {
    await generate({
      prompt: 'p',
      model: 'togetherai:black-forest-labs/FLUX.1-schnell',
      size: '256x256',
      seed: 1,
      steps: 4,
      providerOptions: { togetherai: { steps: 6, response_format: 'base64' } },
    });
    expect(bodies()).toEqual([{ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p', width: 256, height: 256, seed: 1, steps: 6, response_format: 'base64' }]);
  });

  it('a seed is chosen and recorded when none is given, so every image can be reproduced', async () => {
    const result = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256' }, { randomSeed: fixedSeed });
    expect(bodies().map((body) => body.seed)).toEqual([1234]);
    expect(result.request.seed).toBe(1234);
    expect(result.images[0]?.seed).toBe(1234);
  });

  it('strict mode turns a dropped option into an error, before anything is sent', async () => {
    expect(await refusal({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', steps: 10, strict: true })).toMatch(
      /steps: FLUX1.1 \[pro\] takes no steps; it was not sent \(strict mode/,
    );
  });

  it('an unknown model id is sent with generic capabilities and a warning', async () => {
    const result = await generate({ prompt: 'p', model: 'togetherai:someone/new-model', size: '512x512', seed: 1 });
    expect(bodies()).toEqual([{ model: 'someone/new-model', prompt: 'p', width: 512, height: 512, seed: 1, response_format: 'base64' }]);
    expect(messages(result)).toEqual(['togetherai:someone/new-model is not in the catalog; using generic togetherai capabilities, unchecked']);
  });

  it('local:placeholder honours size, count, seed and format (no HTTP: drawn in process)', async () => {
    const result = await generate({ prompt: 'p', model: 'local:placeholder', size: '64x32', count: 3, seed: 5, outputFormat: 'jpeg' });
    expect(result.images.map((image) => [image.width, image.height, image.seed, image.mediaType])).toEqual([
      [64, 32, 5, 'image/jpeg'],
      [64, 32, 6, 'image/jpeg'],
      [64, 32, 7, 'image/jpeg'],
    ]);
    expect(result.requests).toBe(1);
    expect(bodies()).toEqual([]);
  });
});

describe('FLUX.2 options', () => {
  it('prompt_upsampling is sent when set, on FLUX.2 only; elsewhere it is dropped with a warning', async () => {
    const off = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-pro', size: '256x256', seed: 1, promptUpsampling: false });
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-pro', size: '256x256', seed: 1 });
    const schnell = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', seed: 1, promptUpsampling: true });
    const base = { prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64' };
    expect(bodies()).toEqual([
      { model: 'black-forest-labs/FLUX.2-pro', ...base, prompt_upsampling: false },
      { model: 'black-forest-labs/FLUX.2-pro', ...base },
      { model: 'black-forest-labs/FLUX.1-schnell', ...base },
    ]);
    expect(off.request.promptUpsampling).toBe(false);
    expect(messages(schnell)).toEqual(['FLUX.1 [schnell] (Turbo) takes no prompt upsampling switch; it was not sent']);
  });

  it('guidance goes out as `guidance` on FLUX.2 dev/flex, from generateImages and imageModel() alike (the models that took `guidance_scale` are retired)', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '256x256', seed: 1, guidance: 7.5 });
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-flex', size: '256x256', seed: 1, guidance: 5 });
    await generateImage({ model: imageModel('togetherai:black-forest-labs/FLUX.2-dev'), prompt: 'p', size: '256x256', seed: 1, providerOptions: { togetherai: { guidance: 4 } }, maxRetries: 0 });
    expect(bodies().map(({ model, guidance, guidance_scale }) => ({ model, guidance, guidance_scale }))).toEqual([
      { model: 'black-forest-labs/FLUX.2-dev', guidance: 7.5, guidance_scale: undefined },
      { model: 'black-forest-labs/FLUX.2-flex', guidance: 5, guidance_scale: undefined },
      { model: 'black-forest-labs/FLUX.2-dev', guidance: 4, guidance_scale: undefined },
    ]);
  });

  it('an image_url in providerOptions reaches FLUX.2 pro/flex (the docs show it there)', async () => {
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-flex', size: '256x256', seed: 1, providerOptions: { togetherai: { image_url: IMAGE_URL } } });
    expect(bodies()).toEqual([{ model: 'black-forest-labs/FLUX.2-flex', prompt: 'p', width: 256, height: 256, seed: 1, response_format: 'base64', image_url: IMAGE_URL }]);
  });
});

describe('deprecated models', () => {
  it('one only missing from the tables stays callable, with a warning naming the replacement; retired ones are refused, naming theirs', async () => {
    const warnings = async (model: string) => messages(await generate({ prompt: 'p', model, size: '256x256' }));
    expect(await warnings('togetherai:black-forest-labs/FLUX.1-schnell-Free')).toMatchInlineSnapshot(`
      [
        "togetherai:black-forest-labs/FLUX.1-schnell-Free is no longer in togetherai's model tables; use togetherai:black-forest-labs/FLUX.1-schnell instead",
      ]
    `);
    emulator.reset();
    expect(await refusal({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-krea-dev', size: '256x256' })).toContain(
      'FLUX.1 Krea [dev] was retired by togetherai on 2026-05-27 and no longer runs; use togetherai:black-forest-labs/FLUX.2-dev instead',
    );
    expect(await refusal({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-dev', size: '256x256' })).toContain(
      'use togetherai:black-forest-labs/FLUX.1-kontext-pro instead',
    );
  });

  it('strict mode refuses dropped options, not the use of a deprecated model', async () => {
    const result = await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell-Free', size: '256x256', strict: true });
    expect(result.images).toHaveLength(1);
    expect(bodies()).toHaveLength(1);
  });
});

describe('did you mean: typos are refused before anything is sent', () => {
  it.each([
    ['togetherai:black-forest-labs/FLUX.1-shnell', 'togetherai:black-forest-labs/FLUX.1-schnell'],
    ['togetherai:black-forest-labs/flux.1-schnell', 'togetherai:black-forest-labs/FLUX.1-schnell'],
    ['togetherai:google/imagen-4.0-fastt', 'togetherai:google/imagen-4.0-fast'],
    ['local:placehodler', 'local:placeholder'],
  ])('%s, suggesting %s', async (model, suggestion) => {
    expect(await refusal({ prompt: 'p', model })).toContain(`model: not a known model; did you mean "${suggestion}"?`);
  });

  it('a provider-name typo is refused with the provider it was probably meant to be', async () => {
    expect(await refusal({ prompt: 'p', model: 'togetheria:black-forest-labs/FLUX.1-schnell' })).toMatch(
      /model: unknown provider "togetheria"; did you mean "togetherai"\? \(available: [^)]*togetherai/,
    );
  });

  it('a far id, or a new version of a known one, is sent with generic capabilities and a warning', async () => {
    for (const modelId of SERVED_UNKNOWN) {
      const result = await generate({ prompt: 'p', model: `togetherai:${modelId}`, size: '256x256' });
      expect(messages(result)).toEqual([`togetherai:${modelId} is not in the catalog; using generic togetherai capabilities, unchecked`]);
    }
    expect(bodies().map((body) => body.model)).toEqual(SERVED_UNKNOWN);
  });
});

describe('seeds stay within 0..2^31-1', () => {
  it('a seed above 2,147,483,647 is refused; derived seeds wrap within the range', async () => {
    expect(await refusal({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', seed: 2_147_483_648 })).toContain('seed: must be at most 2147483647');
    await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', seed: 2_147_483_646, count: 9 });
    expect(bodies().map((body) => [body.n ?? 1, body.seed])).toEqual([[4, 2_147_483_646], [4, 2], [1, 6]]);
  });

  it('random seeds are drawn within the range', async () => {
    for (let attempt = 0; attempt < 20; attempt++) {
      await generate({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', count: 8 });
    }
    const seeds = bodies().map((body) => body.seed);
    expect(seeds).toHaveLength(40);
    for (const seed of seeds) expect(seed).toSatisfy((value: unknown) => Number.isInteger(value) && (value as number) >= 0 && (value as number) <= 2_147_483_647);
  });
});
