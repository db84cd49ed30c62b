import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { writeGallery } from '../src/compare/gallery.js';
import type { ExperimentRow } from '../src/compare/types.js';
import { renderPlaceholder } from '../src/placeholder/render.js';
import { ensureChromium } from './helpers/chromium.js';

// Installed here when missing (apt-get, as root), so `npm test` needs nothing installed by hand.
const chromiumExecutable = await ensureChromium();
// Only under test-artifacts: a test must not rewrite committed files (docs/gallery.png is made by hand).
const SCREENSHOT_PATHS = [path.resolve('test-artifacts/gallery.png')];

const PROMPTS = ['a lighthouse at dusk on a rocky coast, oil painting, warm light', 'a bowl of ramen from above, soft studio light, 50mm photo'];
const MODELS = [
  { model: 'togetherai:black-forest-labs/FLUX.1-schnell', settings: { steps: 4 }, width: 320, height: 320, warnings: ['steps clamped to 4, the most FLUX.1-schnell takes'] },
  { model: 'togetherai:black-forest-labs/FLUX.1-dev', settings: { steps: 28 }, width: 384, height: 256, warnings: [] },
  { model: 'openai:gpt-image-1', settings: {}, width: 256, height: 384, warnings: ['seed is not supported; ignored'] },
] as const;
const SEEDS = [7, 42];
const FAILED_CELL = { promptIndex: 0, model: 'openai:gpt-image-1', seed: 7, error: 'rate limited (429): gave up after 3 requests' };

let root: string;
let server: Server;
let origin: string;
let browser: Browser;

/** Real images on disk and their rows: 2 prompts × 3 models × 2 seeds, one failed cell. */
async function writeExperiment(folder: string, prompts: readonly string[]): Promise<ExperimentRow[]> {
  await mkdir(path.join(folder, 'images'), { recursive: true });
  const rows: ExperimentRow[] = [];
  for (const [promptIndex, prompt] of prompts.entries()) {
    for (const [modelIndex, entry] of MODELS.entries()) {
      for (const seed of SEEDS) {
        const failed = promptIndex === FAILED_CELL.promptIndex && entry.model === FAILED_CELL.model && seed === FAILED_CELL.seed;
        const settings = Object.entries(entry.settings).map(([key, value]) => `${key}=${value}`);
        const imagePath = `images/p${promptIndex} m${modelIndex} s${seed}.png`;
        if (!failed) await writeFile(path.join(folder, imagePath), renderPlaceholder({ prompt, seed, width: entry.width, height: entry.height, format: 'png', model: entry.model }));
        rows.push({
          promptIndex,
          prompt,
          model: entry.model,
          provider: entry.model.split(':')[0]!,
          seed,
          settings: entry.settings,
          column: [entry.model, ...settings].join(' '),
          status: failed ? 'failed' : 'done',
          modelId: entry.model.slice(entry.model.indexOf(':') + 1),
          file: failed ? undefined : imagePath,
          mediaType: failed ? undefined : 'image/png',
          index: failed ? undefined : 0,
          cached: false,
          width: failed ? undefined : entry.width,
          height: failed ? undefined : entry.height,
          latencyMs: failed ? undefined : 700 + modelIndex * 1900 + seed * 3,
          requests: failed ? 3 : 1,
          warnings: entry.warnings.map((message) => ({ type: 'other' as const, source: 'imagegen' as const, message })),
          estimatedCostUsd: failed ? undefined : [0.0027, 0.025, 0.042][modelIndex],
          actualCostUsd: undefined,
          error: failed ? FAILED_CELL.error : undefined,
        });
      }
    }
  }
  return rows;
}

/** Serves `root` on 127.0.0.1 and nothing else. */
function serveFolder(folder: string): Promise<Server> {
  const types: Record<string, string> = { '.html': 'text/html; charset=utf-8', '.png': 'image/png' };
  const listener = createServer((request, response) => {
    const filePath = path.resolve(folder, `.${decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname)}`);
    if (!filePath.startsWith(`${folder}${path.sep}`)) return void response.writeHead(403).end();
    readFile(filePath).then(
      (body) => response.writeHead(200, { 'content-type': types[path.extname(filePath)] ?? 'application/octet-stream' }).end(body),
      () => response.writeHead(404).end(),
    );
  });
  return new Promise((resolve) => listener.listen(0, '127.0.0.1', () => resolve(listener)));
}

/** Opens a page, recording every URL it requests. */
async function openGallery(url: string): Promise<{ page: Page; requestedUrls: string[] }> {
  const page = await browser.newPage({ viewport: { width: 1200, height: 800 }, deviceScaleFactor: 1 });
  const requestedUrls: string[] = [];
  page.on('request', (request) => requestedUrls.push(request.url()));
  await page.goto(url, { waitUntil: 'load' });
  return { page, requestedUrls };
}

const visibleCells = (page: Page) =>
  page.$$eval('#grid td.cell', (cells) =>
    cells.filter((cell) => (cell as HTMLElement).offsetParent !== null).map((cell) => ({ model: cell.getAttribute('data-model'), promptIndex: cell.getAttribute('data-prompt-index') })),
  );
const visibleColumnHeaders = (page: Page) =>
  page.$$eval('#grid th.column-header', (headers) => headers.filter((header) => (header as HTMLElement).offsetParent !== null).map((header) => header.getAttribute('data-model')));

beforeAll(async () => {
  if (!('path' in chromiumExecutable)) return;
  root = await mkdtemp(path.join(tmpdir(), 'imagegen-gallery-'));
  const rows = await writeExperiment(path.join(root, 'clean'), PROMPTS);
  await writeGallery({ rows, folder: path.join(root, 'clean'), title: 'FLUX schnell vs dev vs gpt-image-1' });
  const hostileRows = await writeExperiment(path.join(root, 'hostile'), [
    '<img src="/injected-image" onerror="window.injected = true"><script>window.injected = true</script>',
    "</td></tr></table><b>broken</b>' \" &amp;",
  ]);
  await writeGallery({ rows: hostileRows, folder: path.join(root, 'hostile'), title: '<script>window.injected = true</script>' });
  server = await serveFolder(root);
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  browser = await chromium.launch({
    executablePath: chromiumExecutable.path,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-quic', '--no-first-run', '--disable-component-update', '--disable-sync'],
  });
}, 30_000);

afterAll(async () => {
  await browser?.close();
  await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
  if (root) await rm(root, { recursive: true, force: true });
});

const SUITE = `gallery in headless Chromium${'skipReason' in chromiumExecutable ? ` (skipped: ${chromiumExecutable.skipReason})` : ''}`;

describe.skipIf(!('path' in chromiumExecutable))(SUITE, () => {
  it('loads every image, shows the failed cell, filters by model and prompt, and stays on 127.0.0.1', async () => {
    const { page, requestedUrls } = await openGallery(`${origin}/clean/index.html`);

    const images = await page.$$eval('#grid td.cell[data-status="done"] img', (elements) =>
      elements.map((image) => ({ src: image.getAttribute('src'), loaded: (image as HTMLImageElement).complete && (image as HTMLImageElement).naturalWidth > 0 })),
    );
    expect(images).toHaveLength(11);
    expect(images.filter((image) => !image.loaded)).toEqual([]);

    const failed = page.locator('#grid td.cell[data-status="failed"]');
    await expect(failed.count()).resolves.toBe(1);
    expect(await failed.isVisible()).toBe(true);
    expect(await failed.getAttribute('data-model')).toBe(FAILED_CELL.model);
    expect(await failed.getAttribute('data-prompt-index')).toBe(String(FAILED_CELL.promptIndex));
    expect(await failed.innerText()).toContain('failed');
    expect(await failed.innerText()).toContain(FAILED_CELL.error);
    expect(await failed.locator('img').count()).toBe(0);
    expect(await page.locator('#grid .warning').first().innerText()).toContain('steps clamped to 4');

    const screenshot = await sharp(await page.screenshot()).png({ palette: true, quality: 90, effort: 8 }).toBuffer();
    for (const screenshotPath of SCREENSHOT_PATHS) {
      await mkdir(path.dirname(screenshotPath), { recursive: true });
      await writeFile(screenshotPath, screenshot);
    }

    await page.selectOption('#filter-model', 'togetherai:black-forest-labs/FLUX.1-dev');
    expect(await visibleColumnHeaders(page)).toEqual(['togetherai:black-forest-labs/FLUX.1-dev']);
    const modelCells = await visibleCells(page);
    expect(modelCells).toHaveLength(4);
    expect(new Set(modelCells.map((cell) => cell.model))).toEqual(new Set(['togetherai:black-forest-labs/FLUX.1-dev']));

    await page.selectOption('#filter-model', '');
    await page.selectOption('#filter-prompt', '1');
    const promptCells = await visibleCells(page);
    expect(promptCells).toHaveLength(6);
    expect(new Set(promptCells.map((cell) => cell.promptIndex))).toEqual(new Set(['1']));
    expect(await visibleColumnHeaders(page)).toHaveLength(3);

    await page.selectOption('#filter-model', 'openai:gpt-image-1');
    expect(await visibleCells(page)).toEqual([
      { model: 'openai:gpt-image-1', promptIndex: '1' },
      { model: 'openai:gpt-image-1', promptIndex: '1' },
    ]);

    await page.selectOption('#filter-model', '');
    await page.selectOption('#filter-prompt', '');
    expect(await visibleCells(page)).toHaveLength(12);

    expect(requestedUrls.length).toBeGreaterThan(11);
    expect(requestedUrls.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    await page.close();
  }, 15_000);

  it('runs nothing and fetches nothing from markup in prompts and titles', async () => {
    const { page, requestedUrls } = await openGallery(`${origin}/hostile/index.html`);
    expect(await page.evaluate(() => (window as unknown as { injected?: boolean }).injected)).toBeUndefined();
    expect(await page.title()).toBe('<script>window.injected = true</script>');
    expect(await page.locator('#grid td.cell').count()).toBe(12);
    expect(await page.locator('#grid tbody tr').first().locator('.prompt-text').innerText()).toContain('<script>window.injected = true</script>');
    expect(requestedUrls.filter((url) => url.includes('injected'))).toEqual([]);
    expect(requestedUrls.filter((url) => !url.startsWith(`${origin}/`))).toEqual([]);
    await page.close();
  }, 15_000);
});
