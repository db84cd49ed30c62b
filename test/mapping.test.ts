import { describe, expect, it } from 'vitest';
import { listModels } from '../src/catalog.js';
import { prepareGeneration } from '../src/generate.js';
import type { GenerateRequest } from '../src/pipeline/parse.js';
import { fixedSeed, SMALL_PNG } from './helpers/fixtures.js';
import '../src/providers/index.js';

const plan = async (request: GenerateRequest) => {
  const prepared = await prepareGeneration(request, { randomSeed: fixedSeed, checkKey: false });
  return { ...prepared.plan, warnings: prepared.warnings, mapped: prepared.calls };
};

const calls = (result: { mapped: readonly { args: import('../src/providers/adapter.js').ProviderCall }[] }) => result.mapped.map((mapped) => mapped.args);

const TOGETHER_MODELS = listModels({ provider: 'togetherai' });

describe('Together mapping for every catalog model', () => {
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

  // One request with every option; each model gets exactly what it accepts.
  it.each(TOGETHER_MODELS.map((model) => [model.modelId, model] as const))('%s', async (modelId, model) => {
    const takesImages = model.imageInput.kind !== 'none';
    const result = await plan({
      prompt: 'a lighthouse at dawn',
      model: `togetherai:${modelId}`,
      aspectRatio: '16:9',
      count: 2,
      seed: 42,
      ...(model.steps ? { steps: model.steps.default } : {}),
      ...(model.guidance ? { guidance: model.guidance.default } : {}),
      negativePrompt: 'blurry',
      safetyChecker: false,
      outputFormat: 'png',
      ...(takesImages ? { referenceImages: ['https://example.test/cat.png'] } : {}),
    });
    const expectedOptions: Record<string, unknown> = {
      ...(model.sizing === 'aspect-ratio' ? { aspect_ratio: '16:9' } : {}),
      ...(model.steps ? { steps: model.steps.default } : {}),
      ...(model.negativePrompt ? { negative_prompt: 'blurry' } : {}),
      ...(model.guidance ? { [model.guidanceParameter ?? 'guidance_scale']: model.guidance.default } : {}),
      ...(model.imageInput.kind === 'image_url' ? { image_url: 'https://example.test/cat.png' } : {}),
      ...(model.imageInput.kind === 'reference_images' ? { reference_images: ['https://example.test/cat.png'] } : {}),
      ...(model.safetyCheckerCanBeDisabled ? { disable_safety_checker: true } : {}),
      output_format: 'png',
    };
    const size = model.sizing === 'dimensions' ? { size: '1344x768' } : {};
    const expected = model.acceptsN
      ? [{ prompt: 'a lighthouse at dawn', n: 2, maxImagesPerCall: 4, ...size, seed: 42, providerOptions: { togetherai: expectedOptions } }]
      : [0, 1].map((offset) => ({
          prompt: 'a lighthouse at dawn',
          n: 1,
          maxImagesPerCall: 1,
          ...size,
          ...(model.acceptsSeed ? { seed: 42 + offset } : {}),
          providerOptions: { togetherai: expectedOptions },
        }));
    expect(calls(result)).toEqual(expected);
    expect(result.width).toBe(1344);
    expect(result.height).toBe(768);
    // Whatever was dropped says so.
    const dropped = result.warnings.map((warning) => warning.field);
    expect(dropped.includes('negativePrompt')).toBe(!model.negativePrompt);
    expect(dropped.includes('safetyChecker')).toBe(!model.safetyCheckerCanBeDisabled);
    expect(dropped.includes('seed')).toBe(!model.acceptsSeed);
  });
});

describe('count batching', () => {
  it.each([
    [1, [1]],
    [4, [4]],
    [5, [4, 1]],
    [6, [4, 2]],
    [8, [4, 4]],
    [9, [4, 4, 1]],
  ])('count %i on FLUX.1-schnell → calls of %j, seeds moved on per call', async (count, sizes) => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', count, seed: 10 });
    expect(result.calls.map((call) => call.n)).toEqual(sizes);
    expect(result.calls.map((call) => call.seed)).toEqual(sizes.map((_, index) => 10 + index * 4));
  });

  it('partner models that take no n get one call per image', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', count: 3 });
    expect(calls(result).map((call) => [call.n, call.maxImagesPerCall])).toEqual([[1, 1], [1, 1], [1, 1]]);
  });
});

describe('sizes and ratios', () => {
  const schnell = 'togetherai:black-forest-labs/FLUX.1-schnell';
  it.each([
    ['square', '1024x1024'],
    ['landscape', '1344x768'],
    ['portrait', '768x1344'],
    ['photo', '1248x832'],
    ['classic', '1184x864'],
    ['512x768', '512x768'],
  ])('size %s → %s', async (size, expected) => {
    expect(calls(await plan({ prompt: 'p', model: schnell, size }))[0]?.size).toBe(expected);
  });

  it.each([
    ['1:1', '1024x1024'],
    ['16:9', '1344x768'],
    ['9:16', '768x1344'],
    ['3:2', '1248x832'],
    ['4:3', '1184x864'],
  ])('aspectRatio %s → the docs table %s, never dropped', async (aspectRatio, expected) => {
    const result = await plan({ prompt: 'p', model: schnell, aspectRatio });
    expect(calls(result)[0]?.size).toBe(expected);
    expect(calls(result)[0]).not.toHaveProperty('aspectRatio');
    expect(result.warnings).toEqual([]);
  });

  it('a ratio outside the table → about one megapixel, multiples of 8, with a warning', async () => {
    const result = await plan({ prompt: 'p', model: schnell, aspectRatio: '5:4' });
    expect(calls(result)[0]?.size).toBe('1144x912');
    expect(result.warnings.map((warning) => warning.message)).toEqual([
      '5:4 is not in the dimension table; sent 1144x912, the nearest multiple of 8 at about one megapixel',
    ]);
  });

  it('Kontext is sized by width/height, as every official example sends it; never aspect_ratio', async () => {
    const sized = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '1536x1024' });
    expect(calls(sized)[0]?.size).toBe('1536x1024');
    expect(calls(sized)[0]?.providerOptions.togetherai).not.toHaveProperty('aspect_ratio');
    expect(sized.warnings).toEqual([]);
    const ratio = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-max', aspectRatio: '3:2' });
    expect(calls(ratio)[0]?.size).toBe('1248x832');
    expect(calls(ratio)[0]?.providerOptions.togetherai).not.toHaveProperty('aspect_ratio');
  });

  it('Gemini 3 Pro Image takes only its listed sizes: another size is refused, a ratio picks the listed 1K size', async () => {
    const gemini = 'togetherai:google/gemini-3-pro-image';
    await expect(plan({ prompt: 'p', model: gemini, size: '1000x1000' })).rejects.toThrow(/size: Gemini 3 Pro Image \(Nano Banana 2\) takes only 1024x1024, 1248x832/);
    expect(calls(await plan({ prompt: 'p', model: gemini, size: '2048x2048' }))[0]?.size).toBe('2048x2048');
    const wide = await plan({ prompt: 'p', model: gemini, aspectRatio: '21:9' });
    expect(calls(wide)[0]?.size).toBe('1536x672');
    expect(wide.warnings).toEqual([]);
    // Models whose sizes no source gives take the standard sizes only.
    await expect(plan({ prompt: 'p', model: 'togetherai:google/imagen-4.0-fast', size: '512x512' })).rejects.toThrow(/takes only 1024x1024, 1344x768/);
  });
});

describe('options', () => {
  it('reference image bytes become a data URL under image_url (Kontext)', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', referenceImages: [SMALL_PNG] });
    const imageUrl = calls(result)[0]?.providerOptions.togetherai?.image_url as string;
    expect(imageUrl.startsWith('data:image/png;base64,')).toBe(true);
    expect(Buffer.from(imageUrl.split(',')[1]!, 'base64').equals(Buffer.from(SMALL_PNG))).toBe(true);
  });

  it('several reference images go to reference_images (FLUX.2)', async () => {
    const result = await plan({
      prompt: 'p',
      model: 'togetherai:black-forest-labs/FLUX.2-dev',
      referenceImages: ['https://example.test/a.png', 'https://example.test/b.png'],
    });
    expect(calls(result)[0]?.providerOptions.togetherai?.reference_images).toEqual([
      'https://example.test/a.png',
      'https://example.test/b.png',
    ]);
  });

  it('steps on a model that takes none are dropped with a warning that says so', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', steps: 10 });
    expect(calls(result)[0]?.providerOptions.togetherai).not.toHaveProperty('steps');
    expect(result.warnings).toEqual([
      { source: 'imagegen', field: 'steps', message: 'FLUX1.1 [pro] takes no steps; it was not sent' },
    ]);
  });

  it('raw providerOptions are merged last and can override', async () => {
    const result = await plan({
      prompt: 'p',
      model: 'togetherai:black-forest-labs/FLUX.1-schnell',
      steps: 4,
      providerOptions: { togetherai: { steps: 6, response_format: 'base64' } },
    });
    expect(calls(result)[0]?.providerOptions.togetherai).toEqual({ steps: 6, response_format: 'base64' });
  });

  it('a seed is chosen and recorded when none is given, so every image can be reproduced', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell' });
    expect(calls(result)[0]?.seed).toBe(1234);
    expect(result.resolved.seed).toBe(1234);
  });

  it('strict mode turns a dropped option into an error', async () => {
    await expect(
      plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1.1-pro', steps: 10, strict: true }),
    ).rejects.toThrow(/steps: FLUX1.1 \[pro\] takes no steps; it was not sent \(strict mode/);
  });

  it('an unknown model id works with generic capabilities and a warning', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:someone/new-model', size: '512x512' });
    expect(result.model.known).toBe(false);
    expect(calls(result)[0]).toMatchObject({ size: '512x512', n: 1 });
    expect(result.warnings[0]?.message).toMatch(/not in the catalog; using generic togetherai capabilities/);
  });

  it('local:placeholder maps size, n, seed and format', async () => {
    const result = await plan({ prompt: 'p', model: 'local:placeholder', size: '64x32', count: 3, seed: 5, outputFormat: 'jpeg' });
    expect(calls(result)).toEqual([
      { prompt: 'p', n: 3, maxImagesPerCall: 4, size: '64x32', seed: 5, providerOptions: { local: { format: 'jpeg' } } },
    ]);
  });
});

describe('FLUX.2 options', () => {
  it('prompt_upsampling is sent when set, on FLUX.2 only; elsewhere it is dropped with a warning', async () => {
    const off = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-pro', promptUpsampling: false });
    expect(calls(off)[0]?.providerOptions.togetherai).toEqual({ prompt_upsampling: false });
    expect(off.resolved.promptUpsampling).toBe(false);
    const unset = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-pro' });
    expect(calls(unset)[0]?.providerOptions.togetherai).toEqual({});
    const schnell = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', promptUpsampling: true });
    expect(calls(schnell)[0]?.providerOptions.togetherai).toEqual({});
    expect(schnell.warnings.map((warning) => warning.message)).toEqual(['FLUX.1 [schnell] (Turbo) takes no prompt upsampling switch; it was not sent']);
  });

  it('guidance goes out as `guidance` on FLUX.2 dev/flex and as `guidance_scale` elsewhere (one place decides: the catalog)', async () => {
    const dev = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', guidance: 7.5 });
    expect(calls(dev)[0]?.providerOptions.togetherai).toEqual({ guidance: 7.5 });
    const flex = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-flex', guidance: 5 });
    expect(calls(flex)[0]?.providerOptions.togetherai).toEqual({ guidance: 5 });
    const old = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-dev', guidance: 5 });
    expect(calls(old)[0]?.providerOptions.togetherai).toEqual({ guidance_scale: 5 });
  });

  it('an image_url in providerOptions reaches FLUX.2 pro/flex (the docs show it there)', async () => {
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-flex', providerOptions: { togetherai: { image_url: 'https://example.test/cat.png' } } });
    expect(calls(result)[0]?.providerOptions.togetherai).toEqual({ image_url: 'https://example.test/cat.png' });
  });
});

describe('deprecated models', () => {
  it('stay callable, with a warning naming the date and the replacement', async () => {
    const warnings = async (model: string) => (await plan({ prompt: 'p', model })).warnings.map((warning) => warning.message);
    expect(await warnings('togetherai:black-forest-labs/FLUX.1-dev')).toMatchInlineSnapshot(`
      [
        "togetherai:black-forest-labs/FLUX.1-dev was removed from togetherai's serverless models on 2026-02-27; use togetherai:black-forest-labs/FLUX.2-dev instead",
      ]
    `);
    expect(await warnings('togetherai:black-forest-labs/FLUX.1-krea-dev')).toMatchInlineSnapshot(`
      [
        "togetherai:black-forest-labs/FLUX.1-krea-dev was deprecated on 2026-05-27; use togetherai:black-forest-labs/FLUX.2-dev instead",
      ]
    `);
    expect(await warnings('togetherai:black-forest-labs/FLUX.1-schnell-Free')).toMatchInlineSnapshot(`
      [
        "togetherai:black-forest-labs/FLUX.1-schnell-Free is no longer in togetherai's model tables; use togetherai:black-forest-labs/FLUX.1-schnell instead",
      ]
    `);
    // Strict mode makes dropped options errors, not the use of a deprecated model.
    expect((await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-dev', strict: true })).model.deprecated?.date).toBe('2026-02-27');
    expect(await warnings('togetherai:black-forest-labs/FLUX.1-kontext-dev')).toEqual([
      "togetherai:black-forest-labs/FLUX.1-kontext-dev was removed from togetherai's serverless models on 2026-02-27; use togetherai:black-forest-labs/FLUX.1-kontext-pro instead",
    ]);
  });
});

describe('did you mean', () => {
  it.each([
    ['togetherai:black-forest-labs/FLUX.1-shnell', 'togetherai:black-forest-labs/FLUX.1-schnell'],
    ['togetherai:black-forest-labs/flux.1-schnell', 'togetherai:black-forest-labs/FLUX.1-schnell'],
    ['togetherai:google/imagen-4.0-fastt', 'togetherai:google/imagen-4.0-fast'],
    ['local:placehodler', 'local:placeholder'],
  ])('%s is refused before sending, suggesting %s', async (model, suggestion) => {
    await expect(plan({ prompt: 'p', model })).rejects.toThrow(`model: not a known model; did you mean "${suggestion}"?`);
  });

  it('a provider-name typo is refused with the provider it was probably meant to be', async () => {
    await expect(plan({ prompt: 'p', model: 'togetheria:black-forest-labs/FLUX.1-schnell' })).rejects.toThrow(
      'model: unknown provider "togetheria"; did you mean "togetherai"? (available: togetherai, local, openai',
    );
  });

  it('a far id, or a new version of a known one, runs with generic capabilities and a warning', async () => {
    for (const model of ['togetherai:someone/new-model', 'togetherai:black-forest-labs/FLUX.3-pro', 'togetherai:ideogram/ideogram-5.0']) {
      const result = await plan({ prompt: 'p', model });
      expect(result.model.known).toBe(false);
      expect(result.warnings.map((warning) => warning.message)).toEqual([`${model} is not in the catalog; using generic togetherai capabilities, unchecked`]);
    }
  });
});

describe('seeds stay within 0..2^31-1', () => {
  it('a seed above 2,147,483,647 is refused; derived seeds wrap within the range', async () => {
    await expect(plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', seed: 2_147_483_648 })).rejects.toThrow(
      'seed: must be at most 2147483647',
    );
    const result = await plan({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', seed: 2_147_483_646, count: 9 });
    expect(result.calls.map((call) => call.seed)).toEqual([2_147_483_646, 2, 6]);
  });

  it('random seeds are drawn within the range', async () => {
    for (let attempt = 0; attempt < 200; attempt++) {
      const result = await prepareGeneration({ prompt: 'p', model: 'local:placeholder', count: 8 }, { checkKey: false });
      for (const { call } of result.calls) expect(call.seed).toSatisfy((seed: number) => Number.isInteger(seed) && seed >= 0 && seed <= 2_147_483_647);
    }
  });
});
