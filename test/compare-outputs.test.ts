import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONTACT_SHEET_TEXT_COLOR, contactSheetLayout, contactSheetSize, experimentGrid, makeContactSheet } from '../src/compare/contact-sheet.js';
import { textImage } from '../src/placeholder/label.js';
import { renderGalleryHtml, writeGallery } from '../src/compare/gallery.js';
import { RESULTS_CSV_COLUMNS, writeResultsFiles } from '../src/compare/results-files.js';
import { formatSummaryTable, summarize } from '../src/compare/summary.js';
import type { ExperimentRow } from '../src/compare/types.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

const PROMPTS = [
  'a lighthouse at dusk, oil painting',
  // Comma, quotes, a newline and markup: everything the CSV and the HTML have to survive.
  'a bowl of ramen, "studio" lighting\n<script>alert("owned")</script> & more',
];
const MODELS = [
  { model: 'togetherai:black-forest-labs/FLUX.1-schnell', settings: { steps: 4 }, width: 256, height: 256, format: 'png', costUsd: 0.0027 },
  { model: 'togetherai:black-forest-labs/FLUX.1-dev', settings: {}, width: 320, height: 192, format: 'png', costUsd: 0.025 },
  { model: 'openai:gpt-image-1', settings: {}, width: 192, height: 320, format: 'jpeg', costUsd: 0.04 },
] as const;
const SEEDS = [7, 42];
/** "prompt index / model index / seed" of the cells that fail. */
const FAILED = new Map([
  ['0/2/42', 'rate limited (429): gave up after 3 requests'],
  ['1/1/7', 'safety checker: prompt flagged, "NSFW content", code 422'],
]);

let folder: string;
let rows: ExperimentRow[];

beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-outputs-'));
  rows = [];
  let latencyMs = 800;
  for (const [promptIndex, prompt] of PROMPTS.entries()) {
    for (const [modelIndex, entry] of MODELS.entries()) {
      for (const seed of SEEDS) {
        latencyMs += 100;
        const error = FAILED.get(`${promptIndex}/${modelIndex}/${seed}`);
        const column = [entry.model, ...Object.entries(entry.settings).map(([key, value]) => `${key}=${value}`)].join(' ');
        const base = {
          promptIndex,
          prompt,
          model: entry.model,
          provider: entry.model.split(':')[0]!,
          modelId: entry.model.slice(entry.model.indexOf(':') + 1),
          seed,
          settings: entry.settings,
          column,
          warnings: (modelIndex === 0 ? ['steps clamped to 4 (the most FLUX.1-schnell takes)'] : modelIndex === 2 ? ['seed is not supported; ignored', 'size rounded to 1024x1536'] : []).map((message) => ({ type: 'other' as const, source: 'imagegen' as const, message })),
          cached: false,
          actualCostUsd: undefined,
        };
        if (error !== undefined) {
          rows.push({ ...base, status: 'failed', file: undefined, width: undefined, height: undefined, mediaType: undefined, index: undefined, latencyMs: undefined, requests: 3, estimatedCostUsd: undefined, error });
          continue;
        }
        const fileName = `p${promptIndex}-m${modelIndex}-s${seed}.${entry.format === 'png' ? 'png' : 'jpg'}`;
        await writeFile(path.join(folder, fileName), renderPlaceholder({ prompt, seed, width: entry.width, height: entry.height, format: entry.format }));
        rows.push({ ...base, status: 'done', file: fileName, width: entry.width, height: entry.height, mediaType: entry.format === 'png' ? 'image/png' : 'image/jpeg', index: 0, latencyMs, requests: 1, estimatedCostUsd: entry.costUsd, actualCostUsd: modelIndex === 2 ? 0.0421 : undefined, error: undefined });
      }
    }
  }
});

afterAll(async () => {
  await rm(folder, { recursive: true, force: true });
});

/** RFC 4180, enough for the test: quoted fields, doubled quotes, CRLF records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') {
        field += '"';
        index++;
      } else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') {
      record.push(field);
      field = '';
    } else if (character === '\r' && text[index + 1] === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
      index++;
    } else field += character;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

describe('results files', () => {
  it('writes results.jsonl with one complete row per cell', async () => {
    const { jsonlPath } = await writeResultsFiles({ rows, folder });
    const lines = (await readFile(jsonlPath, 'utf8')).trimEnd().split('\n');
    expect(lines).toHaveLength(12);
    const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(parsed.filter((row) => row['status'] === 'failed')).toHaveLength(2);
    expect(parsed.map((row) => row['prompt'])).toEqual(rows.map((row) => row.prompt));
    // undefined becomes null, so every line has every key.
    expect(parsed[2]).toMatchObject({ status: 'done', error: null, promptIndex: 0, seed: 7, settings: {} });
    expect(parsed[5]).toMatchObject({ status: 'failed', file: null, latencyMs: null, error: 'rate limited (429): gave up after 3 requests' });
    for (const row of parsed) expect(Object.keys(row).sort()).toEqual(Object.keys(rows[0]!).sort());
  });

  it('writes results.csv that parses back to the same cells', async () => {
    const { csvPath } = await writeResultsFiles({ rows, folder });
    const text = await readFile(csvPath, 'utf8');
    // UTF-8 with a byte order mark, so Excel shows "Straße" and "Łódź" as written.
    expect(text.startsWith('\uFEFF')).toBe(true);
    const records = parseCsv(text.slice(1));
    expect(records[0]).toEqual([...RESULTS_CSV_COLUMNS]);
    const body = records.slice(1).map((record) => Object.fromEntries(RESULTS_CSV_COLUMNS.map((column, index) => [column, record[index]])));
    expect(body).toHaveLength(12);
    for (const record of records) expect(record).toHaveLength(RESULTS_CSV_COLUMNS.length);
    expect(body.filter((record) => record['status'] === 'failed').map((record) => record['error'])).toEqual([...FAILED.values()]);
    expect(body.map((record) => record['prompt'])).toEqual(rows.map((row) => row.prompt));
    expect(body[0]).toEqual({
      prompt: 'a lighthouse at dusk, oil painting',
      model: 'togetherai:black-forest-labs/FLUX.1-schnell',
      provider: 'togetherai',
      seed: '7',
      settings: 'steps=4',
      status: 'done',
      latency_ms: '900',
      cached: 'false',
      requests: '1',
      warnings: 'steps clamped to 4 (the most FLUX.1-schnell takes)',
      estimated_cost_usd: '0.0027',
      actual_cost_usd: '',
      file: 'p0-m0-s7.png',
      error: '',
    });
    expect(body[4]?.['warnings']).toBe('seed is not supported; ignored | size rounded to 1024x1536');
    // Beside the estimate, what the provider reported it charged.
    expect(body[4]?.['actual_cost_usd']).toBe('0.0421');
    expect(body[5]).toMatchObject({ status: 'failed', latency_ms: '', file: '', estimated_cost_usd: '', requests: '3' });
  });

  it('results.csv neutralises cells a spreadsheet would run as formulas (OWASP CSV injection)', async () => {
    const prompts = ['=HYPERLINK("http://evil.example","x")', '+1+cmd|calc', '-2+3', '@SUM(A1)', '\tindented', 'a plain prompt'];
    const injected = prompts.map((prompt, index) => ({ ...rows[0]!, prompt, promptIndex: index, error: index === 0 ? '=1+1' : undefined }));
    const csvFolder = await mkdtemp(path.join(tmpdir(), 'imagegen-csv-injection-'));
    const { csvPath } = await writeResultsFiles({ rows: injected, folder: csvFolder });
    const records = parseCsv((await readFile(csvPath, 'utf8')).replace(/^\uFEFF/, '')).slice(1);
    expect(records.map((record) => record[0])).toEqual([
      `'=HYPERLINK("http://evil.example","x")`,
      "'+1+cmd|calc",
      "'-2+3",
      "'@SUM(A1)",
      "'\tindented",
      'a plain prompt',
    ]);
    expect(records[0]?.[RESULTS_CSV_COLUMNS.indexOf('error')]).toBe("'=1+1");
    // Numbers are still numbers.
    expect(records[1]?.[RESULTS_CSV_COLUMNS.indexOf('seed')]).toBe('7');
  });
});

describe('experiment grid', () => {
  it('orders rows by prompt then seed and columns by first appearance, whatever the row order', () => {
    const shuffled = [...rows].reverse();
    const grid = experimentGrid(shuffled);
    expect(grid.rows.map((gridRow) => [gridRow.promptIndex, gridRow.seed])).toEqual([
      [0, 7],
      [0, 42],
      [1, 7],
      [1, 42],
    ]);
    expect(grid.columns.map((column) => column.label)).toEqual(['openai:gpt-image-1', 'togetherai:black-forest-labs/FLUX.1-dev', 'togetherai:black-forest-labs/FLUX.1-schnell steps=4']);
    expect(grid.rows.every((gridRow) => gridRow.cells.every((cell) => cell !== undefined))).toBe(true);
  });
});

describe('contact sheet', () => {
  it('has exactly the computed size, images in done cells and red tiles for failures', async () => {
    const cellSize = 128;
    const outputPath = path.join(folder, 'contact-sheet.png');
    const result = await makeContactSheet({ rows, folder, outputPath, cellSize });
    // 200 + 3 × 128 + 4 × 8 by 64 + 4 × 128 + 5 × 8.
    expect(contactSheetSize({ rows: 4, columns: 3, cellSize })).toEqual({ width: 616, height: 616 });
    expect(result).toEqual({ path: outputPath, pages: [outputPath], width: 616, height: 616, rows: 4, columns: 3, cellSize: 128 });
    const { data, info } = await sharp(outputPath).raw().toBuffer({ resolveWithObject: true });
    expect(info).toMatchObject({ format: 'raw', width: 616, height: 616 });
    const pixel = (x: number, y: number) => [...data.subarray((y * info.width + x) * info.channels, (y * info.width + x) * info.channels + 3)];
    const cellOrigin = (row: number, column: number) => ({ x: 200 + 8 + column * (128 + 8), y: 64 + 8 + row * (128 + 8) });
    // Bottom-right corner of a failed tile (prompt 0, seed 42, third column): the tile colour.
    const failed = cellOrigin(1, 2);
    expect(pixel(failed.x + 124, failed.y + 124)).toEqual([0xfb, 0xe4, 0xe4]);
    // A done cell shows the image; its centre is not the page or the tile background.
    const done = cellOrigin(0, 0);
    expect(pixel(done.x + 64, done.y + 64)).not.toEqual([255, 255, 255]);
    expect(pixel(done.x + 64, done.y + 64)).not.toEqual([0xfb, 0xe4, 0xe4]);
    // The landscape image (320×192) is letterboxed in the square: grey bands above and below.
    const landscape = cellOrigin(0, 1);
    expect(pixel(landscape.x + 64, landscape.y + 2)).toEqual([0xee, 0xee, 0xee]);
  });

  it("labels are the toolkit's pixel font composited in (no SVG text, so no system fonts): exact ink where the font has it", async () => {
    const outputPath = path.join(folder, 'labels-sheet.png');
    await makeContactSheet({ rows, folder, outputPath, cellSize: 128 });
    const { data, info } = await sharp(outputPath).raw().toBuffer({ resolveWithObject: true });
    const label = textImage({ lines: ['prompt #1'], scale: 2, color: CONTACT_SHEET_TEXT_COLOR })!;
    // The first row's label starts 10 px into the label column and the row.
    const left = 10;
    const top = 64 + 8 + 10;
    let ink = 0;
    for (let y = 0; y < label.height; y++) {
      for (let x = 0; x < label.width; x++) {
        const at = ((top + y) * info.width + left + x) * info.channels;
        const expected = label.data[(y * label.width + x) * 4 + 3] === 255 ? [...CONTACT_SHEET_TEXT_COLOR] : [255, 255, 255];
        if (expected[0] !== 255) ink++;
        expect([...data.subarray(at, at + 3)]).toEqual(expected);
      }
    }
    expect(ink).toBeGreaterThan(50);
  });

  it('draws an image that cannot be read as failed instead of throwing', async () => {
    const broken = rows.map((row, index) => (index === 0 ? { ...row, file: 'missing.png' } : index === 1 ? { ...row, path: '../outside.png' } : row));
    const result = await makeContactSheet({ rows: broken, folder, outputPath: path.join(folder, 'broken-sheet.png'), cellSize: 64 });
    expect(result).toMatchObject(contactSheetSize({ rows: 4, columns: 3, cellSize: 64 }));
  });
});

describe('contact sheets for any experiment (defect 8)', () => {
  it('4,400 cells (440 prompts × 10 models): pages within the pixel limit instead of "Input image exceeds pixel limit"', async () => {
    const huge: ExperimentRow[] = [];
    for (let promptIndex = 0; promptIndex < 440; promptIndex++) {
      for (let model = 0; model < 10; model++) {
        const base = { ...rows[0]!, promptIndex, prompt: `prompt ${promptIndex}`, model: `togetherai:model-${model}`, column: `togetherai:model-${model}`, settings: {} };
        // Mostly failed tiles (cheap to draw); one image a page is enough to see images land.
        huge.push(promptIndex % 60 === 0 && model === 0 ? base : { ...base, status: 'failed', file: undefined, error: 'rate limited' });
      }
    }
    // At the default 256 px cells this is 2,848 × 116,232 px, over libvips' pixel limit: it is
    // split into eight pages of at most 16,000 px a side.
    expect(contactSheetLayout({ rows: 440, columns: 10, cellSize: 256 })).toEqual({ cellSize: 256, rowsPerPage: 60, columnsPerPage: 10, pages: 8 });
    // Drawn small here (32 px cells, 4,000 px pages) so the test stays quick; the paging is the same.
    const outputPath = path.join(folder, 'huge', 'contact-sheet.png');
    const result = await makeContactSheet({ rows: huge, folder, outputPath, cellSize: 32, maxSide: 4000 });
    expect(result.pages).toEqual([outputPath, ...[2, 3, 4, 5].map((page) => path.join(folder, 'huge', `contact-sheet-${page}.png`))]);
    for (const page of result.pages) {
      const metadata = await sharp(page).metadata();
      expect(metadata.width).toBeLessThanOrEqual(4000);
      expect(metadata.height).toBeLessThanOrEqual(4000);
    }
    expect(await sharp(result.pages[4]!).metadata()).toMatchObject(contactSheetSize({ rows: 440 - 4 * 98, columns: 10, cellSize: 32 }));
    // 4,400 tiles to draw: seconds on a shared machine, past vitest's 5 s default at times.
  }, 30_000);

  it('too many columns for one sheet: cells shrink first, then columns are split into pages', () => {
    expect(contactSheetLayout({ rows: 2, columns: 100, cellSize: 256 })).toEqual({ cellSize: 149, rowsPerPage: 2, columnsPerPage: 100, pages: 1 });
    expect(contactSheetLayout({ rows: 2, columns: 1000, cellSize: 256 })).toMatchObject({ cellSize: 32, columnsPerPage: 394, pages: 3 });
  });
});

describe('summary', () => {
  it('counts images and failures, takes the median latency of done cells and sums known costs', () => {
    const summary = summarize(rows);
    expect(summary.map(({ model, images, failures, medianLatencyMs }) => ({ model, images, failures, medianLatencyMs }))).toEqual([
      // Latencies run 900, 1000, … in row order: schnell has 900, 1000, 1500, 1600.
      { model: 'togetherai:black-forest-labs/FLUX.1-schnell', images: 4, failures: 0, medianLatencyMs: 1250 },
      { model: 'togetherai:black-forest-labs/FLUX.1-dev', images: 3, failures: 1, medianLatencyMs: 1200 },
      { model: 'openai:gpt-image-1', images: 3, failures: 1, medianLatencyMs: 1900 },
    ]);
    expect(summary[0]?.estimatedCostUsd).toBeCloseTo(0.0108, 10);
    expect(summary[1]?.estimatedCostUsd).toBeCloseTo(0.075, 10);
    expect(summary[2]?.estimatedCostUsd).toBeCloseTo(0.12, 10);
    expect(summarize([])).toEqual([]);
  });

  it('formats an aligned table with a total line', () => {
    expect(formatSummaryTable(summarize(rows))).toMatchInlineSnapshot(`
      "model                                        images  failed  median ms  est. cost  actual cost
      togetherai:black-forest-labs/FLUX.1-schnell       4       0      1,250    $0.0108            -
      togetherai:black-forest-labs/FLUX.1-dev           3       1      1,200    $0.0750            -
      openai:gpt-image-1                                3       1      1,900    $0.1200      $0.1263
      total                                            10       2               $0.2058      $0.1263"
    `);
  });
});

describe('cached and stopped cells', () => {
  // Rows 0 (schnell) and 3 came from the cache (no latency, cost 0); the last row never ran.
  const mixed = () => rows.map((row, index): ExperimentRow =>
    index === 0 || index === 3
      ? { ...row, cached: true, latencyMs: undefined, estimatedCostUsd: 0 }
      : index === 11
        ? { ...row, status: 'not-run', file: undefined, latencyMs: undefined, estimatedCostUsd: undefined, actualCostUsd: undefined, error: 'not run: the experiment was stopped; run it again to resume' }
        : row,
  );

  it('leaves cached cells out of the latency median, counts them apart, and does not count a cell not run as failed', () => {
    const schnellLatencies = mixed().filter((row) => row.model === rows[0]!.model && !row.cached && row.status === 'done').map((row) => row.latencyMs);
    expect(schnellLatencies).toEqual([1000, 1500, 1600]);
    expect(formatSummaryTable(summarize(mixed()))).toMatchInlineSnapshot(`
      "model                                        images  cached  failed  not run  median ms  est. cost  actual cost
      togetherai:black-forest-labs/FLUX.1-schnell       4       1       0        0      1,500    $0.0081            -
      togetherai:black-forest-labs/FLUX.1-dev           3       1       1        0      1,450    $0.0500            -
      openai:gpt-image-1                                2       0       1        1      1,600    $0.0800      $0.0842
      total                                             9       2       2        1               $0.1381      $0.0842"
    `);
  });

  it('the gallery says "cached" where a cached cell would read 0 ms $0.0000', () => {
    const html = renderGalleryHtml({ rows: mixed(), title: 'cached' });
    const firstCell = /<td id="cell-0-0"[\s\S]*?<\/td>/.exec(html)![0];
    expect(firstCell).toContain('<span>cached</span>');
    expect(firstCell).not.toMatch(/\$0\.0000| 0 ms/);
  });
});

describe('gallery', () => {
  it('escapes prompt markup and keeps a cell for every row', async () => {
    const { path: galleryPath } = await writeGallery({ rows, folder, title: 'ramen <b>vs</b> lighthouse' });
    const html = await readFile(galleryPath, 'utf8');
    expect(html).toBe(renderGalleryHtml({ rows, title: 'ramen <b>vs</b> lighthouse' }));
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&lt;script&gt;alert(&quot;owned&quot;)&lt;/script&gt; &amp; more');
    expect(html).toContain('<title>ramen &lt;b&gt;vs&lt;/b&gt; lighthouse</title>');
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html.match(/<td [^>]*class="cell /g)).toHaveLength(12);
    expect(html.match(/data-status="failed"/g)).toHaveLength(2);
    expect(html).toContain('<img src="p0-m0-s7.png"');
    expect(html).not.toMatch(/(?:src|href)="(?:https?:)?\/\//);
  });

  it('shows a missing image file or a path leaving the folder as a failed cell, never a broken image', async () => {
    const broken = rows.map((row, index) => (index === 0 ? { ...row, file: 'missing.png' } : row));
    const html = await readFile((await writeGallery({ rows: broken, folder, title: 'broken' })).path, 'utf8');
    expect(html.match(/data-status="failed"/g)).toHaveLength(3);
    expect(html).toContain('image file missing: missing.png');
    const outside = renderGalleryHtml({ rows: rows.map((row, index) => (index === 0 ? { ...row, file: '../p0-m0-s7.png' } : row)), title: 'outside' });
    expect(outside).toContain('image path outside the experiment folder: ../p0-m0-s7.png');
    expect(outside).not.toContain('src="../');
  });
});
