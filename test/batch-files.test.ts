import { createTogetherAI } from '@ai-sdk/togetherai';
import { spawn } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { ImageCache } from '../src/batch/cache.js';
import { runBatch, type BatchEvent } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import type { JournalEntry } from '../src/batch/journal.js';
import { LOCK_NAME, lockOutputFolder, OutputFolderLockedError } from '../src/batch/output-lock.js';
import { emulatorPerTest } from './helpers/emulators.js';
import { InvalidRequestError } from '../src/errors/errors.js';
import { TEMPORARY_FILE_PREFIX } from '../src/files/files.js';
import { startProviderServer } from './helpers/provider-server.js';
import { mountTmpfs, tmpfsSupport } from './helpers/tmpfs.js';

const cleanups: (() => void)[] = [];
// Registered first so that it runs after the emulators are closed (vitest runs after-hooks as a stack).
afterEach(() => {
  for (const cleanup of cleanups.splice(0)) cleanup();
});
const emulator = emulatorPerTest();

const folder = () => mkdtemp(path.join(tmpdir(), 'imagegen-files-'));
const jobsOf = (count: number, defaults = {}) =>
  parseBatchInput({
    text: Array.from({ length: count }, (_, index) => `scene number ${index}`).join('\n'),
    format: 'text',
    defaults: { size: '256x256', ...defaults },
  }).jobs;
const fastBackoff = { minMs: 5, maxMs: 20 };
const tmpfsNote = tmpfsSupport.available ? '' : ` (skipped: ${tmpfsSupport.reason})`;
if (!tmpfsSupport.available) console.warn(`disk-full and read-only tests skipped: ${tmpfsSupport.reason}`);

async function manifest(outDir: string): Promise<JournalEntry[]> {
  const text = await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8').catch(() => '');
  expect(text === '' || text.endsWith('\n')).toBe(true);
  return text.split('\n').filter(Boolean).map((line) => JSON.parse(line) as JournalEntry);
}

/** Images that a done entry lists and that decode: the ones the user has. */
async function keptImages(outDir: string): Promise<number> {
  let kept = 0;
  for (const entry of await manifest(outDir)) {
    if (entry.status !== 'done') continue;
    for (const file of entry.files) {
      const metadata = await sharp(path.join(outDir, file)).metadata().catch(() => undefined);
      if (metadata?.width) kept++;
    }
  }
  return kept;
}

describe('disk full mid-batch (defect 1)', () => {
  it.skipIf(!tmpfsSupport.available)(`stops sending at the first ENOSPC, keeps the manifest whole, says how to resume${tmpfsNote}`, async () => {
    const server = await emulator();
    const disk = mountTmpfs({ size: '2m' });
    cleanups.push(disk.unmount);
    // Leave room for some images, but not for 80.
    const { bavail, bsize } = await statfs(disk.dir);
    await writeFile(path.join(disk.dir, 'filler'), new Uint8Array(Number(bavail) * Number(bsize) - 400 * 1024));
    const outDir = path.join(disk.dir, 'out');
    const jobs = jobsOf(80, { outputFormat: 'png' });
    const events: BatchEvent[] = [];
    const summary = await runBatch({ jobs, outDir, cache: false, concurrency: 2, backoff: fastBackoff, onEvent: (event) => events.push(event) });

    expect(summary.fileSystemError).toMatch(/^ENOSPC/);
    expect(summary.stopped).toBe(true);
    expect(events.filter((event) => event.type === 'file-system-fault')).toHaveLength(1);
    const sent = server.stats().requests;
    // Only what was in flight when the disk filled up was paid for and not kept (2 calls, 4 jobs in progress).
    expect(sent - summary.done).toBeLessThanOrEqual(4);
    expect(sent).toBeLessThan(80);
    expect(summary.pending).toBeGreaterThan(0);
    expect(summary.done + summary.failed + summary.pending).toBe(80);
    expect(await keptImages(outDir)).toBe(summary.done);
    // Failed entries that did send a request say so.
    for (const entry of (await manifest(outDir)).filter((item) => item.status === 'failed')) expect(entry.requests).toBeGreaterThan(0);

    // Free the space and run again: it resumes and finishes, each image once.
    await rm(path.join(disk.dir, 'filler'));
    disk.remount('size=8m');
    const resumed = await runBatch({ jobs, outDir, cache: false, concurrency: 2, backoff: fastBackoff });
    expect(resumed).toMatchObject({ failed: 0, skipped: summary.done, done: 80 - summary.done });
    expect(await keptImages(outDir)).toBe(80);
  });
});

describe('read-only or unwritable --out (defect 2)', () => {
  it.skipIf(!tmpfsSupport.available)(`a read-only folder is refused before the first request${tmpfsNote}`, async () => {
    const server = await emulator();
    const disk = mountTmpfs({ size: '1m', readOnly: true });
    cleanups.push(disk.unmount);
    const error = await runBatch({ jobs: jobsOf(5), outDir: disk.dir, cache: false }).catch((caught: unknown) => caught);
    expect(InvalidRequestError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('EROFS');
    expect((error as InvalidRequestError).issues[0]).toMatchObject({ field: 'outDir', value: disk.dir });
    expect(server.stats().requests).toBe(0);
  });

  it.skipIf(!tmpfsSupport.available)(`a folder without room for one image is refused before the first request${tmpfsNote}`, async () => {
    const server = await emulator();
    const disk = mountTmpfs({ size: '256k' });
    cleanups.push(disk.unmount);
    const error = await runBatch({ jobs: jobsOf(2, { size: '1024x1024' }), outDir: disk.dir, cache: false }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/free; one image needs about 3\.1 MB/);
    expect(server.stats().requests).toBe(0);
  });

  it('an --out that is a file is refused before the first request', async () => {
    const server = await emulator();
    const file = path.join(await folder(), 'not-a-folder');
    await writeFile(file, 'x');
    const error = await runBatch({ jobs: jobsOf(2), outDir: file, cache: false }).catch((caught: unknown) => caught);
    expect((error as Error).message).toMatch(/outDir: is a file, not a folder/);
    expect(server.stats().requests).toBe(0);
  });
});

describe('a lost manifest', () => {
  it('emptied: a re-run finds the jobs whose images and sidecars are on disk and sends nothing for them', async () => {
    const server = await emulator();
    const outDir = await folder();
    const jobs = [...jobsOf(5), ...jobsOf(1, { count: 2 }).map((job) => ({ ...job, line: 6 }))];
    const first = await runBatch({ jobs, outDir, cache: false });
    expect(first.done).toBe(6);
    const sent = server.stats().requests;
    // One job's second image is gone: that job alone is sent again.
    const partial = (await manifest(outDir)).find((entry) => entry.files.length === 2)!;
    await rm(path.join(outDir, partial.files[1]!));
    await truncate(path.join(outDir, 'manifest.jsonl'), 0);

    const second = await runBatch({ jobs, outDir, cache: false });
    expect(second).toMatchObject({ skipped: 5, done: 1, failed: 0 });
    expect(server.stats().requests - sent).toBe(1);
    expect((await manifest(outDir)).filter((entry) => entry.status === 'done')).toHaveLength(6);
    expect(await keptImages(outDir)).toBe(7);
  });
});

describe('one run per output folder (defect 3)', () => {
  it('three runs of one file into one folder at once: one runs, two are refused, each request once', async () => {
    const server = await emulator({ latency: 20 });
    const outDir = await folder();
    const jobs = jobsOf(12);
    const results = await Promise.allSettled([0, 1, 2].map(() => runBatch({ jobs, outDir, cache: false, concurrency: 2 })));
    const refused = results.filter((result) => result.status === 'rejected');
    expect(refused).toHaveLength(2);
    for (const result of refused) {
      expect(OutputFolderLockedError.prototype.isPrototypeOf((result as PromiseRejectedResult).reason)).toBe(true);
      expect(String((result as PromiseRejectedResult).reason.message)).toMatch(/another imagegen run( \(pid \d+ on .*\))? is writing to .*; nothing was sent/);
    }
    expect(server.stats().requests).toBe(12);
    expect(await keptImages(outDir)).toBe(12);
    // The lock is gone once the run ends.
    expect((await readdir(outDir)).includes(LOCK_NAME)).toBe(false);
  });

  it('a held lock stays held across its mtime refreshes (the owner file must not look like a takeover)', async () => {
    const outDir = await folder();
    const lost: Error[] = [];
    // proper-lockfile's shortest stale time: it refreshes the lock every 2.5 s and checks the mtime is still its own.
    const release = await lockOutputFolder({ folder: outDir, onCompromised: (error) => lost.push(error), staleMs: 5000 });
    await new Promise((resolve) => setTimeout(resolve, 3500));
    expect(lost).toEqual([]);
    await release();
  });

  it('the lock deleted mid-run: no request starts after it (only those in flight finish); a second run does the rest, none paid twice', async () => {
    const server = await emulator({ latency: { fixedMs: 80, jitterMs: 0 } });
    const outDir = await folder();
    const jobs = jobsOf(24);
    let requestsAtDeletion: number | undefined;
    const first = runBatch({
      jobs,
      outDir,
      cache: false,
      concurrency: 2,
      onEvent: (event) => {
        if (event.type === 'done' && requestsAtDeletion === undefined) {
          requestsAtDeletion = server.stats().requests;
          void rm(path.join(outDir, LOCK_NAME), { recursive: true, force: true });
        }
      },
    });
    const stopped = await first;
    expect(stopped.fileSystemError).toMatch(/lock/);
    // At most the two requests in flight when it was deleted (and the one that saw it first) were sent after.
    expect(server.stats().requests - requestsAtDeletion!).toBeLessThanOrEqual(3);
    expect(stopped.done).toBeLessThan(24);
    const second = await runBatch({ jobs, outDir, cache: false, concurrency: 2 });
    expect(second.done + second.skipped).toBe(24);
    expect(await keptImages(outDir)).toBe(24);
    expect(server.stats().requests).toBeLessThanOrEqual(24 + 3);
  });

  it('a lock left by a killed process long ago (stale: proper-lockfile would rmdir it, the owner file inside) is taken over too', async () => {
    await emulator();
    const outDir = await folder();
    await mkdir(path.join(outDir, LOCK_NAME));
    await writeFile(path.join(outDir, LOCK_NAME, 'owner.json'), JSON.stringify({ pid: await exitedPid(), hostname: (await import('node:os')).hostname(), startedAt: 'then' }));
    const { utimes } = await import('node:fs/promises');
    const longAgo = new Date(Date.now() - 60_000);
    await utimes(path.join(outDir, LOCK_NAME), longAgo, longAgo);
    const summary = await runBatch({ jobs: jobsOf(2), outDir, cache: false });
    expect(summary).toMatchObject({ done: 2, failed: 0 });
  });

  it('a lock left by a killed process is taken over at once; only stale temporary files are swept', async () => {
    await emulator();
    const outDir = await folder();
    const dead = await exitedPid();
    const living = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60000)'], { stdio: 'ignore' });
    cleanups.push(() => living.kill('SIGKILL'));
    await mkdir(path.join(outDir, LOCK_NAME));
    await writeFile(path.join(outDir, LOCK_NAME, 'owner.json'), JSON.stringify({ pid: dead, hostname: (await import('node:os')).hostname(), startedAt: 'then' }));
    await writeFile(path.join(outDir, `${TEMPORARY_FILE_PREFIX}${dead}-left-by-a-kill`), 'x');
    await writeFile(path.join(outDir, `${TEMPORARY_FILE_PREFIX}${living.pid}-still-being-written`), 'x');

    const summary = await runBatch({ jobs: jobsOf(2), outDir, cache: false });
    expect(summary).toMatchObject({ done: 2, failed: 0 });
    const names = await readdir(outDir);
    expect(names.filter((name) => name.startsWith(TEMPORARY_FILE_PREFIX))).toEqual([`${TEMPORARY_FILE_PREFIX}${living.pid}-still-being-written`]);
  });
});

describe('errors that repeat for every job stop that provider or model (defect 5)', () => {
  it('404 model: one request, the rest recorded as failed with the reason, one event; a re-run retries them', async () => {
    const server = await emulator();
    const outDir = await folder();
    const jobs = jobsOf(8, { model: 'togetherai:no-such-org/no-such-model' });
    const events: BatchEvent[] = [];
    const summary = await runBatch({ jobs, outDir, cache: false, concurrency: 1, onEvent: (event) => events.push(event) });
    expect(server.stats().requests).toBe(1);
    expect(summary).toMatchObject({ done: 0, failed: 8, requests: 1 });
    expect(summary.openCircuits).toEqual([{ scope: 'togetherai:no-such-org/no-such-model', reason: expect.stringContaining('HTTP 404'), line: 1 }]);
    expect(events.filter((event) => event.type === 'circuit-open')).toHaveLength(1);
    const entries = await manifest(outDir);
    expect(entries.filter((entry) => entry.error?.startsWith('not sent: togetherai:no-such-org/no-such-model answered HTTP 404 on line'))).toHaveLength(7);
    expect(entries.filter((entry) => entry.requests === 1)).toHaveLength(1);
    // A re-run tries again (once) rather than trusting the old failure.
    await runBatch({ jobs, outDir, cache: false, concurrency: 1 });
    expect(server.stats().requests).toBe(2);
  });

  it('401 (revoked key): every model of the provider stops, one request in all', async () => {
    const server = await emulator({ apiKey: 'the-right-key' });
    vi.stubEnv('TOGETHER_API_KEY', 'a-revoked-key');
    const jobs = [...jobsOf(4), ...jobsOf(4, { model: 'togetherai:black-forest-labs/FLUX.2-dev' })];
    const summary = await runBatch({ jobs, outDir: await folder(), cache: false, concurrency: 1 });
    expect(server.stats().requests).toBe(1);
    expect(summary).toMatchObject({ failed: 8, openCircuits: [{ scope: 'togetherai' }] });
  });

  it.each([
    { status: 402, message: 'Credit limit exceeded', requests: 1, scopes: ['togetherai'] },
    { status: 403, message: 'This model requires sharing data with a third-party partner', requests: 2, scopes: ['togetherai:black-forest-labs/FLUX.1-schnell', 'togetherai:black-forest-labs/FLUX.2-dev'] },
  ])('$status stops the $scopes.length scope(s) it is about', async ({ status, message, requests, scopes }) => {
    const server = await startProviderServer([{ method: 'POST', path: /\/images\/generations$/, respond: () => ({ status, json: { error: { message } } }) }]);
    cleanups.push(() => void server.close());
    const jobs = [...jobsOf(3), ...jobsOf(3, { model: 'togetherai:black-forest-labs/FLUX.2-dev' })];
    const summary = await runBatch({
      jobs,
      outDir: await folder(),
      cache: false,
      concurrency: 1,
      providers: { togetherai: createTogetherAI({ apiKey: 'test-key', baseURL: server.url }) },
    });
    expect(server.requests()).toHaveLength(requests);
    expect(summary.failed).toBe(6);
    expect(summary.openCircuits.map((circuit) => circuit.scope).sort()).toEqual([...scopes].sort());
  });

  it('a 500 is not a repeating error: every job is still tried', async () => {
    const server = await emulator({ failRate: { 500: 1 } });
    const summary = await runBatch({ jobs: jobsOf(3), outDir: await folder(), cache: false, concurrency: 1, maxRetries: 0 });
    expect(server.stats().requests).toBe(3);
    expect(summary.openCircuits).toEqual([]);
  });
});

describe('the cache verifies what it serves (defect 7)', () => {
  it('a truncated object is regenerated, not copied out; a missing one too', async () => {
    const server = await emulator();
    const cache = new ImageCache(await folder());
    const jobs = jobsOf(2, { seed: 11 });
    await runBatch({ jobs, outDir: await folder(), cache });
    const objects = await readdir(path.join(cache.dir, 'objects'));
    expect(objects).toHaveLength(2);
    await truncate(path.join(cache.dir, 'objects', objects[0]!), 100);
    await rm(path.join(cache.dir, 'objects', objects[1]!));

    const outDir = await folder();
    const second = await runBatch({ jobs, outDir, cache });
    expect(second).toMatchObject({ done: 2, failed: 0, cached: 0, requests: 2 });
    expect(server.stats().requests).toBe(4);
    expect(await keptImages(outDir)).toBe(2);
    // Cached afresh: the third run is served whole from the cache.
    const third = await runBatch({ jobs, outDir: await folder(), cache });
    expect(third).toMatchObject({ done: 2, cached: 2, requests: 0 });
  });
});

describe('timeouts a timer cannot hold (defect 11)', () => {
  it('runBatch refuses a timeout of 0 or past 24 days before anything is sent', async () => {
    const server = await emulator();
    for (const timeoutMs of [0, 1200 * 3_600_000]) {
      const error = await runBatch({ jobs: jobsOf(1), outDir: await folder(), timeoutMs }).catch((caught: unknown) => caught);
      expect((error as InvalidRequestError).issues?.[0]).toMatchObject({ field: 'timeoutMs', value: timeoutMs });
    }
    expect(server.stats().requests).toBe(0);
  });
});

/** The id of a process that has exited (and so is free, for a while, on this machine). */
async function exitedPid(): Promise<number> {
  const child = spawn(process.execPath, ['-e', ''], { stdio: 'ignore' });
  await new Promise((resolve) => child.once('exit', resolve));
  return child.pid!;
}
