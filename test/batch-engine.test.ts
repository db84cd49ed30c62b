import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ImageCache } from '../src/batch/cache.js';
import { estimateBatch } from '../src/batch/dry-run.js';
import { exhaustedWindowMs, runBatch, type BatchEvent } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import type { JournalEntry } from '../src/batch/journal.js';
import { emulatorPerTest } from './helpers/emulators.js';

const emulator = emulatorPerTest();

const folder = () => mkdtemp(path.join(tmpdir(), 'imagegen-batch-'));
const jobsOf = (lines: string[], defaults = {}) =>
  parseBatchInput({ text: lines.join('\n'), format: 'text', defaults: { size: '256x256', ...defaults } }).jobs;
const fastBackoff = { minMs: 5, maxMs: 20 };

async function manifest(outDir: string): Promise<JournalEntry[]> {
  const text = await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8');
  return text.trim().split('\n').map((line) => JSON.parse(line) as JournalEntry);
}

describe('runBatch', () => {
  it('writes every image with its sidecar and journals each request', async () => {
    const server = await emulator();
    const outDir = await folder();
    const jobs = jobsOf(['a fox', 'a whale', 'a lighthouse'], { count: 2 });
    const summary = await runBatch({ jobs, outDir, cache: false });
    expect(summary).toMatchObject({ total: 3, done: 3, failed: 0, skipped: 0, images: 6, requests: 3 });
    expect(server.stats().requests).toBe(3);
    const entries = await manifest(outDir);
    expect(entries.map((entry) => entry.status)).toEqual(['done', 'done', 'done']);
    const files = (await readdir(outDir)).sort();
    expect(files.filter((file) => file.endsWith('.jpg'))).toHaveLength(6);
    expect(files.filter((file) => file.endsWith('.json'))).toHaveLength(6);
    for (const entry of entries) {
      for (const file of entry.files) {
        const metadata = await sharp(path.join(outDir, file)).metadata();
        expect([metadata.width, metadata.height]).toEqual([256, 256]);
      }
    }
  });

  it('re-running resumes: done requests are skipped, failed ones retried', async () => {
    const failing = await emulator({ failRate: { 500: 1 } });
    const outDir = await folder();
    const jobs = jobsOf(['a fox', 'a whale']);
    const first = await runBatch({ jobs, outDir, cache: false, maxRetries: 0 });
    expect(first).toMatchObject({ done: 0, failed: 2 });
    expect((await manifest(outDir)).map((entry) => entry.status)).toEqual(['failed', 'failed']);
    await failing.close();

    await emulator();
    const second = await runBatch({ jobs, outDir, cache: false });
    expect(second).toMatchObject({ done: 2, failed: 0, skipped: 0 });
    const third = await runBatch({ jobs, outDir, cache: false });
    expect(third).toMatchObject({ done: 0, skipped: 2, requests: 0 });
  });

  it('honours retry-after on 429', async () => {
    const server = await emulator({ rateLimit: { requests: 2, windowMs: 1000 } });
    const outDir = await folder();
    const events: BatchEvent[] = [];
    const summary = await runBatch({
      jobs: jobsOf(['a', 'b', 'c', 'd']),
      outDir,
      cache: false,
      backoff: fastBackoff,
      onEvent: (event) => events.push(event),
    });
    expect(summary).toMatchObject({ done: 4, failed: 0 });
    expect(summary.retries).toBeGreaterThan(0);
    expect(server.stats().byStatus['429']).toBe(summary.retries);
    // retry-after is 1 s: four requests at two per second cannot finish in under a second.
    expect(summary.durationMs).toBeGreaterThanOrEqual(900);
    expect(events.filter((event) => event.type === 'retry').length).toBe(summary.retries);
  });

  it('paces requests to the rate limit, so the provider never says 429', async () => {
    const server = await emulator({ rateLimit: { requests: 5, windowMs: 1000 } });
    // One start per 300 ms slot: any 1000 ms holds starts from at most 5 slots (0, 300, 600, 900 and
    // one more only if a request arrives 500 ms late). At 290/min (207 ms slots) a request delayed by
    // a loaded machine could make 6 arrive in one window: the provider's 429 then was the test's.
    const summary = await runBatch({
      jobs: jobsOf(['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h']),
      outDir: await folder(),
      cache: false,
      requestsPerMinute: 200,
      concurrency: 8,
      backoff: fastBackoff,
    });
    expect(summary).toMatchObject({ done: 8, retries: 0 });
    expect(server.stats().byStatus['429']).toBeUndefined();
  });

  it('a per-request timeout ends a hung request and retries it', async () => {
    const server = await emulator({ faults: { hang: 0.5 }, seed: 3 });
    const summary = await runBatch({
      jobs: jobsOf(['a', 'b', 'c', 'd']),
      outDir: await folder(),
      cache: false,
      timeoutMs: 300,
      backoff: fastBackoff,
      maxRetries: 10,
    });
    expect(summary).toMatchObject({ done: 4, failed: 0 });
    expect(server.stats().faults.hang).toBeGreaterThan(0);
    expect(summary.retries).toBeGreaterThanOrEqual(server.stats().faults.hang);
  });

  it('seeded requests come from the cache the second time: no request sent', async () => {
    const server = await emulator();
    const cache = new ImageCache(await folder());
    const jobs = jobsOf(['a fox', 'a whale'], { seed: 11, count: 2 });
    const firstDir = await folder();
    const first = await runBatch({ jobs, outDir: firstDir, cache });
    expect(first).toMatchObject({ done: 2, cached: 0, requests: 2 });
    const secondDir = await folder();
    const second = await runBatch({ jobs, outDir: secondDir, cache });
    expect(second).toMatchObject({ done: 2, cached: 2, requests: 0, images: 4 });
    expect(server.stats().requests).toBe(2);
    const sidecars = (await readdir(secondDir)).filter((file) => file.endsWith('.json') && file !== 'manifest.jsonl');
    expect(sidecars).toHaveLength(4);
    // A cache hit's sidecar is a generated image's, under the same name: the same fields, marked cached.
    for (const name of sidecars) {
      const generated = JSON.parse(await readFile(path.join(firstDir, name), 'utf8')) as Record<string, unknown>;
      const served = JSON.parse(await readFile(path.join(secondDir, name), 'utf8')) as Record<string, unknown>;
      expect(Object.keys(served).sort()).toEqual(Object.keys(generated).sort());
      expect(served).toMatchObject({ cached: true, latencyMs: null, estimatedCostUsd: 0, actualCostUsd: 0, generator: 'ai-imagegen' });
      const { cached: _c, latencyMs: _l, estimatedCostUsd: _e, actualCostUsd: _a, durationMs: _d, createdAt: _t, ...same } = served;
      expect(generated).toMatchObject(same);
    }
    // Bypassed: requests again.
    const third = await runBatch({ jobs, outDir: await folder(), cache: false });
    expect(third.requests).toBe(2);
    // Unseeded requests are never served from the cache.
    const unseeded = await runBatch({ jobs: jobsOf(['a fox']), outDir: await folder(), cache });
    expect(unseeded.cached).toBe(0);
  });

  it('a stop signal lets in-flight requests finish and leaves the rest for the next run', async () => {
    await emulator({ latency: 150 });
    const outDir = await folder();
    const jobs = jobsOf(['a', 'b', 'c', 'd', 'e', 'f']);
    const stop = new AbortController();
    const summary = await runBatch({
      jobs,
      outDir,
      cache: false,
      concurrency: 2,
      signal: stop.signal,
      onEvent: (event) => event.type === 'done' && stop.abort(),
    });
    expect(summary.stopped).toBe(true);
    expect(summary.done).toBeGreaterThanOrEqual(1);
    expect(summary.done + summary.pending).toBe(6);
    expect(summary.failed).toBe(0);
    const resumed = await runBatch({ jobs, outDir, cache: false });
    expect(resumed).toMatchObject({ skipped: summary.done, done: 6 - summary.done });
  });

  it('dry run: requests, images, megapixels and cost from the catalog, nothing sent', async () => {
    const server = await emulator();
    const jobs = jobsOf(['a', 'b'], { count: 6, model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '1024x1024' });
    const estimate = await estimateBatch({ jobs, outDir: await folder() });
    expect(estimate).toMatchObject({ requests: 4, images: 12, megapixels: 12.583, estimatedCostUsd: 0.033974 });
    expect(server.stats().requests).toBe(0);
  });
});

describe('planned once, reference files read once', () => {
  const kontextJobs = async (count: number) => {
    const reference = path.join(await folder(), 'reference.png');
    const { writeFile } = await import('node:fs/promises');
    const { renderPlaceholder } = await import('../src/placeholder/render.js');
    await writeFile(reference, renderPlaceholder({ prompt: 'a', seed: 1, width: 16, height: 16, format: 'png' }));
    const lines = Array.from({ length: count }, (_, index) =>
      JSON.stringify({ prompt: `make it blue ${index}`, model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '512x512', referenceImages: [reference] }),
    );
    return { reference, text: lines.join('\n') };
  };
  const countingReads = () => {
    const reads: string[] = [];
    const readFile = async (file: string, options: { maxBytes: number; signal?: AbortSignal }) => {
      reads.push(file);
      const { readImageFile } = await import('../src/files/files.js');
      return readImageFile(file, options);
    };
    return { reads, readFile };
  };

  it('runBatch plans each job once when it sends it: each reference file read once per job', async () => {
    const server = await emulator();
    const { reference, text } = await kontextJobs(3);
    const { reads, readFile } = countingReads();
    const summary = await runBatch({ jobs: parseBatchInput({ text, format: 'jsonl' }).jobs, outDir: await folder(), cache: false, readFile });
    expect(summary).toMatchObject({ done: 3, failed: 0 });
    expect(server.stats().requests).toBe(3);
    expect(reads).toEqual([reference, reference, reference]);
  });

  it('checkBatchFile: one planning pass checks the file (validation, keys, room), a reference read once per job; a run not given the plans plans again (imagegen batch gives them: batch-plans.test.ts)', async () => {
    await emulator();
    const { reference, text } = await kontextJobs(4);
    const file = path.join(await folder(), 'requests.jsonl');
    const { writeFile } = await import('node:fs/promises');
    await writeFile(file, text);
    const { checkBatchFile, validBatchJobs } = await import('../src/batch/load.js');
    const checking = countingReads();
    const check = await checkBatchFile({ file, readFile: checking.readFile, checkKeys: true, keys: false });
    expect(check).toMatchObject({ valid: 4, errors: [], keyProblems: [] });
    expect(checking.reads).toEqual(Array.from({ length: 4 }, () => reference));
    const running = countingReads();
    const summary = await runBatch({
      jobs: validBatchJobs({ file, invalidLines: check.invalidLines }),
      total: check.valid,
      bytesNeeded: check.bytesNeeded,
      outDir: await folder(),
      cache: false,
      readFile: running.readFile,
    });
    expect(summary).toMatchObject({ total: 4, done: 4 });
    expect(running.reads).toEqual(Array.from({ length: 4 }, () => reference));
  });

  it('a job planned by its caller (as compare does) is not planned again', async () => {
    await emulator();
    const { text } = await kontextJobs(2);
    const jobs = parseBatchInput({ text, format: 'jsonl' }).jobs;
    const { prepareGeneration } = await import('../src/generate.js');
    const { readImageFile } = await import('../src/files/files.js');
    const plans = new Map(await Promise.all(jobs.map(async (job) => [job.key, await prepareGeneration(job.request, { readFile: readImageFile })] as const)));
    const unplanned = countingReads();
    expect(await runBatch({ jobs, outDir: await folder(), cache: false, readFile: unplanned.readFile })).toMatchObject({ done: 2 });
    expect(unplanned.reads).toHaveLength(2);
    const { reads, readFile } = countingReads();
    const summary = await runBatch({ jobs, outDir: await folder(), cache: false, readFile, prepared: (job) => plans.get(job.key) });
    expect(summary).toMatchObject({ done: 2 });
    expect(reads).toEqual([]);
  });
});

describe('jobs as a stream', () => {
  it('runs a stream read as jobs are needed, at most a bounded number ahead, and resumes it', async () => {
    const server = await emulator({ latency: 20 });
    const outDir = await folder();
    const jobs = jobsOf(Array.from({ length: 12 }, (_, index) => `a fox ${index}`));
    let taken = 0;
    let mostAhead = 0;
    let finished = 0;
    async function* stream() {
      for (const job of jobs) {
        taken++;
        mostAhead = Math.max(mostAhead, taken - finished);
        yield job;
      }
    }
    const events: BatchEvent['type'][] = [];
    const summary = await runBatch({
      jobs: stream(),
      total: jobs.length,
      outDir,
      cache: false,
      concurrency: 2,
      onEvent: (event) => {
        events.push(event.type);
        if (event.type === 'done') finished++;
      },
    });
    expect(summary).toMatchObject({ total: 12, done: 12, failed: 0 });
    expect(server.stats().requests).toBe(12);
    // concurrency 2: four jobs in progress at most, and the one being taken.
    expect(mostAhead).toBeLessThanOrEqual(5);
    expect(events[0]).toBe('start');
    const again = await runBatch({ jobs: stream(), outDir, cache: false });
    expect(again).toMatchObject({ total: 12, skipped: 12, done: 0, requests: 0 });
  });

  it('a stop ends the reading of a counted stream: the rest are not started, and the next run does them', async () => {
    await emulator({ latency: 100 });
    const outDir = await folder();
    const jobs = jobsOf(Array.from({ length: 40 }, (_, index) => `a whale ${index}`));
    let taken = 0;
    async function* stream() {
      for (const job of jobs) {
        taken++;
        yield job;
      }
    }
    const stop = new AbortController();
    const summary = await runBatch({ jobs: stream(), total: jobs.length, outDir, cache: false, concurrency: 1, signal: stop.signal, onEvent: (event) => event.type === 'done' && stop.abort() });
    expect(summary.stopped).toBe(true);
    expect(summary.done + summary.pending + summary.failed).toBe(40);
    expect(taken).toBeLessThan(10);
    taken = 0;
    const resumed = await runBatch({ jobs: stream(), total: jobs.length, alreadyDone: summary.done, outDir, cache: false });
    expect(resumed).toMatchObject({ total: 40, skipped: summary.done, done: 40 - summary.done, failed: 0 });
  });
});

describe('the cache and reference images', () => {
  it('an edited reference file is a different request: not served from the cache', async () => {
    await emulator();
    const cache = new ImageCache(await folder());
    const reference = path.join(await folder(), 'ref.png');
    const { writeFile } = await import('node:fs/promises');
    const { renderPlaceholder } = await import('../src/placeholder/render.js');
    const request = { model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', size: '512x512', referenceImages: [reference], seed: 5 };
    const jobs = parseBatchInput({ text: JSON.stringify({ prompt: 'make it blue', ...request }), format: 'jsonl' }).jobs;
    await writeFile(reference, renderPlaceholder({ prompt: 'a', seed: 1, width: 16, height: 16, format: 'png' }));
    expect(await runBatch({ jobs, outDir: await folder(), cache })).toMatchObject({ done: 1, cached: 0 });
    expect(await runBatch({ jobs, outDir: await folder(), cache })).toMatchObject({ done: 1, cached: 1 });
    await writeFile(reference, renderPlaceholder({ prompt: 'b', seed: 2, width: 16, height: 16, format: 'png' }));
    expect(await runBatch({ jobs, outDir: await folder(), cache })).toMatchObject({ done: 1, cached: 0, requests: 1 });
  });
});

describe('following the provider\'s rate-limit headers', () => {
  it('with no --rate-limit, a spent window (x-ratelimit-remaining: 0) holds the queue until the reset', async () => {
    // A window far longer than four requests take, so the request after the fourth always meets it.
    const server = await emulator({ rateLimit: { requests: 4, windowMs: 2000 } });
    const summary = await runBatch({
      // One call per image: all nine calls wait in the queue at once, so the next one is always
      // ready to start the moment a call hands back its slot.
      jobs: jobsOf(['a harbour at night'], { model: 'togetherai:black-forest-labs/FLUX.1.1-pro', count: 9 }),
      outDir: await folder(),
      cache: false,
      concurrency: 1,
      backoff: fastBackoff,
    });
    expect(summary).toMatchObject({ done: 1, failed: 0, retries: 0, images: 9 });
    // One request at a time: the queue is paused before the request that spent the window hands
    // back its slot, so no request ever meets a spent window (this failed when the pause came late).
    expect(server.stats().byStatus['429']).toBeUndefined();
    expect(server.stats().requests).toBe(9);
    // Two 2 s windows take 4 s by design: vitest's 5 s default left no room on a loaded machine.
  }, 20_000);

  it('with requests in flight when a window runs out, only those meet a 429', async () => {
    const server = await emulator({ rateLimit: { requests: 5, windowMs: 1000 } });
    const summary = await runBatch({
      jobs: jobsOf(Array.from({ length: 15 }, (_, index) => `scene ${index}`)),
      outDir: await folder(),
      cache: false,
      concurrency: 2,
      backoff: fastBackoff,
    });
    expect(summary).toMatchObject({ done: 15, failed: 0 });
    // At most the one other request already in flight when a window runs out: one per window.
    expect(server.stats().byStatus['429'] ?? 0).toBeLessThanOrEqual(3);
  });

  it('reads only a spent window with a sane reset', () => {
    expect(exhaustedWindowMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '2' })).toBe(2000);
    expect(exhaustedWindowMs({ 'x-ratelimit-remaining': '3', 'x-ratelimit-reset': '2' })).toBeUndefined();
    expect(exhaustedWindowMs({ 'x-ratelimit-remaining': '0', 'x-ratelimit-reset': '86400' })).toBeUndefined();
    expect(exhaustedWindowMs({ 'x-ratelimit-remaining': '0' })).toBeUndefined();
    expect(exhaustedWindowMs(undefined)).toBeUndefined();
  });
});
