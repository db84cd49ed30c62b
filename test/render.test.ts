import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { readFile } from 'node:fs/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { PIXEL_FONT, PIXEL_FONT_LINE_HEIGHT } from '../src/placeholder/pixel-font.js';
import { listModels } from '../src/models/catalog.js';
import { createLocalImageModel } from '../src/providers/local.js';
import { modelStyle } from '../src/placeholder/background.js';
import { LABEL_COLORS, layoutLabel, textWidth, type LabelLayout } from '../src/placeholder/label.js';
import { renderPixels, renderPlaceholder, type RenderOptions } from '../src/placeholder/render.js';
import { encodeFont, type SourceFont } from '../scripts/encode-pixel-font.js';

(globalThis as { AI_SDK_LOG_WARNINGS?: boolean }).AI_SDK_LOG_WARNINGS = false;

const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
const DEV = 'black-forest-labs/FLUX.1-dev';
const PROMPT = 'a serene mountain landscape at sunset, with a lake in the foreground and café lights, oil painting';
type Color = readonly [number, number, number];
type Mask = { width: number; height: number; rows: string[] };

/** Decodes a PNG or JPEG to RGB. */
async function decode(bytes: Uint8Array): Promise<{ data: Buffer; width: number; height: number }> {
  const { data, info } = await sharp(bytes).removeAlpha().raw().toBuffer({ resolveWithObject: true });
  return { data, width: info.width, height: info.height };
}

/** Where a picture has exactly `color` within rows [top, bottom), cropped to what is set, as '#'/'.' rows. */
function colorMask({ data, width }: { data: Uint8Array; width: number }, color: Color, top: number, bottom: number): Mask {
  const rows: string[] = [];
  for (let y = top; y < bottom; y++) {
    let row = '';
    for (let x = 0; x < width; x++) {
      const offset = (y * width + x) * 3;
      row += data[offset] === color[0] && data[offset + 1] === color[1] && data[offset + 2] === color[2] ? '#' : '.';
    }
    rows.push(row);
  }
  return crop(rows);
}

/** `text` drawn from the font at `scale` independently of the renderer (glyphs 1 px apart), cropped. */
function textMask(text: string, scale: number): Mask {
  const glyphs = [...text].map((character) => PIXEL_FONT[character]!);
  const width = glyphs.reduce((sum, glyph) => sum + glyph[1]! + 1, 0);
  const rows = Array.from({ length: PIXEL_FONT_LINE_HEIGHT + 2 }, () => Array<string>(width).fill('.'));
  let left = 0;
  for (const [offset = 0, glyphWidth = 0, ...bits] of glyphs) {
    bits.forEach((rowBits, row) => {
      for (let column = 0; column < glyphWidth; column++) if (rowBits & (1 << column)) rows[offset + row]![left + column] = '#';
    });
    left += glyphWidth + 1;
  }
  const scaled = rows.flatMap((row) => Array<string>(scale).fill(row.map((cell) => cell.repeat(scale)).join('')));
  return crop(scaled);
}

function crop(rows: string[]): Mask {
  const filled = rows.map((row, index) => (row.includes('#') ? index : -1)).filter((index) => index >= 0);
  if (filled.length === 0) return { width: 0, height: 0, rows: [] };
  const kept = rows.slice(filled[0], filled.at(-1)! + 1);
  const left = Math.min(...kept.map((row) => row.indexOf('#')));
  const right = Math.max(...kept.map((row) => row.lastIndexOf('#')));
  const cropped = kept.map((row) => row.slice(left, right + 1));
  return { width: right - left + 1, height: cropped.length, rows: cropped };
}

/** The image rows a label line covers (capitals and descenders). */
const lineRows = (layout: LabelLayout, line: { y: number }) => [line.y * layout.scale, (line.y + PIXEL_FONT_LINE_HEIGHT + 2) * layout.scale] as const;

/** The mask of one label line as painted, read from the picture by its colour. */
function paintedLine(image: { data: Uint8Array; width: number }, layout: LabelLayout, index: number): Mask {
  const line = layout.lines[index]!;
  const [top, bottom] = lineRows(layout, line);
  // Lines sharing rows and colour (seed and size beside the mark are white, the mark yellow) stay apart by x.
  const left = line.x * layout.scale;
  const right = (line.x + textWidth(line.text)) * layout.scale;
  return colorMaskColumns(image, line.color, top, bottom, left, right);
}

function colorMaskColumns(image: { data: Uint8Array; width: number }, color: Color, top: number, bottom: number, left: number, right: number): Mask {
  const rows: string[] = [];
  for (let y = top; y < bottom; y++) {
    let row = '';
    for (let x = left; x < right; x++) {
      const offset = (y * image.width + x) * 3;
      row += image.data[offset] === color[0] && image.data[offset + 1] === color[1] && image.data[offset + 2] === color[2] ? '#' : '.';
    }
    rows.push(row);
  }
  return crop(rows);
}

/** Every line of the layout, read back from the decoded picture, equals its text drawn from the font. */
function expectLabelPainted(image: { data: Uint8Array; width: number }, layout: LabelLayout): void {
  layout.lines.forEach((line, index) => {
    expect(paintedLine(image, layout, index), line.text).toEqual(textMask(line.text, layout.scale));
  });
}

const picture = (options: Partial<Omit<RenderOptions, 'model'>> & { model?: string } = {}): RenderOptions & { model: string } => ({
  prompt: PROMPT,
  seed: 42,
  width: 1024,
  height: 1024,
  model: SCHNELL,
  ...options,
});

describe('placeholder pictures carry a label', () => {
  it('lays out the mark, seed and size, the model and the wrapped prompt (1024x1024)', () => {
    const layout = layoutLabel(picture())!;
    expect(layout.scale).toBe(6);
    expect(layout.lines.map(({ text, color }) => `${color === LABEL_COLORS.mark ? 'mark' : color === LABEL_COLORS.prompt ? 'prompt' : 'text'}: ${text}`)).toMatchInlineSnapshot(`
      [
        "mark: PLACEHOLDER",
        "text: seed 42  1024x1024",
        "text: black-forest-labs/FLUX.1-schnell",
        "prompt: a serene mountain landscape at",
        "prompt: sunset, with a lake in the",
        "prompt: foreground and cafe lights, oil",
        "prompt: painting",
      ]
    `);
  });

  it('at 256 px: scale 1, the model on one line, a long prompt cut to four lines ending in "..."', () => {
    const layout = layoutLabel(picture({ width: 256, height: 256, prompt: `${PROMPT}, `.repeat(6) }))!;
    expect(layout.scale).toBe(1);
    expect(layout.lines.map((line) => line.text)).toMatchInlineSnapshot(`
      [
        "PLACEHOLDER",
        "seed 42  256x256",
        "black-forest-labs/FLUX.1-schnell",
        "a serene mountain landscape at sunset, with a lake in",
        "the foreground and cafe lights, oil painting, a serene",
        "mountain landscape at sunset, with a lake in the",
        "foreground and cafe lights, oil painting, a serene...",
      ]
    `);
    for (const line of layout.lines) expect(line.x + textWidth(line.text)).toBeLessThanOrEqual(256 - 3);
  });

  it('wraps a model id after "/" when it is too long for one line, and writes what the font lacks as "?"', () => {
    const layout = layoutLabel(picture({ width: 128, height: 128, model: 'togetherai:black-forest-labs/FLUX.1-kontext-max', prompt: 'ein Fuchs im Schnee 🦊, Ölgemälde' }))!;
    expect(layout.lines.map((line) => line.text)).toMatchInlineSnapshot(`
      [
        "PLACEHOLDER",
        "togetherai:black-forest-",
        "labs/FLUX.1-kontext-max",
        "ein Fuchs im Schnee ?,",
        "Olgemalde",
        "seed 42  128x128",
      ]
    `);
  });

  it('pictures too small for the mark have no label, and still render', () => {
    expect(layoutLabel(picture({ width: 16, height: 16 }))).toBeUndefined();
    expect(renderPixels(picture({ width: 8, height: 8 }))).toHaveLength(8 * 8 * 3);
  });

  for (const size of [256, 1024]) {
    it(`a decoded ${size}x${size} PNG shows every label line, pixel for pixel`, async () => {
      const options = picture({ width: size, height: size });
      const image = await decode(renderPlaceholder({ ...options, format: 'png' }));
      const layout = layoutLabel(options)!;
      expectLabelPainted(image, layout);
      // The mark is where a person looks first: yellow, in the top strip.
      const [top, bottom] = lineRows(layout, layout.lines[0]!);
      expect(top).toBeLessThan(size / 10);
      expect(colorMask(image, LABEL_COLORS.mark, top, bottom)).toEqual(textMask('PLACEHOLDER', layout.scale));
    });
  }

  it('two models: different label text and different backgrounds, same prompt and seed', async () => {
    const [schnell, dev] = await Promise.all([SCHNELL, DEV].map((model) => decode(renderPlaceholder({ ...picture({ model, width: 512, height: 512 }), format: 'png' }))));
    const layout = layoutLabel(picture({ width: 512, height: 512 }))!;
    const modelLine = layout.lines.findIndex((line) => line.text === SCHNELL);
    expect(paintedLine(schnell!, layout, modelLine)).toEqual(textMask(SCHNELL, layout.scale));
    expect(paintedLine(dev!, layout, modelLine)).toEqual(textMask(DEV, layout.scale));
    expect(meanColorDistance(schnell!, dev!, 100, 300)).toBeGreaterThan(40);
  });

  it('each current Together model has its own look (hue and composition), the FLUX models and local:placeholder their own hue', () => {
    // After a catalog change this may fail: `npx tsx scripts/find-model-salt.ts` finds a new MODEL_SALT.
    const current = listModels({ provider: 'togetherai' }).filter((model) => model.deprecated === undefined).map((model) => model.modelId);
    const looks = [...current, 'local:placeholder'].map((model) => JSON.stringify(modelStyle(model)));
    expect(new Set(looks).size).toBe(current.length + 1);
    const flux = [...current.filter((model) => model.startsWith('black-forest-labs/')), 'local:placeholder'];
    expect(new Set(flux.map((model) => modelStyle(model).hue)).size).toBe(flux.length);
  });

  it('two prompts: different prompt lines in the label', async () => {
    const options = picture({ width: 512, height: 512, prompt: 'a red fox in snow' });
    const image = await decode(renderPlaceholder({ ...options, format: 'png' }));
    const layout = layoutLabel(options)!;
    expect(layout.lines.filter((line) => line.color === LABEL_COLORS.prompt).map((line) => line.text)).toEqual(['a red fox in snow']);
    expectLabelPainted(image, layout);
    const other = layoutLabel(picture({ width: 512, height: 512 }))!;
    const promptLine = other.lines.findIndex((line) => line.color === LABEL_COLORS.prompt);
    expect(paintedLine(image, other, promptLine)).not.toEqual(textMask(other.lines[promptLine]!.text, other.scale));
  });

  it('is deterministic: same inputs, same pixels and bytes; another seed, other pixels', () => {
    const options = { ...picture({ width: 320, height: 240 }), format: 'png' } as const;
    expect(Buffer.from(renderPlaceholder(options)).equals(Buffer.from(renderPlaceholder(options)))).toBe(true);
    expect(Buffer.from(renderPixels(options)).equals(Buffer.from(renderPixels({ ...options, seed: 43 })))).toBe(false);
  });
});

describe('the label on what the providers return', { timeout: 30_000 }, () => {
  let emulator: Emulator;
  beforeAll(async () => {
    emulator = await startEmulator({ apiKey: 'test-key', quiet: true, seed: 1 });
  });
  afterAll(() => emulator.close());

  it('local:placeholder labels its pictures "local:placeholder" with the call’s seed and size', async () => {
    const { image } = await generateImage({ model: createLocalImageModel(), prompt: 'a red fox in snow', size: '512x384', seed: 9 });
    const decoded = await decode(image.uint8Array);
    const layout = layoutLabel({ prompt: 'a red fox in snow', seed: 9, width: 512, height: 384, model: 'local:placeholder' })!;
    expect(layout.lines.map((line) => line.text)).toContain('seed 9  512x384');
    expectLabelPainted(decoded, layout);
  });

  it('the emulator labels each picture with the Together model it was asked for (FLUX.1-dev is retired there)', async () => {
    const together = createTogetherAI({ apiKey: 'test-key', baseURL: emulator.url });
    for (const model of [SCHNELL, 'black-forest-labs/FLUX.1.1-pro']) {
      const { image } = await generateImage({
        model: together.image(model),
        prompt: 'a red fox in snow',
        size: '512x512',
        seed: 5,
        providerOptions: { togetherai: { output_format: 'png' } },
      });
      expect(image.mediaType).toBe('image/png');
      const decoded = await decode(image.uint8Array);
      const layout = layoutLabel({ prompt: 'a red fox in snow', seed: 5, width: 512, height: 512, model })!;
      expectLabelPainted(decoded, layout);
      expect(paintedLine(decoded, layout, layout.lines.findIndex((line) => line.text === model))).toEqual(textMask(model, layout.scale));
      expect(colorMask(decoded, LABEL_COLORS.mark, 0, layout.stripHeight * layout.scale)).toEqual(textMask('PLACEHOLDER', layout.scale));
    }
  });
});

describe('the embedded pixel font', () => {
  it('is js-pixel-fonts’ "Seven plus", unchanged (npx tsx scripts/build-pixel-font.ts rewrites it)', async () => {
    const source = JSON.parse(await readFile(new URL('../node_modules/js-pixel-fonts/data/seven-plus.json', import.meta.url), 'utf8')) as SourceFont;
    expect(await readFile(new URL('../src/placeholder/pixel-font.ts', import.meta.url), 'utf8')).toBe(encodeFont(source));
  });
});

function meanColorDistance(first: { data: Uint8Array; width: number }, second: { data: Uint8Array }, top: number, bottom: number): number {
  let total = 0;
  const start = top * first.width * 3;
  const end = bottom * first.width * 3;
  for (let offset = start; offset < end; offset++) total += Math.abs(first.data[offset]! - second.data[offset]!);
  return total / ((end - start) / 3);
}
