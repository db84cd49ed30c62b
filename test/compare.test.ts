import { createOpenAI } from '@ai-sdk/openai';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { contactSheetSize } from '../src/compare/contact-sheet.js';
import { expandExperiment, loadExperimentFile, parseExperiment } from '../src/compare/experiment.js';
import { runCli } from '../src/cli/main.js';
import type { InvalidRequestError } from '../src/errors/errors.js';
import { memoryIO } from './helpers/cli.js';
import { runExperiment } from '../src/compare/run.js';
import { RESULTS_CSV_COLUMNS } from '../src/compare/results-files.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

/** A local server answering OpenAI's image endpoint with real PNGs. */
function startOpenAIServer(): Promise<{ url: string; server: Server; requests: unknown[] }> {
  const requests: unknown[] = [];
  const server = createServer((request, response) => {
    let body = '';
    request.on('data', (chunk: Buffer) => (body += chunk.toString()));
    request.on('end', () => {
      const parsed = JSON.parse(body) as { n?: number; prompt: string; size?: string };
      requests.push(parsed);
      const [width, height] = (parsed.size ?? '1024x1024').split('x').map(Number) as [number, number];
      const data = Array.from({ length: parsed.n ?? 1 }, (_, index) => ({
        b64_json: Buffer.from(renderPlaceholder({ prompt: parsed.prompt, seed: index, width, height, format: 'png' })).toString('base64'),
      }));
      response.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ created: 1, data }));
    });
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      resolve({ url: `http://127.0.0.1:${port}/v1`, server, requests });
    }),
  );
}

/** A small CSV reader for the test (quoted fields, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index]!;
    if (quoted) {
      if (character === '"' && text[index + 1] === '"') (field += '"'), index++;
      else if (character === '"') quoted = false;
      else field += character;
    } else if (character === '"') quoted = true;
    else if (character === ',') row.push(field), (field = '');
    else if (character === '\n') row.push(field.replace(/\r$/, '')), rows.push(row), (row = []), (field = '');
    else field += character;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

let emulator: Emulator;
let openai: Awaited<ReturnType<typeof startOpenAIServer>>;
beforeAll(async () => {
  emulator = await startEmulator({ quiet: true, failRate: 0 });
  openai = await startOpenAIServer();
  vi.stubEnv('TOGETHER_API_KEY', 'test-key');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
  await new Promise((resolve) => openai.server.close(resolve));
});

describe('runExperiment', () => {
  it('when the contact sheet cannot be drawn, index.html and the results files are still written (defect 8)', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-sheet-'));
    // Something the sheet cannot be written over: a folder where the file would go.
    await mkdir(path.join(outDir, 'contact-sheet.png'));
    const experiment = parseExperiment({ prompts: ['a fox'], models: ['local:placeholder'], seeds: [1], size: '64x64' });
    const result = await runExperiment({ experiment, outDir, cache: false, cellSize: 64 });
    expect(result.outputs.contactSheetError).toBeDefined();
    expect(result.outputs.contactSheetPages).toEqual([]);
    expect(await readFile(result.outputs.gallery, 'utf8')).toContain('<html');
    expect((await readFile(result.outputs.resultsCsv, 'utf8')).split('\r\n')[1]).toContain('a fox');
    // And a re-run does the same, rather than failing where the first run did.
    const again = await runExperiment({ experiment, outDir, cache: false, cellSize: 64 });
    expect(again.rows[0]?.status).toBe('done');
    expect(again.outputs.contactSheetError).toBeDefined();
  });

  it('2 prompts × 3 models × 2 seeds: every output, consistent counts, failures shown', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-'));
    const experiment = parseExperiment({
      name: 'local vs Together vs OpenAI',
      prompts: ['a lighthouse at dusk', 'a red fox in <snow>, "quoted", commas'],
      models: ['local:placeholder', 'togetherai:black-forest-labs/FLUX.1-schnell', 'openai:gpt-image-1'],
      seeds: [1, 2],
      size: '256x256',
    });
    const result = await runExperiment({
      experiment,
      outDir,
      cache: false,
      cellSize: 64,
      providers: { openai: createOpenAI({ apiKey: 'sk-test', baseURL: openai.url }) },
    });

    expect(result.rows).toHaveLength(12);
    expect(result.rows.filter((row) => row.status === 'done')).toHaveLength(12);
    expect(emulator.stats().requests).toBe(4);
    expect(openai.requests).toHaveLength(4);
    expect(result.summary.map((model) => [model.model, model.images, model.failures])).toEqual([
      ['local:placeholder', 4, 0],
      ['togetherai:black-forest-labs/FLUX.1-schnell', 4, 0],
      ['openai:gpt-image-1', 4, 0],
    ]);

    const jsonl = (await readFile(result.outputs.resultsJsonl, 'utf8')).trim().split('\n').map((line) => JSON.parse(line));
    expect(jsonl).toHaveLength(12);
    const csvText = await readFile(result.outputs.resultsCsv, 'utf8');
    // UTF-8 with a byte order mark, for Excel.
    expect(csvText.startsWith('\uFEFF')).toBe(true);
    const csv = parseCsv(csvText.slice(1));
    expect(csv[0]).toEqual([...RESULTS_CSV_COLUMNS]);
    expect(csv.slice(1)).toHaveLength(12);
    expect(csv.slice(1).map((row) => row[1])).toEqual(jsonl.map((row: { model: string }) => row.model));
    expect(csv[4]?.[0]).toBe('a lighthouse at dusk');
    expect(csv.some((row) => row[0] === 'a red fox in <snow>, "quoted", commas')).toBe(true);

    for (const row of result.rows) {
      const metadata = await sharp(path.join(outDir, row.file!)).metadata();
      expect([metadata.width, metadata.height]).toEqual([row.width, row.height]);
      // gpt-image-1 has no 256x256: the nearest size it takes is sent, and the row says so.
      if (row.provider === 'openai') {
        expect(row.width).toBe(1024);
        expect(row.warnings.map((warning) => warning.message).join(' ')).toMatch(/1024x1024/);
      } else {
        expect([row.width, row.height]).toEqual([256, 256]);
      }
    }
    const sheet = await sharp(result.outputs.contactSheet).metadata();
    expect({ width: sheet.width, height: sheet.height }).toEqual(contactSheetSize({ rows: 4, columns: 3, cellSize: 64 }));

    const html = await readFile(result.outputs.gallery, 'utf8');
    expect(html).not.toContain('<snow>');
    expect(html).not.toMatch(/(src|href)="https?:/);
  });

  it('cells a model cannot take, or a provider without a key, are failed rows with the reason', async () => {
    vi.stubEnv('OPENAI_API_KEY', '');
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-'));
    const result = await runExperiment({
      experiment: parseExperiment({
        prompts: ['a fox'],
        models: ['local:placeholder', 'togetherai:black-forest-labs/FLUX.1-schnell', 'openai:gpt-image-1'],
        seeds: [3],
        size: '256x256',
        settings: { steps: [4, 20] },
      }),
      outDir,
      cache: false,
      cellSize: 64,
    });
    expect(result.rows.map((row) => [row.column, row.status])).toEqual([
      ['local:placeholder steps=4', 'done'],
      ['local:placeholder steps=20', 'done'],
      ['togetherai:black-forest-labs/FLUX.1-schnell steps=4', 'done'],
      ['togetherai:black-forest-labs/FLUX.1-schnell steps=20', 'failed'],
      ['openai:gpt-image-1 steps=4', 'failed'],
      ['openai:gpt-image-1 steps=20', 'failed'],
    ]);
    expect(result.rows[3]?.error).toMatch(/steps: must be from 1 to 12/);
    for (const row of result.rows.slice(4)) expect(row.error).toMatch(/No API key for OpenAI\. Set OPENAI_API_KEY/);
    const html = await readFile(result.outputs.gallery, 'utf8');
    expect(html).toContain('must be from 1 to 12');
    const csv = await readFile(result.outputs.resultsCsv, 'utf8');
    expect(csv).toContain('failed');
  });
});

describe('runExperiment keeps what happened in memory', () => {
  it('rows come from the run, not from files read back: sidecars and the journal removed as they are written, rows still whole', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-memory-'));
    const experiment = parseExperiment({ prompts: ['a fox', 'a whale'], models: ['local:placeholder', 'togetherai:black-forest-labs/FLUX.1-schnell'], seeds: [7], size: '256x256' });
    const { rm } = await import('node:fs/promises');
    const removals: Promise<void>[] = [];
    const result = await runExperiment({
      experiment,
      outDir,
      cache: false,
      cellSize: 64,
      onEvent: (event) => {
        if (event.type !== 'done') return;
        for (const image of event.results) removals.push(rm(path.join(outDir, image.file.replace(/\.[a-z]+$/, '.json')), { force: true }));
        removals.push(rm(path.join(outDir, 'manifest.jsonl'), { force: true }));
      },
    });
    await Promise.all(removals);
    expect(result.rows.map((row) => [row.status, row.width, row.height, row.mediaType, row.requests])).toEqual(
      Array.from({ length: 4 }, (_, index) => ['done', 256, 256, index % 2 === 0 ? 'image/png' : 'image/jpeg', 1]),
    );
    expect(result.rows.every((row) => row.file !== undefined && !row.cached)).toBe(true);
  });

  it('a resumed experiment takes the cells done before from the journal, without reading their sidecars', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-compare-resume-'));
    const experiment = parseExperiment({ prompts: ['a fox'], models: ['local:placeholder'], seeds: [1, 2], size: '64x64' });
    const first = await runExperiment({ experiment, outDir, cache: false, cellSize: 64 });
    const { readdir, rm } = await import('node:fs/promises');
    // Sidecars gone (but not the images): a resumed run still knows every cell.
    const files = await readdir(outDir);
    for (const file of files.filter((name) => name.endsWith('.json'))) await rm(path.join(outDir, file));
    await writeFile(path.join(outDir, first.rows[0]!.file!.replace(/\.[a-z]+$/, '.json')), '{}');
    const second = await runExperiment({ experiment, outDir, cache: false, cellSize: 64 });
    expect(second.batch).toMatchObject({ skipped: 1, done: 1 });
    expect(second.rows.map((row) => [row.status, row.width, row.file])).toEqual(first.rows.map((row) => [row.status, row.width, row.file]));
  });
});

describe('experiment files', () => {
  it('YAML and JSON give the same matrix; bad experiments name the field and exit 2', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-experiment-'));
    const yamlFile = path.join(folder, 'experiment.yaml');
    const jsonFile = path.join(folder, 'experiment.json');
    await writeFile(yamlFile, 'prompts: [a fox, a whale]\nmodels: [local:placeholder]\nseeds: [1, 2]\nsettings:\n  steps: [4, 8]\nsize: 64x64\n');
    await writeFile(jsonFile, JSON.stringify({ prompts: ['a fox', 'a whale'], models: ['local:placeholder'], seeds: [1, 2], settings: { steps: [4, 8] }, size: '64x64' }));
    const fromYaml = expandExperiment(await loadExperimentFile(yamlFile));
    expect(fromYaml).toHaveLength(8);
    expect(fromYaml).toEqual(expandExperiment(await loadExperimentFile(jsonFile)));
    expect(fromYaml.map((cell) => cell.column)).toContain('local:placeholder steps=8');

    const bad = path.join(folder, 'bad.yaml');
    await writeFile(bad, 'prompts: []\nmodels: [nomodel]\ncolour: red\n');
    const error = (await loadExperimentFile(bad).catch((caught: unknown) => caught)) as InvalidRequestError;
    // Each names the file, line and column, and the field as written.
    expect(error.issues.map((issue) => issue.field.replace(bad, 'bad.yaml')).sort()).toEqual(['bad.yaml:1:10 prompts', 'bad.yaml:2:10 models[0]', 'bad.yaml:3:9 colour']);
    expect(error.issues.find((issue) => issue.field.endsWith('colour'))?.message).toBe(
      'unknown field; an experiment takes: name, prompts, models, seeds, settings, size, aspectRatio, negativePrompt, outputFormat, safetyChecker, referenceImages, mask',
    );

    const io = memoryIO(folder);
    expect(await runCli(['compare', '-e', bad, '-o', path.join(folder, 'out')], io)).toBe(2);
    expect(io.stderrText()).toMatch(/prompts: must list at least one prompt/);
    expect(await runCli(['compare', '-p', 'x', '-o', path.join(folder, 'out')], memoryIO(folder))).toBe(2);
  });
});
