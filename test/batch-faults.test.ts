import { spawn } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runBatch } from '../src/batch/engine.js';
import { parseBatchInput, type BatchJob } from '../src/batch/input.js';
import type { JournalEntry } from '../src/batch/journal.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { TEMPORARY_FILE_PREFIX } from '../src/files/files.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const emulators: Emulator[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(emulators.splice(0).map((started) => started.close()));
});

/** Checks an output folder file by file against the jobs: each image once, decodable, journaled. */
async function checkFolder(outDir: string, jobs: readonly BatchJob[], imagesPerJob: number) {
  const names = await readdir(outDir);
  expect(names.filter((name) => name.startsWith(TEMPORARY_FILE_PREFIX))).toEqual([]);
  const lines = (await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8')).split('\n').filter(Boolean);
  const latest = new Map<string, JournalEntry>();
  for (const line of lines) {
    const entry = JSON.parse(line) as JournalEntry;
    latest.set(entry.key, entry);
  }
  expect([...latest.keys()].sort()).toEqual(jobs.map((job) => job.key).sort());
  const expectedImages = new Set<string>();
  for (const entry of latest.values()) {
    expect(entry.status).toBe('done');
    expect(entry.files).toHaveLength(imagesPerJob);
    for (const file of entry.files) {
      expectedImages.add(file);
      const metadata = await sharp(path.join(outDir, file)).metadata();
      expect([metadata.width, metadata.height]).toEqual([256, 256]);
      const sidecar = JSON.parse(await readFile(path.join(outDir, file.replace(/\.[a-z]+$/, '.json')), 'utf8'));
      expect(sidecar.file).toBe(file);
    }
  }
  // Nothing else: no duplicates, no strays.
  const images = names.filter((name) => /\.(jpg|png)$/.test(name));
  expect(images.sort()).toEqual([...expectedImages].sort());
  expect(names.filter((name) => name.endsWith('.json')).length).toBe(expectedImages.size);
}

describe('fault drill', () => {
  it('10% 5xx, 429s, resets and bad bodies over 100 requests: every image delivered exactly once', async () => {
    const server = await startEmulator({
      quiet: true,
      seed: 42,
      failRate: { 500: 0.03, 502: 0.02, 503: 0.03, 504: 0.02 },
      faults: { reset: 0.03, 'malformed-json': 0.03, 'invalid-base64': 0.02, truncate: 0.02 },
      // Low enough that 16 requests at once meet it in the first second on a loaded machine too.
      rateLimit: { requests: 25, windowMs: 1000 },
    });
    emulators.push(server);
    vi.stubEnv('TOGETHER_API_KEY', 'test-key');
    vi.stubEnv('TOGETHER_BASE_URL', server.url);
    const prompts = Array.from({ length: 100 }, (_, index) => `prompt number ${index}`);
    const { jobs } = parseBatchInput({ text: prompts.join('\n'), format: 'text', defaults: { size: '256x256' } });
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-drill-'));
    const summary = await runBatch({ jobs, outDir, cache: false, concurrency: 16, maxRetries: 10, backoff: { minMs: 5, maxMs: 50 } });

    const stats = server.stats();
    const injected = Object.values(stats.faults).reduce((sum, count) => sum + count, 0);
    const failures = ['500', '502', '503', '504'].reduce((sum, status) => sum + (stats.byStatus[status] ?? 0), 0);
    expect(injected).toBeGreaterThan(3);
    expect(failures).toBeGreaterThan(3);
    expect(stats.byStatus['429']).toBeGreaterThan(0);
    expect(summary).toMatchObject({ done: 100, failed: 0, images: 100 });
    expect(summary.retries).toBe(summary.requests - 100);
    await checkFolder(outDir, jobs, 1);
  }, 20_000);
});

describe('kill -9 and resume', () => {
  it('a batch killed mid-run and re-run ends with exactly the images it should have', async () => {
    const server = await startEmulator({ quiet: true, latency: { fixedMs: 40, jitterMs: 40 } });
    emulators.push(server);
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-kill-'));
    const input = path.join(folder, 'requests.jsonl');
    const lines = Array.from({ length: 40 }, (_, index) => JSON.stringify({ prompt: `scene ${index}`, count: 2, size: '256x256' }));
    await writeFile(input, `${lines.join('\n')}\n`);
    const outDir = path.join(folder, 'out');
    const env = { ...process.env, TOGETHER_API_KEY: 'test-key', TOGETHER_BASE_URL: server.url, NO_COLOR: '1' };
    const args = ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'batch', input, '-o', outDir, '--no-cache', '-c', '3'];

    // First run: killed with SIGKILL once some requests are journaled.
    const child = spawn(process.execPath, args, { env, stdio: 'ignore' });
    await new Promise<void>((resolve, reject) => {
      const poll = setInterval(async () => {
        const text = await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8').catch(() => '');
        if (text.split('\n').filter(Boolean).length >= 5) {
          clearInterval(poll);
          child.kill('SIGKILL');
          resolve();
        }
      }, 20);
      child.on('exit', () => {
        clearInterval(poll);
        reject(new Error('the batch finished before it could be killed'));
      });
    });
    await new Promise((resolve) => child.once('exit', resolve));
    const journaledBeforeResume = (await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8')).split('\n').filter(Boolean).length;
    expect(journaledBeforeResume).toBeLessThan(40);

    // Second run: resumes and completes.
    const second = spawn(process.execPath, [...args, '--json'], { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let output = '';
    second.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => second.once('exit', resolve));
    expect(code).toBe(0);
    const { summary } = JSON.parse(output) as { summary: { done: number; skipped: number; failed: number } };
    expect(summary.failed).toBe(0);
    expect(summary.done + summary.skipped).toBe(40);
    expect(summary.skipped).toBeGreaterThanOrEqual(5);

    const { jobs } = parseBatchInput({ text: lines.join('\n'), format: 'jsonl' });
    await checkFolder(outDir, jobs, 2);
  }, 30_000);
});

describe('Ctrl-C', () => {
  // SIGTERM is what `timeout`, `docker stop` and systemd send; SIGHUP what a closed terminal sends.
  it.each([
    ['SIGINT', 130],
    ['SIGTERM', 143],
    ['SIGHUP', 129],
  ] as const)('%s stops new requests, lets those in flight finish writing (exit %i), and a re-run completes', async (signal, exitCode) => {
    const server = await startEmulator({ quiet: true, latency: { fixedMs: 60, jitterMs: 20 } });
    emulators.push(server);
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-sigint-'));
    const input = path.join(folder, 'prompts.txt');
    const prompts = Array.from({ length: 30 }, (_, index) => `still life ${index}`);
    await writeFile(input, `${prompts.join('\n')}\n`);
    const outDir = path.join(folder, 'out');
    const env = { ...process.env, TOGETHER_API_KEY: 'test-key', TOGETHER_BASE_URL: server.url, NO_COLOR: '1' };
    const args = ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '2', '--json'];

    const child = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    let errors = '';
    let interrupted = false;
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => {
      errors += chunk.toString();
      // Interrupt once (a second Ctrl-C quits at once), when a few requests are done.
      if (!interrupted && (errors.match(/\] done /g) ?? []).length >= 3) {
        interrupted = true;
        child.kill(signal);
      }
    });
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(exitCode);
    expect(errors).toContain('stopping: no new requests');
    const stopped = (JSON.parse(output) as { summary: { done: number; pending: number; failed: number; stopped: boolean } }).summary;
    expect(stopped).toMatchObject({ stopped: true, failed: 0 });
    expect(stopped.done).toBeGreaterThanOrEqual(3);
    expect(stopped.done + stopped.pending).toBe(30);

    const second = spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'ignore'] });
    let resumed = '';
    second.stdout.on('data', (chunk: Buffer) => (resumed += chunk.toString()));
    expect(await new Promise((resolve) => second.once('exit', resolve))).toBe(0);
    expect((JSON.parse(resumed) as { summary: unknown }).summary).toMatchObject({ skipped: stopped.done, done: 30 - stopped.done, failed: 0 });
    const { jobs } = parseBatchInput({ text: prompts.join('\n'), format: 'text', defaults: { size: '256x256' } });
    await checkFolder(outDir, jobs, 1);
  }, 30_000);
});
