import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_SHEET_GAP, CONTACT_SHEET_HEADER_HEIGHT, CONTACT_SHEET_LABEL_WIDTH, makeContactSheet } from '../src/compare/contact-sheet.js';
import type { ExperimentRow } from '../src/compare/types.js';
import { generateImages } from '../src/index.js';
import { layoutLabel } from '../src/placeholder/label.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

/** Compare cells that differ only in a setting look different offline, and the contact sheet marks settings not sent. */

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-settings-shown-'));
});
afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

describe('the placeholder prints the settings that tell compare cells apart', () => {
  it('steps 4 and steps 28 (same prompt, seed, size, model) give different pictures, each labelled', async () => {
    const draw = async (steps: number) =>
      (await generateImages({ prompt: 'a red fox', model: 'local:placeholder', size: '512x512', seed: 9, steps, guidance: 5, negativePrompt: 'blur' })).images[0]!;
    const [four, twentyEight] = [await draw(4), await draw(28)];
    expect(four.base64).not.toBe(twentyEight.base64);
    const label = layoutLabel({ prompt: 'a red fox', seed: 9, width: 512, height: 512, model: 'local:placeholder', settings: 'steps 28, guidance 5, not: blur' });
    expect(label?.lines.map((line) => line.text)).toContain('steps 28, guidance 5, not: blur');
  });
});

describe('settings on small pictures', () => {
  it('take only the room there is: no size from 8 to 200 px fails to draw', () => {
    const settings = 'steps 28, guidance 3.5, not: blurry, low quality, watermark, 2 input images, safety off, jpeg';
    for (let width = 8; width <= 200; width += 8) {
      for (const height of [8, 16, 24, 48, 64, 96, 128, 200]) {
        expect(() => renderPlaceholder({ prompt: 'a red fox', seed: 1, width, height, model: 'local:placeholder', settings, format: 'png' })).not.toThrow();
      }
    }
  });
});

describe('the contact sheet marks cells whose settings were not sent', () => {
  it('an amber band on the cell whose steps were dropped, none on the one that took them', async () => {
    const row = (steps: number, warned: boolean, file: string): ExperimentRow => ({
      promptIndex: 0,
      prompt: 'a red fox',
      model: 'togetherai:black-forest-labs/FLUX.1.1-pro',
      provider: 'togetherai',
      modelId: 'black-forest-labs/FLUX.1.1-pro',
      seed: 1,
      settings: { steps },
      column: `togetherai:black-forest-labs/FLUX.1.1-pro steps=${steps}`,
      status: 'done',
      file,
      width: 64,
      height: 64,
      mediaType: 'image/png',
      index: 0,
      latencyMs: 10,
      cached: false,
      requests: 1,
      warnings: warned ? [{ type: 'other', source: 'imagegen', field: 'steps', message: 'FLUX1.1 [pro] takes no steps; it was not sent' }] : [],
      estimatedCostUsd: 0,
      actualCostUsd: undefined,
      error: undefined,
    });
    // A picture in one flat colour fills each cell, so the band is the only amber there.
    const blue = await sharp({ create: { width: 64, height: 64, channels: 3, background: '#2040c0' } }).png().toBuffer();
    await writeFile(path.join(folder, 'a.png'), blue);
    await writeFile(path.join(folder, 'b.png'), blue);
    const sheet = await makeContactSheet({ rows: [row(4, false, 'a.png'), row(28, true, 'b.png')], folder, outputPath: path.join(folder, 'sheet.png'), cellSize: 128 });
    const { data, info } = await sharp(sheet.path).raw().toBuffer({ resolveWithObject: true });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    const bottomOf = (column: number) => ({ x: CONTACT_SHEET_LABEL_WIDTH + CONTACT_SHEET_GAP + column * (128 + CONTACT_SHEET_GAP) + 2, y: CONTACT_SHEET_HEADER_HEIGHT + CONTACT_SHEET_GAP + 128 - 2 });
    const amber = (rgb: number[]) => rgb[0]! > 200 && rgb[1]! > 150 && rgb[2]! < 80;
    expect(amber(pixel(bottomOf(0).x, bottomOf(0).y))).toBe(false);
    expect(amber(pixel(bottomOf(1).x, bottomOf(1).y))).toBe(true);
  });
});
