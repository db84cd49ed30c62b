import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import {
  clearLiveModels,
  estimateCost,
  findModel,
  InsufficientCreditsError,
  InvalidRequestError,
  ModelAccessError,
  ProviderError,
  refreshModelList,
  setPriceOverrides,
} from '../src/index.js';
import { generateImages, modelListCachePath } from '../src/node/index.js';
import { memoryIO } from './helpers/cli.js';

// The AI SDK's own (wrong) aspectRatio warning would flood the log.
(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const KEY = 'catalog-test-key-0123';
const NEW_MODEL = 'acme/brand-new-image';
let emulator: Emulator;
let cacheDir: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 3, extraModels: [{ id: NEW_MODEL, displayName: 'Brand New Image', organization: 'Acme' }] });
});
afterAll(() => emulator.close());

async function useEmulator(target: Emulator = emulator) {
  cacheDir = await mkdtemp(path.join(tmpdir(), 'imagegen-models-cache-'));
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', target.url);
  vi.stubEnv('IMAGEGEN_CACHE_DIR', cacheDir);
}
afterEach(() => {
  vi.unstubAllEnvs();
  vi.restoreAllMocks();
  emulator.reset();
  clearLiveModels();
  setPriceOverrides({});
});

const bodies = () => emulator.requests().map((request) => request.body);
const outDir = () => mkdtemp(path.join(tmpdir(), 'imagegen-catalog-out-'));

describe('new model families: exact bodies against the emulator', () => {
  it.each([
    [
      'Google Imagen: standard size; seed and negative prompt not sent (not documented), with warnings',
      { model: 'togetherai:google/imagen-4.0-fast', size: 'landscape', seed: 7, negativePrompt: 'fog' },
      [{ model: 'google/imagen-4.0-fast', prompt: 'a lighthouse', width: 1344, height: 768, response_format: 'base64' }],
      ['negativePrompt', 'seed'],
    ],
    [
      'Gemini 3 Pro Image: a listed 21:9 size and reference_images',
      { model: 'togetherai:google/gemini-3-pro-image', aspectRatio: '21:9', referenceImages: ['https://example.test/a.png', 'https://example.test/b.png'] },
      [{ model: 'google/gemini-3-pro-image', prompt: 'a lighthouse', width: 1536, height: 672, response_format: 'base64', reference_images: ['https://example.test/a.png', 'https://example.test/b.png'] }],
      [],
    ],
    [
      'Flash Image 2.5: reference_images',
      { model: 'togetherai:google/flash-image-2.5', size: 'square', referenceImages: ['https://example.test/a.png'] },
      [{ model: 'google/flash-image-2.5', prompt: 'a lighthouse', width: 1024, height: 1024, response_format: 'base64', reference_images: ['https://example.test/a.png'] }],
      [],
    ],
    [
      'Seedream: one call per image (n not documented), standard sizes',
      { model: 'togetherai:ByteDance-Seed/Seedream-4.0', size: 'portrait', count: 2 },
      [
        { model: 'ByteDance-Seed/Seedream-4.0', prompt: 'a lighthouse', width: 768, height: 1344, response_format: 'base64' },
        { model: 'ByteDance-Seed/Seedream-4.0', prompt: 'a lighthouse', width: 768, height: 1344, response_format: 'base64' },
      ],
      [],
    ],
    [
      'Ideogram: standard size, png',
      { model: 'togetherai:ideogram/ideogram-3.0', size: 'photo', outputFormat: 'png' },
      [{ model: 'ideogram/ideogram-3.0', prompt: 'a lighthouse', width: 1248, height: 832, response_format: 'base64', output_format: 'png' }],
      [],
    ],
    [
      'Qwen Image: the documented range, safety checker off; steps not sent (not documented)',
      { model: 'togetherai:Qwen/Qwen-Image', size: '512x384', safetyChecker: false, steps: 20 },
      [{ model: 'Qwen/Qwen-Image', prompt: 'a lighthouse', width: 512, height: 384, response_format: 'base64', disable_safety_checker: true }],
      ['steps'],
    ],
    [
      'HiDream',
      { model: 'togetherai:HiDream-ai/HiDream-I1-Fast', size: '256x256' },
      [{ model: 'HiDream-ai/HiDream-I1-Fast', prompt: 'a lighthouse', width: 256, height: 256, response_format: 'base64' }],
      [],
    ],
    [
      'Juggernaut (the catalog keeps the lower-case "Rundiffusion" id Together lists)',
      { model: 'togetherai:Rundiffusion/Juggernaut-Lightning-Flux', size: '256x256' },
      [{ model: 'Rundiffusion/Juggernaut-Lightning-Flux', prompt: 'a lighthouse', width: 256, height: 256, response_format: 'base64' }],
      [],
    ],
    [
      'DreamShaper',
      { model: 'togetherai:Lykon/DreamShaper', size: '256x256' },
      [{ model: 'Lykon/DreamShaper', prompt: 'a lighthouse', width: 256, height: 256, response_format: 'base64' }],
      [],
    ],
    [
      'Stable Diffusion 3 Medium',
      { model: 'togetherai:stabilityai/stable-diffusion-3-medium', size: '256x256' },
      [{ model: 'stabilityai/stable-diffusion-3-medium', prompt: 'a lighthouse', width: 256, height: 256, response_format: 'base64' }],
      [],
    ],
    [
      'FLUX.2 pro: image_url through providerOptions (the docs show it), prompt_upsampling on',
      { model: 'togetherai:black-forest-labs/FLUX.2-pro', size: '512x512', seed: 5, promptUpsampling: true, providerOptions: { togetherai: { image_url: 'https://example.test/cat.png' } } },
      [{ model: 'black-forest-labs/FLUX.2-pro', prompt: 'a lighthouse', seed: 5, width: 512, height: 512, response_format: 'base64', prompt_upsampling: true, image_url: 'https://example.test/cat.png' }],
      [],
    ],
    [
      'FLUX.2 dev: guidance under `guidance`, LoRA, n',
      { model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '512x512', seed: 5, count: 2, guidance: 7.5, steps: 28, loras: [{ path: 'https://example.test/lora', scale: 0.8 }] },
      [{ model: 'black-forest-labs/FLUX.2-dev', prompt: 'a lighthouse', n: 2, seed: 5, width: 512, height: 512, response_format: 'base64', steps: 28, guidance: 7.5, image_loras: [{ path: 'https://example.test/lora', scale: 0.8 }] }],
      [],
    ],
  ] as const)('%s', async (_name, request, expected, droppedFields) => {
    await useEmulator();
    const result = await generateImages({ prompt: 'a lighthouse', ...request } as Parameters<typeof generateImages>[0]);
    expect(bodies()).toEqual(expected);
    expect(result.images).toHaveLength(expected.reduce((sum, body) => sum + ((body as { n?: number }).n ?? 1), 0));
    expect(result.warnings.filter((warning) => warning.source === 'imagegen').map((warning) => warning.field)).toEqual(droppedFields);
  });
});

describe('deprecated models', () => {
  it('imagegen warns when one is used; --dry-run reports deprecated and unknown models', async () => {
    await useEmulator();
    const folder = await outDir();
    const jobs = path.join(folder, 'jobs.jsonl');
    await writeFile(
      jobs,
      [
        { prompt: 'a', model: 'togetherai:black-forest-labs/FLUX.1-schnell-Free' },
        { prompt: 'b', model: 'togetherai:someone/far-away-model', size: '512x512' },
        { prompt: 'c', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '512x512' },
      ].map((job) => JSON.stringify(job)).join('\n'),
    );
    const io = memoryIO(folder);
    expect(await runCli(['batch', jobs, '--dry-run', '-o', path.join(folder, 'out')], io)).toBe(0);
    expect(io.stdoutText()).toContain('  not in the catalog (generic capabilities, unchecked): togetherai:someone/far-away-model\n');
    expect(io.stdoutText()).toContain('  deprecated: togetherai:black-forest-labs/FLUX.1-schnell-Free (unlisted); use togetherai:black-forest-labs/FLUX.1-schnell\n');
    expect(emulator.stats().requests).toBe(0);
  });

  it('a generate with a deprecated model Together no longer serves: its 404 names the replacement', async () => {
    await useEmulator();
    const io = memoryIO();
    expect(await runCli(['generate', 'p', '-m', 'togetherai:black-forest-labs/FLUX.1-schnell-Free', '-o', await outDir()], io)).toBe(1);
    expect(io.stderrText().split('\n')[0]).toMatchInlineSnapshot(
      `"error: togetherai does not serve black-forest-labs/FLUX.1-schnell-Free (HTTP 404): Unable to access model black-forest-labs/FLUX.1-schnell-Free. Please visit https://api.together.ai/models to view the list of supported models. The catalog names its replacement: use togetherai:black-forest-labs/FLUX.1-schnell instead."`,
    );
    const result = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell-Free' }).catch((error: unknown) => error);
    expect(ProviderError.isInstance(result) && result.statusCode).toBe(404);
  });
});

describe('did you mean: typos are refused before anything is sent', () => {
  it.each([
    [['-m', 'togetherai:black-forest-labs/FLUX.1-shnell'], 'did you mean "togetherai:black-forest-labs/FLUX.1-schnell"?'],
    [['-m', 'local:placehodler'], 'did you mean "local:placeholder"?'],
    [['-m', 'togthrai:black-forest-labs/FLUX.1-schnell'], 'unknown provider "togthrai"; did you mean "togetherai"?'],
  ])('imagegen generate %j exits 2: %s', async (flags, message) => {
    await useEmulator();
    const out = await outDir();
    const io = memoryIO();
    expect(await runCli(['generate', 'p', ...flags, '-o', out], io)).toBe(2);
    expect(io.stderrText()).toContain(message);
    expect(emulator.stats().requests).toBe(0);
    expect(await readdir(out)).toEqual([]);
  });

  it('the message, in full', async () => {
    await useEmulator();
    const io = memoryIO();
    await runCli(['generate', 'p', '-m', 'togetherai:black-forest-labs/FLUX.1-shnell', '-o', await outDir()], io);
    expect(io.stderrText()).toMatchInlineSnapshot(`
      "error: invalid input, nothing was sent:
        - --model (model): not a known model; did you mean "togetherai:black-forest-labs/FLUX.1-schnell"? (if it is a new model, \`imagegen models --refresh\` learns the provider's live list) (got "togetherai:black-forest-labs/FLUX.1-shnell")
      "
    `);
  });

  it('from the library: InvalidRequestError, zero requests; --dry-run refuses it too', async () => {
    await useEmulator();
    const error = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-shnell' }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    const folder = await outDir();
    await writeFile(path.join(folder, 'jobs.jsonl'), `${JSON.stringify({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-shnell' })}\n`);
    const io = memoryIO(folder);
    expect(await runCli(['batch', path.join(folder, 'jobs.jsonl'), '--dry-run'], io)).toBe(2);
    expect(io.stderrText()).toContain('did you mean "togetherai:black-forest-labs/FLUX.1-schnell"?');
    expect(emulator.stats().requests).toBe(0);
  });
});

describe('402 and 403: typed errors that say what to do', () => {
  it('402 no credits: InsufficientCreditsError, not retried; the body is shaped like Together\'s', async () => {
    const broke = await startEmulator({ apiKey: KEY, quiet: true, outOfCredits: true });
    try {
      await useEmulator(broke);
      const error = await generateImages({ prompt: 'p', size: '256x256' }).catch((caught: unknown) => caught);
      expect(InsufficientCreditsError.isInstance(error)).toBe(true);
      expect((error as InsufficientCreditsError).statusCode).toBe(402);
      expect((error as Error).message).toMatchInlineSnapshot(
        `"togetherai refused the request for black-forest-labs/FLUX.1-schnell: the account is out of credits (HTTP 402): Credit limit exceeded. Image models can only be used with credits: add credits to your account to continue. Add credits to the togetherai account (its billing settings) and run again; nothing was generated, so nothing was charged."`,
      );
      expect(broke.stats().requests).toBe(1);
      const raw = await fetch(`${broke.url}/images/generations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'p' }),
      });
      expect(await raw.json()).toEqual({
        id: expect.stringMatching(/\S+/),
        error: { message: expect.stringContaining('Credit limit exceeded'), type: 'invalid_request_error', param: null, code: 'insufficient_credits' },
      });
    } finally {
      await broke.close();
    }
  });

  it('403 partner model without data sharing: ModelAccessError naming the setting; models Together hosts still work', async () => {
    const privateAccount = await startEmulator({ apiKey: KEY, quiet: true, partnerDataSharing: false });
    try {
      await useEmulator(privateAccount);
      const error = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-pro', size: '256x256' }).catch((caught: unknown) => caught);
      expect(ModelAccessError.isInstance(error)).toBe(true);
      expect((error as ModelAccessError).statusCode).toBe(403);
      expect((error as Error).message).toMatchInlineSnapshot(
        `"togetherai refused access to black-forest-labs/FLUX.2-pro (HTTP 403): black-forest-labs/FLUX.2-pro is served by a third-party partner: enable sharing data with partners in your account settings to use it. This is a partner model: allow sharing data with third-party model partners in your Together account settings (privacy), or pick a model Together hosts itself (\`listModels({ provider: 'togetherai' })\`)."`,
      );
      const hosted = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256' });
      expect(hosted.images).toHaveLength(1);
      const io = memoryIO();
      expect(await runCli(['generate', 'p', '-m', 'togetherai:google/imagen-4.0-fast', '-o', await outDir()], io)).toBe(1);
      // The CLI says it in the shell's words.
      expect(io.stderrText()).toContain('(HTTP 403)');
      expect(io.stderrText()).toContain('or pick a model Together hosts itself (`imagegen models --provider togetherai`).');
    } finally {
      await privateAccount.close();
    }
  });
});

describe('a catalog that keeps itself current', () => {
  it('refreshModelList reads GET /v1/models: a model the catalog lacks, and catalog models no longer listed', async () => {
    const comparison = await refreshModelList({ apiKey: KEY, baseURL: emulator.url, now: () => new Date('2026-11-21T10:00:00Z') });
    expect(comparison.fetchedAt).toBe('2026-11-21T10:00:00.000Z');
    expect(comparison.newModels).toEqual([{ id: NEW_MODEL, displayName: 'Brand New Image', organization: 'Acme' }]);
    expect(comparison.unlistedModels.map((model) => model.modelId).sort()).toEqual([
      'black-forest-labs/FLUX.1-dev',
      'black-forest-labs/FLUX.1-kontext-dev',
      'black-forest-labs/FLUX.1-krea-dev',
      'black-forest-labs/FLUX.1-schnell-Free',
    ]);
    // Once known from the live list, the new id runs with generic capabilities and says where it came from...
    await useEmulator();
    const result = await generateImages({ prompt: 'p', model: `togetherai:${NEW_MODEL}`, size: '256x256' });
    expect(result.warnings.map((warning) => warning.message)).toEqual([
      `togetherai:${NEW_MODEL} is listed by togetherai (refreshed 2026-11-21T10:00:00.000Z) but not in this release's catalog; using generic togetherai capabilities, unchecked`,
    ]);
    // ...and a slip of it is a typo.
    await expect(generateImages({ prompt: 'p', model: `togetherai:${NEW_MODEL}s` })).rejects.toThrow(`did you mean "togetherai:${NEW_MODEL}"?`);
  });

  it('imagegen models --refresh: marks new and unlisted models, caches the list on disk, re-reads it within the time-to-live', async () => {
    const listing = await startEmulator({ apiKey: KEY, quiet: true, extraModels: [{ id: NEW_MODEL }] });
    await useEmulator(listing);
    const io = memoryIO();
    expect(await runCli(['models', '--refresh', '--provider', 'togetherai'], io)).toBe(0);
    const lines = io.stdoutText().split('\n');
    expect(lines.filter((line) => line.length > 80)).toEqual([]);
    const row = (modelId: string) => lines.find((line) => line.slice(2).startsWith(`${modelId} `));
    expect(row(NEW_MODEL)).toMatch(/^\? .*256-1920\/8\s+1\s+1-50\s+url\s+-$/);
    expect(row('black-forest-labs/FLUX.1-krea-dev')).toMatch(/^! /);
    expect(row('black-forest-labs/FLUX.1-schnell')).toMatch(/^\* .* 0\.0028$/);
    expect(io.stdoutText().replace(/\n/g, ' ')).toContain('? new: generic capabilities, unchecked');
    expect(io.stdoutText().replace(/\n(?!Prices)/g, ' ')).toMatch(
      /togetherai live list \(fetched now, .+\): 27 image models; 1 not in this release \(generic capabilities, unchecked\), 4 catalog models no longer listed\./,
    );
    const cached = JSON.parse(await readFile(modelListCachePath('togetherai', cacheDir), 'utf8')) as { models: { id: string }[] };
    expect(cached.models.map((model) => model.id)).toContain(NEW_MODEL);

    // Within the time-to-live the cache answers: the provider is not asked (it is gone now).
    await listing.close();
    clearLiveModels();
    const again = memoryIO();
    expect(await runCli(['models', '--refresh', '--json'], again)).toBe(0);
    const json = JSON.parse(again.stdoutText()) as { refreshed: { fromCache: boolean }; models: { id: string; known: boolean; listed?: boolean }[] };
    expect(json.refreshed.fromCache).toBe(true);
    expect(json.models.find((model) => model.id === `togetherai:${NEW_MODEL}`)).toMatchObject({ known: false, listed: true });
    expect(json.models.find((model) => model.id === 'togetherai:black-forest-labs/FLUX.1-dev')).toMatchObject({ known: true, listed: false });
    // --max-age 0 asks again: the provider is down, so that is a failure, exit 1.
    const stale = memoryIO();
    expect(await runCli(['models', '--refresh', '--max-age', '0'], stale)).toBe(1);
    expect(stale.stderrText()).toMatch(/Could not reach|fetch failed|ECONNREFUSED/);

    // The cached list also keeps the new id from being taken for a typo in a later run.
    clearLiveModels();
    const near = memoryIO();
    expect(await runCli(['generate', 'p', '-m', `togetherai:${NEW_MODEL}s`, '-o', await outDir()], near)).toBe(2);
    expect(near.stderrText()).toContain(`did you mean "togetherai:${NEW_MODEL}"?`);
  });

  it('nothing is fetched unless asked: models and a dry run make no request', async () => {
    await useEmulator();
    const fetchSpy = vi.spyOn(globalThis, 'fetch');
    const io = memoryIO();
    expect(await runCli(['models'], io)).toBe(0);
    expect(io.stdoutText()).not.toContain('live list');
    expect(fetchSpy).not.toHaveBeenCalled();
  });

  it('--refresh on a provider without a live list is a usage error', async () => {
    const io = memoryIO();
    expect(await runCli(['models', '--refresh', '--provider', 'openai'], io)).toBe(2);
    expect(io.stderrText()).toContain('openai has no live model list');
  });
});

describe('prices: one basis per model, overridable from code, the CLI and a config file', () => {
  it('from code, in either form', () => {
    const pro = findModel('togetherai', 'black-forest-labs/FLUX.2-pro')!;
    expect(estimateCost({ model: pro, width: 1024, height: 1024, images: 2 })).toBe(0.06);
    setPriceOverrides({ 'togetherai:black-forest-labs/FLUX.2-pro': '0.05/image', 'togetherai:black-forest-labs/FLUX.1-schnell': { unit: 'megapixel', usd: 0.01, defaultSteps: 4 } });
    expect(findModel('togetherai', 'black-forest-labs/FLUX.2-pro')?.price).toEqual({ unit: 'image', usd: 0.05 });
    // Per megapixel with the steps factor: 8 steps over a default of 4 cost twice as much.
    expect(estimateCost({ model: findModel('togetherai', 'black-forest-labs/FLUX.1-schnell')!, width: 1000, height: 1000, images: 1, steps: 8 })).toBe(0.02);
    expect(() => setPriceOverrides({ 'togetherai:x': 'cheap' })).toThrow('Invalid price "cheap"');
  });

  it('--price on the command line wins over the config file; a bad price exits 2', async () => {
    const folder = await outDir();
    await writeFile(
      path.join(folder, 'imagegen.config.json'),
      JSON.stringify({ prices: { 'togetherai:black-forest-labs/FLUX.2-pro': '0.5/image', 'togetherai:Lykon/DreamShaper': { unit: 'image', usd: 0.25 } } }),
    );
    const io = memoryIO(folder);
    expect(await runCli(['models', '--provider', 'togetherai', '--price', 'togetherai:black-forest-labs/FLUX.2-pro=0.04/image'], io)).toBe(0);
    const lines = io.stdoutText().split('\n');
    expect(lines.find((line) => line.startsWith('  black-forest-labs/FLUX.2-pro '))).toMatch(/ 0\.0400$/);
    expect(lines.find((line) => line.startsWith('  Lykon/DreamShaper '))).toMatch(/ 0\.2500$/);

    const bad = memoryIO(folder);
    expect(await runCli(['--price', 'togetherai:black-forest-labs/FLUX.2-pro=lots', 'models'], bad)).toBe(2);
    expect(bad.stderrText()).toContain('Invalid price "lots"');
    await writeFile(path.join(folder, 'broken.json'), JSON.stringify({ price: {} }));
    const broken = memoryIO(folder);
    expect(await runCli(['models', '--config', 'broken.json'], broken)).toBe(2);
    expect(broken.stderrText()).toMatch(/config file .*broken\.json: .*Unrecognized key/);
  });

  it('a dry run prices with the overrides', async () => {
    const folder = await outDir();
    await writeFile(path.join(folder, 'jobs.jsonl'), `${JSON.stringify({ prompt: 'p', model: 'togetherai:Lykon/DreamShaper', count: 4 })}\n`);
    const io = memoryIO(folder);
    expect(await runCli(['batch', 'jobs.jsonl', '--dry-run', '--json', '--price', 'togetherai:Lykon/DreamShaper=0.01/image'], io)).toBe(0);
    expect(JSON.parse(io.stdoutText())).toMatchObject({ images: 4, estimatedCostUsd: 0.04 });
  });
});
