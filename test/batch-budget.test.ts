import { createBlackForestLabs } from '@ai-sdk/black-forest-labs';
import { mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { runBatch } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import { runCli } from '../src/cli/main.js';
import { Budget, setPriceOverrides } from '../src/index.js';
import { memoryIO } from './helpers/cli.js';
import { emulatorPerTest } from './helpers/emulators.js';
import { fileRoute, startProviderServer, TEST_KEY, type ProviderServer } from './helpers/provider-server.js';

const emulator = emulatorPerTest();
const folders: string[] = [];
const folder = async () => {
  const made = await mkdtemp(path.join(tmpdir(), 'imagegen-budget-'));
  folders.push(made);
  return made;
};
afterEach(async () => {
  setPriceOverrides({});
  await Promise.all(folders.splice(0).map((made) => rm(made, { recursive: true, force: true })));
});

const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';
const jobsOf = (prompts: string[], defaults = {}) =>
  parseBatchInput({ text: prompts.join('\n'), format: 'text', defaults: { size: '256x256', ...defaults } }).jobs;
const prompts = (count: number) => Array.from({ length: count }, (_, index) => `prompt ${index}`);

/** A Black Forest Labs server that bills `credits` a task ($0.01 each), whatever the catalog says. */
let bfl: ProviderServer;
let credits = 6;
/** A seed whose submission the server refuses (400), to fail one call of a job. */
let refusedSeed: number | undefined;
beforeAll(async () => {
  bfl = await startProviderServer([
    fileRoute,
    {
      method: 'GET',
      path: '/v1/get_result',
      respond: (request, { url }) => ({ json: { id: request.query.get('id'), status: 'Ready', result: { sample: `${url}/files/${request.query.get('id')!.replace('task-', '')}.png` } } }),
    },
    {
      method: 'POST',
      path: /^\/[a-z0-9.-]+$/,
      respond: (request, { url }) => {
        const { seed } = request.body as { seed: number };
        if (seed === refusedSeed) return { status: 400, json: { detail: 'refused for the test' } };
        return { json: { id: `task-${seed}`, polling_url: `${url}/v1/get_result?id=task-${seed}`, cost: credits } };
      },
    },
  ]);
});
afterAll(() => bfl.close());

describe('runBatch with a budget', { timeout: 30_000 }, () => {
  it('stops sending at the budget: the rest left unsent, not recorded; a re-run under a new budget sends them', async () => {
    const server = await emulator();
    setPriceOverrides({ [SCHNELL]: '0.01/image' });
    const outDir = await folder();
    const jobs = jobsOf(prompts(5));
    const first = await runBatch({ jobs, outDir, cache: false, concurrency: 1, budget: new Budget({ maxUsd: 0.03 }) });
    expect(first).toMatchObject({ done: 3, pending: 2, failed: 0, estimatedCostUsd: 0.03, actualCostUsd: null, spentUsd: 0.03 });
    expect(first.budget).toEqual({ limitUsd: 0.03, spentUsd: 0.03, unsent: 2, exceeded: true });
    expect(server.stats().requests).toBe(3);
    const manifest = (await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8')).trim().split('\n');
    expect(manifest).toHaveLength(3);

    const second = await runBatch({ jobs, outDir, cache: false, concurrency: 1, budget: new Budget({ maxUsd: 1 }) });
    expect(second).toMatchObject({ done: 2, skipped: 3, pending: 0, spentUsd: 0.02 });
    expect(second.budget).toEqual({ limitUsd: 1, spentUsd: 0.02, unsent: 0, exceeded: false });
    expect(server.stats().requests).toBe(5);
  });

  it('a job whose model has no price fails, saying how to give it one; nothing sent for it, the run goes on', async () => {
    const server = await emulator();
    setPriceOverrides({ [SCHNELL]: '0.01/image' });
    const jobs = [...jobsOf(['a fox'], { model: 'togetherai:acme/brand-new-image-model' }), ...jobsOf(['a whale'])];
    const summary = await runBatch({ jobs, outDir: await folder(), cache: false, budget: new Budget({ maxUsd: 1 }) });
    expect(summary).toMatchObject({ done: 1, failed: 1, pending: 0 });
    expect(summary.failures[0]?.error).toMatch(/^Not sent: the price of togetherai:acme\/brand-new-image-model is unknown, so a budget of \$1\.0000 cannot bound it/);
    expect(server.stats().requests).toBe(1);
  });

  it('counts what is in flight: four at once, room for two, two sent', async () => {
    const server = await emulator({ latency: 100 });
    setPriceOverrides({ [SCHNELL]: '0.01/image' });
    const summary = await runBatch({ jobs: jobsOf(prompts(6)), outDir: await folder(), cache: false, concurrency: 4, budget: new Budget({ maxUsd: 0.025 }) });
    expect(server.stats().requests).toBe(2);
    expect(summary).toMatchObject({ done: 2, pending: 4, spentUsd: 0.02 });
    expect(summary.budget).toMatchObject({ unsent: 4, exceeded: true });
  });

  it("charges the provider's actual cost, not the estimate: a dearer bill stops the run sooner", async () => {
    credits = 6; // $0.06 a task; the catalog says $0.04 for FLUX1.1 [pro]
    bfl.reset();
    const outDir = await folder();
    const summary = await runBatch({
      jobs: jobsOf(prompts(3), { model: 'black-forest-labs:flux-pro-1.1', seed: 1 }),
      outDir,
      cache: false,
      concurrency: 1,
      providers: { 'black-forest-labs': createBlackForestLabs({ baseURL: bfl.url, apiKey: TEST_KEY, pollIntervalMillis: 1 }) },
      // By the estimate all three fit ($0.12); by the bill the third would make $0.16.
      budget: new Budget({ maxUsd: 0.13 }),
    });
    expect(bfl.requests().filter((request) => request.method === 'POST')).toHaveLength(2);
    expect(summary).toMatchObject({ done: 2, pending: 1, estimatedCostUsd: 0.08, actualCostUsd: 0.12, spentUsd: 0.12 });
    expect(summary.budget).toEqual({ limitUsd: 0.13, spentUsd: 0.12, unsent: 1, exceeded: true });
    const sidecars = (await readdir(outDir)).filter((file) => file.endsWith('.json'));
    const sidecar = JSON.parse(await readFile(path.join(outDir, sidecars[0]!), 'utf8')) as Record<string, unknown>;
    expect([sidecar.estimatedCostUsd, sidecar.actualCostUsd]).toEqual([0.04, 0.06]);
    expect((sidecar.warnings as { field?: string }[]).some((warning) => warning.field === 'price')).toBe(true);
  });
});

describe('a job that fails after one of its calls delivered', () => {
  it('is charged for that call: the provider billed it though the job failed', async () => {
    credits = 6;
    refusedSeed = 2;
    bfl.reset();
    try {
      const budget = new Budget({ maxUsd: 1 });
      const summary = await runBatch({
        jobs: jobsOf(['a fox'], { model: 'black-forest-labs:flux-pro-1.1', seed: 1, count: 2 }),
        outDir: await folder(),
        cache: false,
        maxRetries: 0,
        providers: { 'black-forest-labs': createBlackForestLabs({ baseURL: bfl.url, apiKey: TEST_KEY, pollIntervalMillis: 1 }) },
        budget,
      });
      expect(summary).toMatchObject({ done: 0, failed: 1, spentUsd: 0.06 });
      expect([budget.spentUsd, budget.inFlightUsd]).toEqual([0.06, 0]);
    } finally {
      refusedSeed = undefined;
    }
  });
});

describe('imagegen batch --budget', { timeout: 30_000 }, () => {
  it('says what was spent and how many jobs were left unsent, exit 1; a re-run with a new budget finishes', async () => {
    await emulator();
    const cwd = await folder();
    await writeFile(path.join(cwd, 'prompts.txt'), `${prompts(4).join('\n')}\n`);
    const args = ['batch', 'prompts.txt', '-s', '256x256', '-c', '1', '--no-cache', '--price', `${SCHNELL}=0.01/image`];
    const first = memoryIO(cwd);
    expect(await runCli([...args, '--budget', '0.02'], first, { stopSignal: async () => {} })).toBe(1);
    expect(first.stderrText()).toContain('  estimated cost $0.0200\n');
    expect(first.stderrText()).toContain(
      '  budget $0.0200 reached: spent $0.0200, 2 jobs left unsent; run the same command again with a new --budget to continue (done requests are skipped)\n',
    );
    const second = memoryIO(cwd);
    expect(await runCli([...args, '--budget', '$1', '--json'], second, { stopSignal: async () => {} })).toBe(0);
    const { summary } = JSON.parse(second.stdoutText()) as { summary: Record<string, unknown> };
    expect(summary).toMatchObject({ done: 2, skipped: 2, spentUsd: 0.02, budget: { limitUsd: 1, spentUsd: 0.02, unsent: 0, exceeded: false } });
  });

  it.each([
    [['--budget', '0'], '--budget must be an amount in USD above 0, e.g. 5 or 0.50 (got "0")'],
    [['--budget', 'lots'], '--budget must be an amount in USD above 0, e.g. 5 or 0.50 (got "lots")'],
    [['--budget', '1', '-m', 'xai:grok-imagine-image'], '--budget cannot bound xai:grok-imagine-image: no price is known for it; give one with --price xai:grok-imagine-image=<usd>/image'],
  ])('%j exits 2 before anything is sent', async (flags, message) => {
    const server = await emulator();
    const cwd = await folder();
    await writeFile(path.join(cwd, 'prompts.txt'), 'a fox\n');
    const io = memoryIO(cwd);
    const previous = process.env.XAI_API_KEY;
    process.env.XAI_API_KEY = TEST_KEY;
    try {
      expect(await runCli(['batch', 'prompts.txt', ...flags], io, { stopSignal: async () => {} })).toBe(2);
    } finally {
      if (previous === undefined) delete process.env.XAI_API_KEY;
      else process.env.XAI_API_KEY = previous;
    }
    expect(io.stderrText()).toContain(`error: ${message}`);
    expect(server.stats().requests).toBe(0);
  });
});

describe('imagegen compare --budget', { timeout: 30_000 }, () => {
  it('runs the cells that fit, marks the rest not run with the reason, exit 1; a re-run with a new budget finishes', async () => {
    const server = await emulator();
    const cwd = await folder();
    const args = ['compare', '-p', 'a fox', '-p', 'a whale', '--models', SCHNELL, '--seeds', '1,2', '-s', '256x256', '-c', '1', '--no-cache', '-o', 'out', '--price', `${SCHNELL}=0.01/image`, '--json'];
    const first = memoryIO(cwd);
    expect(await runCli([...args, '--budget', '0.03'], first, { stopSignal: async () => {} })).toBe(1);
    const output = JSON.parse(first.stdoutText()) as { rows: { status: string; error: string | null }[]; budget: unknown };
    expect(output.rows.map((row) => row.status)).toEqual(['done', 'done', 'done', 'not-run']);
    expect(output.rows[3]?.error).toBe('not run: the budget of $0.0300 was reached; run it again with a new --budget to resume');
    expect(output.budget).toEqual({ limitUsd: 0.03, spentUsd: 0.03, unsent: 1, exceeded: true });
    expect(first.stderrText()).toContain('budget $0.0300 reached: spent $0.0300, 1 cell left unsent;');
    expect(server.stats().requests).toBe(3);

    const second = memoryIO(cwd);
    expect(await runCli([...args, '--budget', '1'], second, { stopSignal: async () => {} })).toBe(0);
    expect((JSON.parse(second.stdoutText()) as { rows: { status: string }[] }).rows.map((row) => row.status)).toEqual(['done', 'done', 'done', 'done']);
    expect(server.stats().requests).toBe(4);
  });

  it('a model without a price exits 2 before anything is sent', async () => {
    const io = memoryIO(await folder());
    expect(await runCli(['compare', '-p', 'x', '--models', `${SCHNELL},xai:grok-imagine-image`, '--budget', '1'], io, { stopSignal: async () => {} })).toBe(2);
    expect(io.stderrText()).toContain('error: --budget cannot bound xai:grok-imagine-image: no price is known for it;');
  });
});
