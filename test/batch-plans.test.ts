import { appendFile, mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import type { PreparedGeneration } from '../src/generate.js';
import type { PlanBudget, PlanStore } from '../src/batch/plan-store.js';
import type { Sidecar } from '../src/files/files.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { runCli } from '../src/cli/main.js';
import { renderPlaceholder } from '../src/placeholder/render.js';
import { memoryIO } from './helpers/cli.js';

// `imagegen batch` as a user runs it, with every plan it makes, every reference file it reads and
// every plan store it fills recorded on the way (the real functions do the work).
const recorded = vi.hoisted(() => ({
  plans: [] as PreparedGeneration[],
  reads: [] as string[],
  stores: [] as PlanStore[],
  budget: undefined as PlanBudget | undefined,
}));

vi.mock('../src/generate.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/generate.js')>();
  return {
    ...actual,
    prepareGeneration: async (...parameters: Parameters<typeof actual.prepareGeneration>) => {
      const prepared = await actual.prepareGeneration(...parameters);
      recorded.plans.push(prepared);
      return prepared;
    },
  };
});

vi.mock('../src/files/files.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/files/files.js')>();
  return {
    ...actual,
    readImageFile: (file: string, options: Parameters<typeof actual.readImageFile>[1]) => {
      recorded.reads.push(file);
      return actual.readImageFile(file, options);
    },
  };
});

vi.mock('../src/batch/plan-store.js', async (importOriginal) => {
  const actual = await importOriginal<typeof import('../src/batch/plan-store.js')>();
  class RecordedPlanStore extends actual.PlanStore {
    constructor(budget?: PlanBudget) {
      super(budget ?? recorded.budget ?? actual.DEFAULT_PLAN_BUDGET);
      recorded.stores.push(this);
    }
  }
  return { ...actual, PlanStore: RecordedPlanStore };
});

let emulator: Emulator;
let folder: string;
let reference: string;
beforeAll(async () => {
  emulator = await startEmulator({ quiet: true, seed: 7 });
  vi.stubEnv('TOGETHER_API_KEY', 'test-key');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-batch-plans-'));
  reference = path.join(folder, 'reference.png');
  await writeFile(reference, renderPlaceholder({ prompt: 'a', seed: 1, width: 16, height: 16, format: 'png' }));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
});
beforeEach(() => {
  recorded.plans.length = 0;
  recorded.reads.length = 0;
  recorded.stores.length = 0;
  recorded.budget = undefined;
});

/** Kontext jobs with a reference file each, no seed given (one is chosen). */
const kontextLines = (from: number, count: number) =>
  Array.from({ length: count }, (_, index) =>
    JSON.stringify({ prompt: `make it blue ${from + index}`, model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '512x512', referenceImages: [reference] }),
  );

async function batchFile(name: string, lines: string[]): Promise<string> {
  const file = path.join(folder, name);
  await writeFile(file, `${lines.join('\n')}\n`);
  return file;
}

async function runBatchCommand(file: string, out: string, ...flags: string[]): Promise<{ code: number; summary: Record<string, unknown> }> {
  const io = memoryIO(folder);
  const code = await runCli(['batch', file, '-o', out, '--json', ...flags], io);
  const output = io.stdoutText();
  return { code, summary: output === '' ? {} : (JSON.parse(output) as { summary: Record<string, unknown> }).summary };
}

async function sidecars(out: string): Promise<Sidecar[]> {
  const names = (await readdir(out)).filter((name) => name.endsWith('.json'));
  return Promise.all(names.map(async (name) => JSON.parse(await readFile(path.join(out, name), 'utf8')) as Sidecar));
}

const readsOfReference = () => recorded.reads.filter((file) => file === reference).length;

describe('imagegen batch: a job is planned once, in the check pass', () => {
  it('a small file: each job planned once and its reference file read once; the run takes every plan from the store', async () => {
    const file = await batchFile('small.jsonl', kontextLines(0, 4));
    const before = emulator.stats().requests;
    const { code, summary } = await runBatchCommand(file, path.join(folder, 'small-out'));
    expect(code).toBe(0);
    expect(summary).toMatchObject({ total: 4, done: 4, failed: 0 });
    expect(emulator.stats().requests - before).toBe(4);
    expect(recorded.plans.map((prepared) => prepared.plan.prompt)).toEqual(['make it blue 0', 'make it blue 1', 'make it blue 2', 'make it blue 3']);
    expect(readsOfReference()).toBe(4);
    expect(recorded.stores).toHaveLength(1);
    expect(recorded.stores[0]!.peak.jobs).toBe(4);
    expect(recorded.stores[0]!.size).toEqual({ jobs: 0, bytes: 0 });
  });

  it('the seed chosen in the check pass is the one sent and recorded (sidecar and manifest)', async () => {
    const file = await batchFile('seeds.jsonl', kontextLines(10, 3));
    const out = path.join(folder, 'seeds-out');
    expect((await runBatchCommand(file, out)).code).toBe(0);
    // The check pass plans the three lines first, before the run starts.
    const planned = new Map(recorded.plans.slice(0, 3).map((prepared) => [prepared.plan.prompt, prepared.plan.resolved.seed]));
    expect(planned.size).toBe(3);
    for (const seed of planned.values()) expect(seed).toEqual(expect.any(Number));
    const written = await sidecars(out);
    expect(written).toHaveLength(3);
    for (const sidecar of written) expect(sidecar.seed).toBe(planned.get((sidecar.request as { prompt: string }).prompt));
    const manifest = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { line: number; seed: number });
    expect(manifest.map((entry) => entry.seed).sort()).toEqual([...planned.values()].sort());
  });

  it('a file over the budget: the jobs past it are planned again at their turn (twice), the others once; the store never holds more than its budget', async () => {
    recorded.budget = { jobs: 2, bytes: 64 * 1024 * 1024 };
    const file = await batchFile('over-jobs.jsonl', kontextLines(20, 5));
    const out = path.join(folder, 'over-jobs-out');
    const { code, summary } = await runBatchCommand(file, out);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ total: 5, done: 5, failed: 0 });
    const timesPlanned = (prompt: string) => recorded.plans.filter((prepared) => prepared.plan.prompt === prompt).length;
    expect([20, 21, 22, 23, 24].map((index) => timesPlanned(`make it blue ${index}`))).toEqual([1, 1, 2, 2, 2]);
    expect(readsOfReference()).toBe(5 + 3);
    expect(recorded.stores[0]!.peak).toMatchObject({ jobs: 2 });
    // A job planned again draws its seed again: the one sent and recorded is the run's (its last plan);
    // the check pass's draw was never sent, shown or written.
    const lastSeed = new Map(recorded.plans.map((prepared) => [prepared.plan.prompt, prepared.plan.resolved.seed]));
    const written = await sidecars(out);
    expect(written).toHaveLength(5);
    for (const sidecar of written) expect(sidecar.seed).toBe(lastSeed.get((sidecar.request as { prompt: string }).prompt));
  });

  it('a budget in bytes of reference data: the plans that fit are kept, the rest planned again', async () => {
    const { referenceBytes } = await import('../src/batch/plan-store.js');
    // The first run measures what one job's plan holds of its reference image (bytes and data URL).
    await runBatchCommand(await batchFile('measure.jsonl', kontextLines(30, 1)), path.join(folder, 'measure-out'));
    const perJob = referenceBytes(recorded.plans[0]!);
    expect(perJob).toBeGreaterThan(0);
    recorded.plans.length = 0;
    recorded.reads.length = 0;
    recorded.budget = { jobs: 100, bytes: Math.floor(perJob * 2.5) };
    const { code } = await runBatchCommand(await batchFile('over-bytes.jsonl', kontextLines(40, 4)), path.join(folder, 'over-bytes-out'));
    expect(code).toBe(0);
    expect(readsOfReference()).toBe(4 + 2);
    expect(recorded.stores.at(-1)!.peak).toEqual({ jobs: 2, bytes: perJob * 2 });
  });

  it('a resumed run keeps no plan of the jobs already done, and plans each of the others once', async () => {
    const out = path.join(folder, 'resume-out');
    const file = await batchFile('resume.jsonl', kontextLines(50, 2));
    expect((await runBatchCommand(file, out)).code).toBe(0);
    recorded.plans.length = 0;
    recorded.reads.length = 0;
    await appendFile(file, `${kontextLines(52, 2).join('\n')}\n`);
    const { code, summary } = await runBatchCommand(file, out);
    expect(code).toBe(0);
    expect(summary).toMatchObject({ total: 4, skipped: 2, done: 2 });
    // The check pass validates every line (done ones too), and keeps the plans of the two to run.
    expect(recorded.plans).toHaveLength(4);
    expect(readsOfReference()).toBe(4);
    expect(recorded.stores.at(-1)!.peak.jobs).toBe(2);
  });

  it('--dry-run keeps no plan; a missing key stops before the run as before, nothing sent', async () => {
    const file = await batchFile('dry.jsonl', kontextLines(60, 2));
    const dry = memoryIO(folder);
    expect(await runCli(['batch', file, '-o', path.join(folder, 'dry-out'), '--dry-run'], dry)).toBe(0);
    expect(dry.stdoutText()).toMatch(/^dry run, nothing sent: 2 requests/);
    expect(recorded.stores[0]!.peak.jobs).toBe(0);

    vi.stubEnv('TOGETHER_API_KEY', '');
    try {
      const before = emulator.stats().requests;
      const io = memoryIO(folder);
      const code = await runCli(['batch', file, '-o', path.join(folder, 'no-key-out')], io);
      expect(code).toBe(2);
      expect(io.stderrText()).toMatch(/TOGETHER_API_KEY/);
      expect(emulator.stats().requests).toBe(before);
    } finally {
      vi.stubEnv('TOGETHER_API_KEY', 'test-key');
    }
  });
});

describe('PlanStore', () => {
  it('keeps plans up to its budget in jobs and in reference bytes, gives each once, and not for an edited line', async () => {
    const { PlanStore: Store, referenceBytes } = await vi.importActual<typeof import('../src/batch/plan-store.js')>('../src/batch/plan-store.js');
    const { prepareGeneration } = await vi.importActual<typeof import('../src/generate.js')>('../src/generate.js');
    const { readImageFile } = await vi.importActual<typeof import('../src/files/files.js')>('../src/files/files.js');
    const { parseBatchInput } = await import('../src/batch/input.js');
    const jobs = parseBatchInput({ text: [...kontextLines(70, 2), JSON.stringify({ prompt: 'no reference', model: 'local:placeholder', size: '64x64' })].join('\n'), format: 'jsonl' }).jobs;
    const [first, second, third] = await Promise.all(jobs.map((job) => prepareGeneration(job.request, { readFile: readImageFile, checkKey: false })));
    const perJob = referenceBytes(first!);
    expect(referenceBytes(third!)).toBe(0);

    const store = new Store({ jobs: 2, bytes: perJob });
    expect(store.keep(jobs[0]!, first!)).toBe(true);
    expect(store.keep(jobs[1]!, second!)).toBe(false); // over the bytes
    expect(store.keep(jobs[2]!, third!)).toBe(true); // no reference data: fits
    expect(store.size).toEqual({ jobs: 2, bytes: perJob });
    expect(store.keep(jobs[1]!, second!)).toBe(false); // over the jobs
    // Given back as kept: the plan's own objects copied (see ownCopy), the catalog entry and the
    // model source shared, and the calls still the plan's calls.
    const taken = store.take(jobs[2]!)!;
    expect(taken).toEqual(third);
    expect(taken.plan).not.toBe(third!.plan);
    expect(taken.plan.model).toBe(third!.plan.model);
    expect(taken.source).toBe(third!.source);
    expect(taken.calls[0]!.call).toBe(taken.plan.calls[0]);
    expect(store.take(jobs[2]!)).toBeUndefined();
    // A line edited between the check and the run gets no plan (it is planned again), and frees its room.
    expect(store.take({ ...jobs[0]!, request: { ...jobs[0]!.request, prompt: 'make it red' } })).toBeUndefined();
    expect(store.size).toEqual({ jobs: 0, bytes: 0 });
    expect(store.peak).toEqual({ jobs: 2, bytes: perJob });
  });
});
