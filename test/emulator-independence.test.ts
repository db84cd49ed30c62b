import { readFileSync } from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, test } from 'vitest';
import { parse } from 'yaml';
import { DOCUMENTED_MODELS, startEmulator, type Emulator } from '../src/emulator/index.js';
import { listModels, type ModelCapabilities } from '../src/index.js';
import { acceptedParameters } from './helpers/catalog-parameters.js';

/**
 * The emulator and the catalog are two accounts of what Together takes, written apart: the
 * emulator from Together's schema and docs, the catalog for the client. These tests show they stay
 * apart, so that a mistake in the catalog cannot pass the tests that hold one against the other.
 */

const KEY = 'test-key';
const SOURCE = path.resolve(import.meta.dirname, '../src');

/** Every file of src/ that `entry` reaches through relative imports, static or dynamic, as paths from src/. */
function reachableFiles(entry: string): Set<string> {
  const seen = new Set<string>();
  const visit = (file: string) => {
    const relative = path.relative(SOURCE, file);
    if (seen.has(relative)) return;
    seen.add(relative);
    const text = readFileSync(file, 'utf8');
    for (const [, specifier] of text.matchAll(/(?:from\s+|import\s*\(\s*)'(\.{1,2}\/[^']+)'/g)) {
      visit(path.resolve(path.dirname(file), specifier!.replace(/\.js$/, '.ts')));
    }
  };
  visit(path.join(SOURCE, entry));
  return seen;
}

describe('the emulator does not read the client catalog', () => {
  test('nothing under src/emulator reaches the catalog, the providers or the request pipeline', () => {
    const reached = [...reachableFiles('emulator/index.ts')].sort();
    // Not vacuous: the walk finds the emulator's own account of Together's models and its validation.
    expect(reached).toEqual(expect.arrayContaining(['emulator/documented-models.ts', 'emulator/validate.ts', 'emulator/generation.ts']));
    const client = reached.filter((file) =>
      /^(catalog|plan|request|generate|middleware|resolve-model|sizing|live-models)\.ts$|^(providers|pipeline|batch|compare)\//.test(file),
    );
    expect(client).toEqual([]);
  });
});

let emulator: Emulator;
let inputImage: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
  const png = await sharp({ create: { width: 8, height: 8, channels: 3, background: '#36c' } }).png().toBuffer();
  inputImage = `data:image/png;base64,${png.toString('base64')}`;
});
afterAll(() => emulator.close());

async function post(body: unknown): Promise<{ status: number; json: { error?: { param: string | null; message: string } } }> {
  const response = await fetch(`${emulator.url}/images/generations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: (await response.json()) as { error?: { param: string | null; message: string } } };
}

describe("the emulator holds Together's official request schema", () => {
  const schema = parse(readFileSync(new URL('./fixtures/together-images-openapi.yaml', import.meta.url), 'utf8')) as {
    paths: Record<string, { post: { requestBody: { content: Record<string, { schema: RequestSchema }> } } }>;
  };
  type PropertySchema = { type?: string; enum?: string[] };
  type RequestSchema = { required: string[]; properties: Record<string, PropertySchema> };
  const request = schema.paths['/images/generations']!.post.requestBody.content['application/json']!.schema;

  /** A value the property's schema does not allow. */
  const wrongValue = ({ type, enum: allowed }: PropertySchema): unknown =>
    allowed ? 'not-one-of-them' : ({ string: 7, integer: 1.5, number: 'many', boolean: 'yes', array: 'one' } as Record<string, unknown>)[type ?? 'string'];

  /** A current model that Together's docs let take the property, so the refusal is about its type. */
  const modelTaking = (property: string) =>
    DOCUMENTED_MODELS.find((model) => !model.retired && model.sizes === undefined && !(model.rejects as readonly string[]).includes(property))!.id;

  test('the schema lists the properties the tests below walk through', () => {
    expect(request.required.sort()).toEqual(['model', 'prompt']);
    expect(Object.keys(request.properties).sort()).toEqual([
      'disable_safety_checker', 'guidance_scale', 'height', 'image_loras', 'image_url', 'model', 'n', 'negative_prompt',
      'output_format', 'prompt', 'reference_images', 'response_format', 'seed', 'steps', 'width',
    ]);
  });

  test.each(Object.keys(request.properties))('%s: a value of the wrong type is a 400 naming it', async (property) => {
    const body = { model: modelTaking(property), prompt: 'a cat', width: 256, height: 256, [property]: wrongValue(request.properties[property]!) };
    const { status, json } = await post(body);
    expect([status, json.error?.param]).toEqual([400, property]);
  });

  test.each(request.required)('%s: required, a 400 naming it when missing', async (property) => {
    const body: Record<string, unknown> = { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'a cat', width: 256, height: 256 };
    delete body[property];
    const { status, json } = await post(body);
    expect([status, json.error?.param]).toEqual([400, property]);
  });
});

describe('a catalog mistake cannot pass both', () => {
  // Each row: a catalog entry made wrong in one way the docs contradict, and the parameter that
  // gives it away. The request is built from the catalog's account exactly as emulator.test.ts
  // builds it for every model, so such a mistake in the catalog fails that test.
  const MISTAKES: [string, string, Partial<ModelCapabilities>, string][] = [
    ['LoRAs on FLUX1.1 [pro]', 'black-forest-labs/FLUX.1.1-pro', { maxLoras: 2 }, 'image_loras'],
    ['steps on FLUX.2 [pro]', 'black-forest-labs/FLUX.2-pro', { steps: { min: 1, max: 50, default: 28 } }, 'steps'],
    ['guidance on FLUX.2 [pro]', 'black-forest-labs/FLUX.2-pro', { guidance: { min: 1, max: 20, default: 3.5 } }, 'guidance_scale'],
    ['a negative prompt on Kontext [pro]', 'black-forest-labs/FLUX.1-kontext-pro', { negativePrompt: true }, 'negative_prompt'],
    ['an input image on Imagen 4.0 Fast', 'google/imagen-4.0-fast', { imageInput: { kind: 'image_url', max: 1 } }, 'image_url'],
    ['reference images on FLUX.1 [schnell]', 'black-forest-labs/FLUX.1-schnell', { imageInput: { kind: 'reference_images', max: 4 } }, 'reference_images'],
    ['prompt upsampling on FLUX.1 [schnell]', 'black-forest-labs/FLUX.1-schnell', { promptUpsampling: true }, 'prompt_upsampling'],
    ['a 128-pixel minimum on FLUX.1 [schnell]', 'black-forest-labs/FLUX.1-schnell', { dimensions: { min: 128, max: 1920, multipleOf: 8, default: { width: 1024, height: 1024 } } }, 'width'],
    ['a size Gemini 3 Pro Image does not list', 'google/gemini-3-pro-image', { allowedSizes: ['1000x1000'] }, 'width'],
  ];

  const catalogEntry = (modelId: string) => listModels({ provider: 'togetherai' }).find((model) => model.modelId === modelId)!;

  test.each(MISTAKES)('%s: the catalog as it is passes, the mistaken entry is refused (400 %s)', async (_name, modelId, mistake, param) => {
    const entry = catalogEntry(modelId);
    expect(entry, modelId).toBeDefined();
    const body = (model: ModelCapabilities) => ({ model: modelId, prompt: 'a cat', response_format: 'base64', ...acceptedParameters(model, inputImage) });

    expect((await post(body(entry))).status).toBe(200);
    const { status, json } = await post(body({ ...entry, ...mistake }));
    expect([status, json.error?.param]).toEqual([400, param]);
  });
});
