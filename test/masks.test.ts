import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { crc32 } from 'node:zlib';
import { decode as decodePng, encode as encodePng } from 'fast-png';
import jpeg from 'jpeg-js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { prepareGeneration } from '../src/generate.js';
import { InvalidRequestError, listModels, type GenerateRequest } from '../src/index.js';
import { readImageFile } from '../src/node/index.js';
import { encodeMask, maskAs, readMask } from '../src/providers/mask.js';
import type { ReferenceImage } from '../src/shared/plan.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

const bytes = (data: Uint8Array, mediaType = 'image/png'): ReferenceImage & { kind: 'bytes' } => ({ kind: 'bytes', source: '<bytes>', data, mediaType });
const image = renderPlaceholder({ prompt: 'mask test', seed: 1, width: 64, height: 32, format: 'png' });

describe('maskAs: the form each provider reads', () => {
  // Four pixels: keep, repaint, half, keep.
  const grey = encodePng({ width: 4, height: 1, data: Uint8Array.from([0, 255, 128, 0]), channels: 1, depth: 8 });
  const alpha = encodePng({ width: 4, height: 1, data: Uint8Array.from([9, 9, 9, 255, 9, 9, 9, 0, 9, 9, 9, 127, 9, 9, 9, 255]), channels: 4, depth: 8 });

  it('black and white to alpha: transparent where white, soft edges kept', () => {
    const converted = maskAs(bytes(grey), 'alpha') as Uint8Array;
    const decoded = decodePng(converted);
    expect([decoded.channels, Array.from(decoded.data)]).toEqual([4, [0, 0, 0, 255, 0, 0, 0, 0, 0, 0, 0, 127, 0, 0, 0, 255]]);
  });

  it('alpha to black and white: white where transparent, whatever the colour', () => {
    const decoded = decodePng(maskAs(bytes(alpha), 'black-and-white') as Uint8Array);
    expect([decoded.channels, Array.from(decoded.data)]).toEqual([1, [0, 255, 128, 0]]);
  });

  it('a mask already in the form goes out as the same bytes', () => {
    expect(maskAs(bytes(grey), 'black-and-white')).toBe(grey);
    expect(maskAs(bytes(alpha), 'alpha')).toBe(alpha);
  });

  it('an opaque mask goes to a black-and-white provider undecoded; a key colour (tRNS) counts as transparency', () => {
    // Not decodable past its header: passed on only because the header says it cannot be transparent.
    const headerOnly = grey.slice(0, 45);
    expect(maskAs(bytes(headerOnly), 'black-and-white')).toBe(headerOnly);
    // The same grey mask with black as its transparent key colour: black is now where to repaint.
    const keyed = withChunk(grey, 'tRNS', Uint8Array.from([0, 0]));
    expect(Array.from(readMask(bytes(keyed)).strength)).toEqual([255, 0, 0, 255]);
    expect(Array.from(decodePng(maskAs(bytes(keyed), 'black-and-white') as Uint8Array).data)).toEqual([255, 0, 0, 255]);
  });

  it('converted masks are the same pixels through Node\'s zlib and, without it (edge), fast-png', () => {
    const data = Uint8Array.from([0, 255, 128, 0, 7, 9, 11, 13]);
    const viaNode = encodeMask({ width: 4, height: 2, data, channels: 1 });
    const scope = process as { getBuiltinModule?: unknown };
    const original = scope.getBuiltinModule;
    scope.getBuiltinModule = undefined;
    let viaFastPng: Uint8Array;
    try {
      viaFastPng = encodeMask({ width: 4, height: 2, data, channels: 1 });
    } finally {
      scope.getBuiltinModule = original;
    }
    expect(Buffer.from(viaNode).equals(Buffer.from(viaFastPng))).toBe(false);
    for (const png of [viaNode, viaFastPng]) expect([decodePng(png).channels, Array.from(decodePng(png).data)]).toEqual([1, Array.from(data)]);
  });

  it('a URL is passed on as given', () => {
    expect(maskAs({ kind: 'url', source: 'https://a.test/m.png', url: 'https://a.test/m.png' }, 'alpha')).toBe('https://a.test/m.png');
  });

  it('reads 1-bit grey, 16-bit grey, palette and RGB PNGs and JPEGs by brightness', () => {
    const oneBit = encodePng({ width: 4, height: 2, data: Uint8Array.from([0b1010_0000, 0b0101_0000]), channels: 1, depth: 1 });
    expect(Array.from(readMask(bytes(oneBit)).strength)).toEqual([255, 0, 255, 0, 0, 255, 0, 255]);
    const sixteen = encodePng({ width: 2, height: 1, data: Uint16Array.from([0, 65535]), channels: 1, depth: 16 });
    expect(Array.from(readMask(bytes(sixteen)).strength)).toEqual([0, 255]);
    const palette = encodePng({ width: 3, height: 1, data: Uint8Array.from([1, 0, 1]), channels: 1, depth: 8, palette: [[0, 0, 0], [255, 255, 255]] });
    expect(Array.from(readMask(bytes(palette)).strength)).toEqual([255, 0, 255]);
    const rgb = encodePng({ width: 2, height: 1, data: Uint8Array.from([255, 255, 255, 255, 0, 0]), channels: 3, depth: 8 });
    expect(Array.from(readMask(bytes(rgb)).strength)).toEqual([255, 76]);
    const rgba = new Uint8Array(8 * 8 * 4).map((_, index) => (index % 4 === 3 ? 255 : index < 8 * 4 * 4 ? 0 : 255));
    const { strength, transparent } = readMask(bytes(jpeg.encode({ width: 8, height: 8, data: rgba }, 100).data, 'image/jpeg'));
    expect(transparent).toBe(false);
    expect([strength[0]! < 16, strength[63]! > 240]).toEqual([true, true]);
  });

  it('a mask whose header says it is over 64 megapixels is refused before it is decoded', () => {
    // A 1x1 PNG with its header saying 10000x10000: decoding would fail, so only the size check can speak.
    const huge = grey.slice();
    new DataView(huge.buffer).setUint32(16, 10_000);
    new DataView(huge.buffer).setUint32(20, 10_000);
    expect(() => maskAs(bytes(huge), 'alpha')).toThrow(/mask: is 10000x10000; masks of up to 64 megapixels are converted/);
  });

  it('bytes that do not decode are an InvalidRequestError naming the mask', () => {
    const broken = grey.slice(0, 40);
    const error = (() => {
      try {
        return maskAs(bytes(broken), 'alpha');
      } catch (caught) {
        return caught;
      }
    })();
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as InvalidRequestError).issues[0]).toMatchObject({ field: 'mask', value: '<bytes>', message: expect.stringMatching(/^cannot be read as a PNG/) });
  });
});

/** A PNG with one more chunk before its image data. */
function withChunk(png: Uint8Array, type: string, data: Uint8Array): Uint8Array {
  const chunk = new Uint8Array(12 + data.length);
  const view = new DataView(chunk.buffer);
  view.setUint32(0, data.length);
  chunk.set(Buffer.from(type, 'latin1'), 4);
  chunk.set(data, 8);
  view.setUint32(8 + data.length, crc32(chunk.subarray(4, 8 + data.length)) >>> 0);
  const idat = Buffer.from(png).indexOf('IDAT') - 4;
  return Uint8Array.from([...png.subarray(0, idat), ...chunk, ...png.subarray(idat)]);
}

describe('mask checks before anything is sent', () => {
  let directory: string;
  let maskFile: string;
  const mask = encodePng({ width: 64, height: 32, data: new Uint8Array(64 * 32), channels: 1, depth: 8 });
  beforeAll(async () => {
    directory = await mkdtemp(path.join(tmpdir(), 'imagegen-masks-'));
    maskFile = path.join(directory, 'mask.png');
    await writeFile(maskFile, mask);
  });
  afterAll(() => rm(directory, { recursive: true, force: true }));

  const issuesOf = async (request: GenerateRequest) => {
    const error = await prepareGeneration(request, { checkKey: false, readFile: readImageFile }).catch((caught: unknown) => caught);
    if (!InvalidRequestError.isInstance(error)) throw new Error(`expected an InvalidRequestError, got ${String(error)}`);
    return error.issues;
  };

  it("a model that takes none names those that do: Together's take none", async () => {
    const [issue, ...rest] = await issuesOf({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', referenceImages: [image], mask });
    expect(rest).toEqual([]);
    expect(issue).toMatchObject({ field: 'mask', value: '<bytes>' });
    const takers = listModels().filter((model) => model.acceptsMask === true);
    expect(new Set(takers.map((model) => model.provider))).toEqual(new Set(['openai', 'black-forest-labs', 'fal', 'replicate', 'amazon-bedrock']));
    expect(issue!.message).toMatch(/^FLUX\.1 Kontext \[pro\] takes no mask; togetherai's models take none; models that take one: /);
    for (const model of takers) expect(issue!.message).toContain(model.modelId);
  });

  it('the provider that has some lists its own first', async () => {
    const [issue] = await issuesOf({ prompt: 'p', model: 'fal:fal-ai/flux/dev/image-to-image', referenceImages: [image], mask });
    expect(issue!.message).toMatch(/^FLUX.1 \[dev\] image to image takes no mask; models that take one: fal: fal-ai\/flux-lora\/inpainting, fal-ai\/flux-general\/inpainting, fal-ai\/bria\/eraser; /);
  });

  it('a mask needs the image it repaints', async () => {
    expect(await issuesOf({ prompt: 'p', model: 'fal:fal-ai/flux-lora/inpainting', mask })).toEqual([
      { field: 'mask', value: '<bytes>', message: 'needs the image it repaints: give that image in referenceImages (the mask applies to the first)' },
    ]);
  });

  it('a mask of another size than the image', async () => {
    const small = encodePng({ width: 32, height: 32, data: new Uint8Array(32 * 32), channels: 1, depth: 8 });
    expect(await issuesOf({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: small })).toEqual([
      { field: 'mask', value: '<bytes>', message: 'is 32x32; it must be the size of the image it repaints, the first reference image (64x32)' },
    ]);
  });

  it('a mask that is not a PNG or JPEG, or not an image, or a missing file', async () => {
    const webp = Uint8Array.from(Buffer.from('UklGRiQAAABXRUJQVlA4IBgAAAAwAQCdASoBAAEAAwA0JaQAA3AA/vuUAAA=', 'base64'));
    expect(await issuesOf({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: webp })).toEqual([
      { field: 'mask', value: '<bytes>', message: 'is image/webp; a mask must be a PNG or JPEG' },
    ]);
    expect(await issuesOf({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: new Uint8Array([1, 2]) })).toEqual([
      { field: 'mask', value: '<bytes>', message: 'is not an image (PNG, JPEG, WebP or GIF expected)' },
    ]);
    const [missing] = await issuesOf({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: path.join(directory, 'none.png') });
    expect(missing).toMatchObject({ field: 'mask', message: 'file does not exist or cannot be read' });
  });

  it('a mask file is read, kept in the plan and named in the resolved request', async () => {
    const prepared = await prepareGeneration({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [image], mask: maskFile }, { checkKey: false, readFile: readImageFile });
    expect(prepared.plan.mask).toMatchObject({ kind: 'bytes', source: maskFile, mediaType: 'image/png' });
    expect(prepared.plan.resolved.mask).toBe(maskFile);
    const prompt = prepared.calls[0]!.args.prompt as { mask: Uint8Array };
    expect(decodePng(prompt.mask).channels).toBe(4);
  });

  it('a mask that is not a string or bytes is refused by the schema', async () => {
    expect(await issuesOf({ prompt: 'p', mask: 42 } as unknown as GenerateRequest)).toEqual([
      expect.objectContaining({ field: 'mask' }),
    ]);
  });
});
