import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { InvalidRequestError, type GenerateRequest } from '../src/index.js';
import { generateImages } from '../src/node/index.js';

let emulator: Emulator;
beforeAll(async () => {
  emulator = await startEmulator({ quiet: true });
  vi.stubEnv('TOGETHER_API_KEY', 'test-key');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
});

const schnell = 'togetherai:black-forest-labs/FLUX.1-schnell';
const kontext = 'togetherai:black-forest-labs/FLUX.1-kontext-pro';

// [what is wrong, request, the field the error must name, words the message must hold]
const BAD_INPUTS: [string, unknown, string, RegExp][] = [
  ['no prompt', { model: schnell }, 'prompt', /is required/],
  ['empty prompt', { prompt: '   ' }, 'prompt', /non-empty/],
  ['prompt not a string', { prompt: 42 }, 'prompt', /must be string/],
  ['model without provider', { prompt: 'p', model: 'FLUX.1-schnell' }, 'model', /provider:modelId/],
  ['unknown provider', { prompt: 'p', model: 'nope:model' }, 'model', /unknown provider "nope"/],
  ['size not WxH', { prompt: 'p', size: 'big' }, 'size', /"WxH".*square, landscape/],
  ['size not a multiple of 8', { prompt: 'p', size: '1000x1001' }, 'size', /height 1001 must be a multiple of 8/],
  ['size too large', { prompt: 'p', size: '4096x4096' }, 'size', /from 256 to 1920/],
  ['size too small', { prompt: 'p', size: '64x64' }, 'size', /from 256 to 1920/],
  ['size zero', { prompt: 'p', size: '0x1024' }, 'size', /width 0 must be a multiple of 8 from 256/],
  ['aspect ratio malformed', { prompt: 'p', aspectRatio: '16/9' }, 'aspectRatio', /"W:H"/],
  ['aspect ratio zero', { prompt: 'p', aspectRatio: '0:1' }, 'aspectRatio', /positive whole numbers/],
  ['size and aspect ratio together', { prompt: 'p', size: 'square', aspectRatio: '1:1' }, 'aspectRatio', /either size or aspectRatio/],
  ['count zero', { prompt: 'p', count: 0 }, 'count', /at least 1/],
  ['count fractional', { prompt: 'p', count: 1.5 }, 'count', /whole number/],
  ['count huge', { prompt: 'p', count: 10_000 }, 'count', /at most 100/],
  ['count as text', { prompt: 'p', count: 'four' }, 'count', /must be number/],
  ['steps beyond the model range', { prompt: 'p', steps: 13 }, 'steps', /from 1 to 12 for FLUX.1 \[schnell\]/],
  ['steps negative', { prompt: 'p', steps: -1 }, 'steps', /positive/],
  ['seed negative', { prompt: 'p', seed: -5 }, 'seed', /0 or more/],
  ['seed fractional', { prompt: 'p', seed: 1.25 }, 'seed', /whole number/],
  ['guidance out of range', { prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', guidance: 50 }, 'guidance', /from 1 to 20/],
  ['guidance not finite', { prompt: 'p', guidance: Number.POSITIVE_INFINITY }, 'guidance', /finite|number/],
  ['output format', { prompt: 'p', outputFormat: 'gif' }, 'outputFormat', /^must be png or jpeg$/],
  ['response format', { prompt: 'p', responseFormat: 'png' }, 'responseFormat', /^must be base64 or url$/],
  ['safety checker not boolean', { prompt: 'p', safetyChecker: 'no' }, 'safetyChecker', /must be boolean/],
  ['unknown field', { prompt: 'p', widht: 512 }, 'widht', /unknown field; allowed: prompt, model/],
  ['reference image on a model that takes none', { prompt: 'p', referenceImages: ['https://example.test/a.png'] }, 'referenceImages', /takes no input images/],
  ['reference file missing', { prompt: 'p', model: kontext, referenceImages: ['/no/such/file.png'] }, 'referenceImages', /does not exist/],
  ['reference file not an image', { prompt: 'p', model: kontext, referenceImages: [new URL(import.meta.url).pathname] }, 'referenceImages', /is not an image/],
  ['reference bytes not an image', { prompt: 'p', model: kontext, referenceImages: [new Uint8Array([1, 2, 3])] }, 'referenceImages', /is not an image/],
  ['too many reference images', { prompt: 'p', model: kontext, referenceImages: ['https://a.test/1.png', 'https://a.test/2.png'] }, 'referenceImages', /at most 1 input image/],
  ['bad data URL', { prompt: 'p', model: kontext, referenceImages: ['data:image/png,abc'] }, 'referenceImages', /base64 data URL/],
  ['mask on a model that takes none', { prompt: 'p', mask: 'https://example.test/m.png' }, 'mask', /takes no mask; togetherai's models take none; models that take one: /],
  ['mask not a path, URL or bytes', { prompt: 'p', mask: 5 }, 'mask', /^must be a file path, an http\(s\) URL, a data URL, a Uint8Array or a Buffer$/],
  ['LoRAs on a model without them', { prompt: 'p', loras: [{ path: 'https://a.test/l', scale: 1 }] }, 'loras', /takes no LoRAs/],
  ['providerOptions not an object', { prompt: 'p', providerOptions: 'steps=4' }, 'providerOptions', /must be (object|record)/],
  ['negative prompt not a string', { prompt: 'p', negativePrompt: 5 }, 'negativePrompt', /must be string/],
  ['prompt upsampling not boolean', { prompt: 'p', promptUpsampling: 'yes' }, 'promptUpsampling', /must be boolean/],
  ['strict not boolean', { prompt: 'p', strict: 'yes' }, 'strict', /must be boolean/],
];

/** The fields a request takes, as the library itself lists them in its unknown-field error. */
async function requestFields(): Promise<string[]> {
  const error = (await generateImages({ prompt: 'p', widht: 512 } as GenerateRequest).catch((caught: unknown) => caught)) as InvalidRequestError;
  const allowed = /allowed: ([\w, ]+?) \(got/.exec(error.message)?.[1];
  expect(allowed, error.message).toBeDefined();
  return allowed!.split(', ');
}

describe('validation: bad input is rejected before anything is sent', () => {
  it('every field a request takes has a bad value below (the list comes from the library, not this table)', async () => {
    const fields = await requestFields();
    expect(fields).toContain('prompt');
    // abortSignal is no request field of its own choosing: issue 11 moves it to the options.
    const untested = fields.filter((field) => field !== 'abortSignal' && !BAD_INPUTS.some(([, , tested]) => tested === field));
    expect(untested).toEqual([]);
  });

  it.each(BAD_INPUTS)('%s', async (_name, request, field, message) => {
    const error = await generateImages(request as GenerateRequest).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error), String(error)).toBe(true);
    const issue = (error as InvalidRequestError).issues.find((candidate) => candidate.field.split('.')[0] === field);
    expect(issue, (error as Error).message).toBeDefined();
    expect(`${issue!.message}`).toMatch(message);
    expect((error as Error).message).toContain(`${issue!.field}: `);
    expect(emulator.stats().requests).toBe(0);
  });

  it('lists every problem in one error', async () => {
    const error = (await generateImages({ prompt: '', size: '1000x3', steps: 99, count: 0 } as GenerateRequest).catch(
      (caught: unknown) => caught,
    )) as InvalidRequestError;
    expect(error.issues.map((issue) => issue.field).sort()).toEqual(['count', 'prompt', 'size', 'steps']);
    expect(emulator.stats().requests).toBe(0);
  });
});

describe('hostile nesting', () => {
  it('a 5,000-deep providerOptions is an InvalidRequestError naming the field, not a stack overflow after sending', async () => {
    const root: Record<string, unknown> = {};
    let deep = root;
    for (let level = 0; level < 5000; level++) deep = (deep.x = {}) as Record<string, unknown>;
    vi.stubEnv('TOGETHER_API_KEY', 'test-key');
    // Port 9 (discard): were anything sent, the error would be a network failure, not a request error.
    vi.stubEnv('TOGETHER_BASE_URL', 'http://127.0.0.1:9');
    const error = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256', providerOptions: { togetherai: root } }).catch((caught: unknown) => caught);
    vi.unstubAllEnvs();
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('providerOptions: must be nested at most 32 levels deep');
  });
});
