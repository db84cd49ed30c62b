/**
 * `npm run drill`: the fault drill. Each attack runs the real CLI (child processes, as a user would)
 * against the local Together emulator and is scored from the outside: requests the emulator
 * received, images the output folder really holds (listed as done in the manifest, decodable, with
 * a matching sidecar), images lost (kept at some point, then gone or broken, or a job neither kept
 * nor recorded as failed), images the provider delivered but the run could not keep (in flight
 * when the fault hit), and exit codes. Prints a Markdown table; writes bench/drill-results.json.
 *
 * Disk-full and read-only attacks mount a small tmpfs (root, and a sandbox that allows mount);
 * elsewhere their rows say why they were skipped.
 */
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { spawn } from 'node:child_process';
import { execFileSync } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, statfs, truncate, writeFile } from 'node:fs/promises';
import { createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import sharp from 'sharp';
import type { JournalEntry } from '../src/batch/journal.js';
import { startEmulator, type Emulator, type EmulatorOptions } from '../src/emulator/index.js';
import { ensureRedis, startRedis } from '../test/helpers/redis.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const RESULTS_FILE = path.join(import.meta.dirname, 'drill-results.json');

type Row = {
  attack: string;
  requestsSent: number;
  imagesKept: number;
  imagesLost: number;
  /** Delivered by the provider but not kept: what was in flight when the fault hit. */
  paidNotKept: number;
  exitCodes: string;
  note: string;
};

type CliRun = { code: number | null; stdout: string; stderr: string };

/** Runs `imagegen …` in a child process against `emulator`; resolves when it exits. */
function imagegen(args: readonly string[], emulator: Emulator | { url: string }, extraEnv: Record<string, string> = {}): { done: Promise<CliRun>; kill: (signal?: NodeJS.Signals) => void; stderr: () => string } {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), ...args], {
    cwd: ROOT,
    env: { ...process.env, TOGETHER_API_KEY: 'drill-key', TOGETHER_BASE_URL: emulator.url, NO_COLOR: '1', ...extraEnv },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const done = new Promise<CliRun>((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
  return { done, kill: (signal = 'SIGKILL') => child.kill(signal), stderr: () => stderr };
}

/** What an output folder really holds: done images that decode and whose sidecar names them. */
async function inspectFolder(outDir: string): Promise<{ kept: number; broken: number; entries: Map<string, JournalEntry> }> {
  const text = await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8').catch(() => '');
  const entries = new Map<string, JournalEntry>();
  for (const line of text.split('\n').filter(Boolean)) {
    const entry = JSON.parse(line) as JournalEntry;
    entries.set(entry.key, entry);
  }
  let kept = 0;
  let broken = 0;
  for (const entry of entries.values()) {
    if (entry.status !== 'done') continue;
    for (const file of entry.files) {
      const ok = await sharp(path.join(outDir, file))
        .metadata()
        .then(async (metadata) => {
          const sidecar = JSON.parse(await readFile(path.join(outDir, file.replace(/\.[a-z]+$/, '.json')), 'utf8')) as { file?: string; seed?: number };
          return Boolean(metadata.width) && sidecar.file === file;
        })
        .catch(() => false);
      if (ok) kept++;
      else broken++;
    }
  }
  return { kept, broken, entries };
}

/** Images the emulator handed out in usable responses (faulty bodies deliver nothing). */
function usableImagesDelivered(emulator: Emulator): number {
  const stats = emulator.stats();
  return stats.images - stats.faults.truncate - stats.faults['malformed-json'] - stats.faults['invalid-base64'];
}

async function withEmulator<T>(options: EmulatorOptions, body: (emulator: Emulator) => Promise<T>): Promise<T> {
  const emulator = await startEmulator({ quiet: true, seed: 11, ...options });
  try {
    return await body(emulator);
  } finally {
    await emulator.close();
  }
}

const workFolder = () => mkdtemp(path.join(tmpdir(), 'imagegen-drill-'));

async function promptsFile(folder: string, count: number, name = 'prompts.txt'): Promise<string> {
  const file = path.join(folder, name);
  await writeFile(file, `${Array.from({ length: count }, (_, index) => `drill scene ${index}`).join('\n')}\n`);
  return file;
}

/** A tmpfs of `size`, or why there cannot be one here. */
function tmpfs(size: string): { dir: string; remount: (options: string) => void; unmount: () => void } | { skipped: string } {
  const dir = path.join(tmpdir(), `imagegen-drill-tmpfs-${process.pid}-${Math.random().toString(36).slice(2)}`);
  try {
    execFileSync('mkdir', ['-p', dir]);
    execFileSync('mount', ['-t', 'tmpfs', '-o', `size=${size}`, 'tmpfs', dir], { stdio: 'pipe' });
  } catch (error) {
    return { skipped: `skipped: cannot mount a tmpfs here (${String((error as { stderr?: Buffer }).stderr ?? (error as Error).message).trim()})` };
  }
  return {
    dir,
    remount: (options) => execFileSync('mount', ['-o', `remount,${options}`, dir]),
    unmount: () => execFileSync('umount', ['-l', dir]),
  };
}

const skippedRow = (attack: string, note: string): Row => ({ attack, requestsSent: 0, imagesKept: 0, imagesLost: 0, paidNotKept: 0, exitCodes: '—', note });

async function diskFull(): Promise<Row> {
  const attack = 'disk full (2 MB tmpfs, 80 jobs)';
  const disk = tmpfs('2m');
  if ('skipped' in disk) return skippedRow(attack, disk.skipped);
  try {
    return await withEmulator({}, async (emulator) => {
      const { bavail, bsize } = await statfs(disk.dir);
      await writeFile(path.join(disk.dir, 'filler'), new Uint8Array(Math.max(0, Number(bavail) * Number(bsize) - 400 * 1024)));
      const input = await promptsFile(await workFolder(), 80);
      const outDir = path.join(disk.dir, 'out');
      const run = await imagegen(['batch', input, '-o', outDir, '-s', '256x256', '--format', 'png', '--no-cache', '-c', '4'], emulator).done;
      const folder = await inspectFolder(outDir);
      const failed = [...folder.entries.values()].filter((entry) => entry.status === 'failed').length;
      const notStarted = 80 - folder.kept - failed;
      return {
        attack,
        requestsSent: emulator.stats().requests,
        imagesKept: folder.kept,
        imagesLost: folder.broken,
        paidNotKept: usableImagesDelivered(emulator) - folder.kept,
        exitCodes: String(run.code),
        note: `stopped at the first ENOSPC; ${notStarted} jobs not sent, ${failed} in flight recorded as failed; "${/stopped early: [^;]*/.exec(run.stderr)?.[0] ?? 'no message'}"`,
      };
    });
  } finally {
    disk.unmount();
  }
}

async function readOnlyOut(): Promise<Row> {
  const attack = 'read-only --out (batch and generate)';
  const disk = tmpfs('1m');
  if ('skipped' in disk) return skippedRow(attack, disk.skipped);
  try {
    disk.remount('ro');
    return await withEmulator({}, async (emulator) => {
      const input = await promptsFile(await workFolder(), 20);
      const batch = await imagegen(['batch', input, '-o', disk.dir, '-s', '256x256', '--no-cache'], emulator).done;
      const generate = await imagegen(['generate', 'a fox', '-s', '256x256', '-o', disk.dir], emulator).done;
      const inspected = await inspectFolder(disk.dir);
      return {
        attack,
        requestsSent: emulator.stats().requests,
        imagesKept: inspected.kept,
        imagesLost: inspected.broken,
        paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
        exitCodes: `${batch.code}, ${generate.code}`,
        note: (/outDir: [^(\n]*/.exec(batch.stderr)?.[0] ?? batch.stderr.trim().split('\n')[0] ?? '').trim(),
      };
    });
  } finally {
    disk.unmount();
  }
}

async function concurrentRuns(): Promise<Row> {
  return withEmulator({ latency: 30 }, async (emulator) => {
    const folder = await workFolder();
    const input = await promptsFile(folder, 30);
    const outDir = path.join(folder, 'out');
    const runs = await Promise.all([0, 1, 2].map(() => imagegen(['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '4'], emulator).done));
    const inspected = await inspectFolder(outDir);
    return {
      attack: '3 concurrent runs, one file, one --out',
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (30 - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: runs.map((run) => run.code).sort().join(', '),
      note: 'one run; the others refused at once: another imagegen run (pid …) is writing to …',
    };
  });
}

async function killNine(): Promise<Row> {
  return withEmulator({ latency: { fixedMs: 100, jitterMs: 50 } }, async (emulator) => {
    const folder = await workFolder();
    const jobs = 500;
    const input = await promptsFile(folder, jobs);
    const outDir = path.join(folder, 'out');
    const args = ['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '2'];
    const random = mulberry32(20261121);
    let kills = 0;
    while (kills < 10) {
      const run = imagegen(args, emulator);
      // Killed while it sends, whatever the start-up takes on a loaded machine: a random time after its first image.
      let finished = false;
      void run.done.then(() => (finished = true));
      while (!finished && !/\] (done|skip)/.test(run.stderr())) await sleep(50);
      const waited = 500 + Math.floor(random() * 2000);
      const outcome = await Promise.race([run.done.then(() => 'finished' as const), sleep(waited).then(() => 'kill' as const)]);
      if (outcome === 'finished') break;
      run.kill();
      await run.done;
      kills++;
    }
    const final = await imagegen(args, emulator).done;
    if (final.code !== 0) process.stderr.write(final.stderr.split('\n').slice(-15).join('\n'));
    const inspected = await inspectFolder(outDir);
    const leftovers = (await readdir(outDir)).filter((name) => name.startsWith('.imagegen-tmp-')).length;
    return {
      attack: `${kills} random kill -9s over ${jobs} jobs, then a resume`,
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (jobs - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: `${kills} × killed, then ${final.code}`,
      note: `each lock left by a kill taken over at once; ${leftovers} temporary files left`,
    };
  });
}

async function providerFaults(): Promise<Row> {
  return withEmulator(
    {
      failRate: { 500: 0.025, 502: 0.025, 503: 0.025, 504: 0.025 },
      faults: { reset: 0.025, 'malformed-json': 0.025, 'invalid-base64': 0.025, truncate: 0.025 },
      rateLimit: { requests: 60, windowMs: 1000 },
    },
    async (emulator) => {
      const folder = await workFolder();
      const input = await promptsFile(folder, 200);
      const outDir = path.join(folder, 'out');
      const run = await imagegen(['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '8', '--max-retries', '10'], emulator).done;
      if (run.code !== 0) process.stderr.write(run.stderr.split('\n').slice(-15).join('\n'));
      const inspected = await inspectFolder(outDir);
      const stats = emulator.stats();
      const injected = Object.values(stats.faults).reduce((sum, count) => sum + count, 0) + ['500', '502', '503', '504'].reduce((sum, status) => sum + (stats.byStatus[status] ?? 0), 0);
      return {
        attack: '10% provider faults (5xx, resets, bad bodies) + 429s, 200 jobs',
        requestsSent: stats.requests,
        imagesKept: inspected.kept,
        imagesLost: inspected.broken + (200 - inspected.kept),
        paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
        exitCodes: String(run.code),
        note: `${injected} faults and ${stats.byStatus['429'] ?? 0} 429s injected, all retried`,
      };
    },
  );
}

async function missingModel(): Promise<Row> {
  return withEmulator({}, async (emulator) => {
    const folder = await workFolder();
    const input = await promptsFile(folder, 60);
    const outDir = path.join(folder, 'out');
    const run = await imagegen(['batch', input, '-o', outDir, '-m', 'togetherai:no-such-org/no-such-model', '-s', '256x256', '--no-cache', '-c', '4'], emulator).done;
    const inspected = await inspectFolder(outDir);
    return {
      attack: '404 model, 60 jobs',
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken,
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: String(run.code),
      note: 'only the requests already in flight (-c 4) met the 404; the rest recorded as failed, not sent',
    };
  });
}

async function revokedKey(): Promise<Row> {
  return withEmulator({ apiKey: 'the-right-key' }, async (emulator) => {
    const folder = await workFolder();
    const input = await promptsFile(folder, 60);
    const outDir = path.join(folder, 'out');
    const run = await imagegen(['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '1'], emulator).done;
    const inspected = await inspectFolder(outDir);
    return {
      attack: '401 revoked key, 60 jobs, -c 1',
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken,
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: String(run.code),
      note: 'every model of the provider stopped after the first 401',
    };
  });
}

async function fifoReference(): Promise<Row> {
  return withEmulator({}, async (emulator) => {
    const folder = await workFolder();
    const fifo = path.join(folder, 'reference.png');
    execFileSync('mkfifo', [fifo]);
    const model = 'togetherai:black-forest-labs/FLUX.1-kontext-dev';
    const started = Date.now();
    const generate = await imagegen(['generate', 'make it blue', '-m', model, '-i', fifo, '--timeout', '10s', '-o', folder], emulator).done;
    const input = path.join(folder, 'batch.jsonl');
    await writeFile(input, `${JSON.stringify({ prompt: 'make it blue', model, referenceImages: [fifo] })}\n`);
    const dryRun = await imagegen(['batch', input, '--dry-run', '-o', path.join(folder, 'out')], emulator).done;
    const batch = await imagegen(['batch', input, '-o', path.join(folder, 'out')], emulator).done;
    const inspected = await inspectFolder(path.join(folder, 'out'));
    return {
      attack: 'FIFO as a reference image (generate, dry run, batch)',
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken,
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: `${generate.code}, ${dryRun.code}, ${batch.code}`,
      note: `no hang (${((Date.now() - started) / 1000).toFixed(1)} s for all three, mostly start-up): "is a FIFO, not a regular file"`,
    };
  });
}

async function corruptCache(): Promise<Row> {
  return withEmulator({}, async (emulator) => {
    const folder = await workFolder();
    const input = await promptsFile(folder, 20);
    const cacheDir = path.join(folder, 'cache');
    const args = (out: string) => ['batch', input, '-o', path.join(folder, out), '-s', '256x256', '--seed', '5', '--cache-dir', cacheDir, '-c', '4'];
    await imagegen(args('first'), emulator).done;
    const objects = (await readdir(path.join(cacheDir, 'objects'))).sort();
    for (const object of objects.slice(0, 5)) await truncate(path.join(cacheDir, 'objects', object), 200);
    for (const object of objects.slice(5, 10)) await rm(path.join(cacheDir, 'objects', object));
    const before = { requests: emulator.stats().requests, images: usableImagesDelivered(emulator) };
    const second = await imagegen([...args('second'), '--json'], emulator).done;
    const { summary } = JSON.parse(second.stdout) as { summary: { cached: number } };
    const inspected = await inspectFolder(path.join(folder, 'second'));
    return {
      attack: 'corrupt cache (5 objects truncated, 5 deleted, of 20)',
      requestsSent: emulator.stats().requests - before.requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (20 - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - before.images - (inspected.kept - summary.cached),
      exitCodes: String(second.code),
      note: 'the 10 bad objects regenerated (hash checked), the other 10 served from the cache',
    };
  });
}

async function budgetStop(): Promise<Row> {
  return withEmulator({ latency: 150 }, async (emulator) => {
    const folder = await workFolder();
    const input = await promptsFile(folder, 60);
    const outDir = path.join(folder, 'out');
    // $0.01 an image, so the budget reads as a count: $0.30 is 30 images, whatever the catalog says.
    const args = (budget: string) => ['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '8', '--price', 'togetherai:black-forest-labs/FLUX.1-schnell=0.01/image', '--budget', budget, '--json'];
    const first = await imagegen(args('0.30'), emulator).done;
    const sentFirst = emulator.stats().requests;
    const { summary } = JSON.parse(first.stdout) as { summary: { budget: { spentUsd: number; unsent: number } } };
    const second = await imagegen(args('1'), emulator).done;
    const inspected = await inspectFolder(outDir);
    return {
      attack: '--budget $0.30 over 60 jobs at $0.01, -c 8, then a resume under $1',
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (60 - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: `${first.code}, ${second.code}`,
      note: `${sentFirst} sent (in flight counted), spent $${summary.budget.spentUsd.toFixed(2)}, ${summary.budget.unsent} left unsent; the resume sent exactly those`,
    };
  });
}

/** SIGTERM (timeout, docker stop, systemd) and SIGHUP (a closed terminal) mid-batch, each followed by a resume. */
async function stopSignals(): Promise<Row> {
  return withEmulator({ latency: { fixedMs: 100, jitterMs: 30 } }, async (emulator) => {
    const folder = await workFolder();
    const jobs = 60;
    const input = await promptsFile(folder, jobs);
    const outDir = path.join(folder, 'out');
    const args = ['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '4'];
    const codes: string[] = [];
    let summaries = 0;
    for (const signal of ['SIGTERM', 'SIGHUP'] as const) {
      const run = imagegen(args, emulator);
      await sleep(2500);
      run.kill(signal);
      const stopped = await run.done;
      codes.push(`${signal} ${stopped.code}`);
      if (/^stopped in /m.test(stopped.stderr)) summaries++;
    }
    const final = await imagegen(args, emulator).done;
    const inspected = await inspectFolder(outDir);
    return {
      attack: `SIGTERM, then SIGHUP, mid-batch (${jobs} jobs), then a resume`,
      requestsSent: emulator.stats().requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (jobs - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: `${codes.join(', ')}, then ${final.code}`,
      note: `each stopped like Ctrl-C: in-flight requests finished and kept, ${summaries} of 2 summaries printed`,
    };
  });
}

/**
 * A queued run (`batch --queue` and two `imagegen worker`s, all child processes) whose Redis is
 * stopped mid-run and started again 3 s later. Redis keeps its append-only file (fsync always),
 * as a BullMQ deployment should: with no persistence a restart would empty the queue, which the
 * follower then finds short and the re-run fills.
 */
async function redisRestart(): Promise<Row> {
  const attack = 'Redis stopped and restarted mid-run (batch --queue, 2 workers, 200 jobs)';
  const binary = await ensureRedis();
  if (!('path' in binary)) return skippedRow(attack, `skipped: ${binary.skipReason}`);
  const redis = await startRedis({ persist: true });
  try {
    return await withEmulator({ latency: { fixedMs: 100, jitterMs: 50 } }, async (emulator) => {
      const folder = await workFolder();
      const jobs = 200;
      const input = await promptsFile(folder, jobs);
      const outDir = path.join(folder, 'out');
      const workers = [imagegen(['worker', '--queue', redis.url, '-c', '3'], emulator), imagegen(['worker', '--queue', redis.url, '-c', '3'], emulator)];
      const run = imagegen(['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '--queue', redis.url], emulator);
      while (emulator.stats().requests < jobs / 3) await sleep(50);
      await redis.stop();
      const stoppedAt = emulator.stats().requests;
      await sleep(3000);
      const duringOutage = emulator.stats().requests - stoppedAt;
      await redis.start();
      const result = await run.done;
      for (const worker of workers) worker.kill();
      await Promise.all(workers.map((worker) => worker.done));
      const inspected = await inspectFolder(outDir);
      const leftovers = (await readdir(outDir)).filter((name) => name.startsWith('.imagegen-tmp-')).length;
      return {
        attack,
        requestsSent: emulator.stats().requests,
        imagesKept: inspected.kept,
        imagesLost: inspected.broken + (jobs - inspected.kept),
        paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
        exitCodes: String(result.code),
        note: `workers and follower waited for Redis: ${duringOutage} calls started during the 3 s outage, the rest after it came back; ${leftovers} temporary files left`,
      };
    });
  } finally {
    await redis.close();
  }
}

/** The output lock deleted mid-run while a second run waits to start in the same folder. */
async function lockDeleted(): Promise<Row> {
  return withEmulator({ latency: { fixedMs: 80, jitterMs: 20 } }, async (emulator) => {
    const folder = await workFolder();
    const jobs = 24;
    const input = await promptsFile(folder, jobs);
    const outDir = path.join(folder, 'out');
    const args = ['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '2'];
    const first = imagegen(args, emulator);
    while (!/\] done /.test(first.stderr())) await sleep(50);
    await rm(path.join(outDir, '.imagegen.lock'), { recursive: true, force: true });
    const second = await imagegen(args, emulator).done;
    const firstRun = await first.done;
    const inspected = await inspectFolder(outDir);
    const requests = emulator.stats().requests;
    return {
      attack: `output lock deleted mid-run, a second run started at once (${jobs} jobs)`,
      requestsSent: requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (jobs - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - inspected.kept,
      exitCodes: `${firstRun.code}, ${second.code}`,
      note: `the first run stopped at its next request; ${requests - jobs} paid twice (in flight when the lock went)`,
    };
  });
}

/** manifest.jsonl emptied after a run: the re-run must not pay again for what is on disk. */
async function emptiedManifest(): Promise<Row> {
  return withEmulator({}, async (emulator) => {
    const folder = await workFolder();
    const jobs = 20;
    const input = await promptsFile(folder, jobs);
    const outDir = path.join(folder, 'out');
    const args = ['batch', input, '-o', outDir, '-s', '256x256', '--no-cache', '-c', '4'];
    await imagegen(args, emulator).done;
    const before = { requests: emulator.stats().requests, images: usableImagesDelivered(emulator) };
    await truncate(path.join(outDir, 'manifest.jsonl'), 0);
    const again = await imagegen(args, emulator).done;
    const inspected = await inspectFolder(outDir);
    return {
      attack: `manifest.jsonl emptied, then a re-run (${jobs} jobs)`,
      requestsSent: emulator.stats().requests - before.requests,
      imagesKept: inspected.kept,
      imagesLost: inspected.broken + (jobs - inspected.kept),
      paidNotKept: usableImagesDelivered(emulator) - before.images,
      exitCodes: String(again.code),
      note: 'every job recovered from its images and sidecars; nothing sent again',
    };
  });
}

/** MCP generate_image with an --out that cannot keep the images: a file, read-only, full. */
async function mcpUnkeepable(): Promise<Row> {
  return withEmulator({}, async (emulator) => {
    const folder = await workFolder();
    const file = path.join(folder, 'a-file');
    await writeFile(file, 'x');
    const targets: { name: string; dir: string; cleanup?: () => void }[] = [{ name: 'a file', dir: file }];
    const readOnly = tmpfs('1m');
    if (!('skipped' in readOnly)) {
      readOnly.remount('ro');
      targets.push({ name: 'read-only', dir: readOnly.dir, cleanup: readOnly.unmount });
    }
    const full = tmpfs('128k');
    if (!('skipped' in full)) {
      await writeFile(path.join(full.dir, 'filler'), new Uint8Array(120 * 1024)).catch(() => undefined);
      targets.push({ name: 'full', dir: full.dir, cleanup: full.unmount });
    }
    const answers: string[] = [];
    try {
      for (const target of targets) {
        const transport = new StdioClientTransport({
          command: process.execPath,
          args: ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'mcp', '--out', target.dir],
          env: { PATH: process.env.PATH ?? '', TOGETHER_API_KEY: 'drill-key', TOGETHER_BASE_URL: emulator.url },
          cwd: ROOT,
          stderr: 'ignore',
        });
        const client = new Client({ name: 'drill', version: '1' });
        await client.connect(transport);
        const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', count: 4, size: '512x512' } });
        const text = (result.content as { text?: string }[]).map((item) => item.text ?? '').join(' ');
        answers.push(`${target.name}: ${result.isError ? (/: (is a file[^(]*|is not writable: [A-Z]+|has [^;]* free)/.exec(text)?.[1]?.trim() ?? 'error') : 'generated'}`);
        await client.close();
      }
    } finally {
      for (const target of targets) target.cleanup?.();
    }
    return {
      attack: `MCP generate_image, count 4, --out ${targets.map((target) => target.name).join(' / ')}`,
      requestsSent: emulator.stats().requests,
      imagesKept: 0,
      imagesLost: 0,
      paidNotKept: usableImagesDelivered(emulator),
      exitCodes: '—',
      note: `refused before paying: ${answers.join('; ')}`,
    };
  });
}

/** A local server for GET /models: `handler` answers; closed after `body`. */
async function withListServer<T>(handler: (request: IncomingMessage, response: ServerResponse) => void, body: (url: string) => Promise<T>): Promise<T> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    return await body(`http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
}

/** The live model list: a server that drips bytes, one that never answers (stopped by SIGTERM), and 100k hostile models. */
async function hostileModelList(): Promise<Row> {
  const started = Date.now();
  const { refreshModelList, TimeoutError } = await import('../src/index.js');
  const drip = await withListServer(
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      const timer = setInterval(() => response.write(' '), 50);
      response.on('close', () => clearInterval(timer));
    },
    async (url) => {
      const at = Date.now();
      const error = await refreshModelList({ apiKey: 'drill-key', baseURL: url, timeoutMs: 2000 }).catch((caught: unknown) => caught);
      return `${TimeoutError.isInstance(error) ? 'TimeoutError' : String(error)} after ${((Date.now() - at) / 1000).toFixed(1)} s`;
    },
  );
  const cacheDir = await workFolder();
  const silent = await withListServer(
    () => undefined,
    async (url) => {
      const run = imagegen(['models', '--refresh'], { url }, { IMAGEGEN_CACHE_DIR: cacheDir });
      await sleep(3000);
      const at = Date.now();
      run.kill('SIGTERM');
      const result = await run.done;
      return { code: result.code, seconds: (Date.now() - at) / 1000 };
    },
  );
  const models = Array.from({ length: 100_000 }, (_, index) => ({
    id: index % 1000 === 0 ? `evil/model-${index}\u001b[2J` : `org-${index % 97}/model-${index}`,
    type: 'image',
    display_name: index % 1000 === 1 ? `\u001b]0;pwned\u0007 name ${index} \u009b31m` : `Model ${index}`,
  }));
  const big = await withListServer(
    (_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end(JSON.stringify(models));
    },
    async (url) => {
      const at = Date.now();
      const run = await imagegen(['models', '--refresh', '--max-age', '0'], { url }, { IMAGEGEN_CACHE_DIR: cacheDir }).done;
      // eslint-disable-next-line no-control-regex
      const raw = (run.stdout.match(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/g) ?? []).length;
      return { code: run.code, seconds: (Date.now() - at) / 1000, raw };
    },
  );
  return {
    attack: 'live model list: bytes dripped, no answer, 100k models with escape codes',
    requestsSent: 0,
    imagesKept: 0,
    imagesLost: 0,
    paidNotKept: 0,
    exitCodes: `${silent.code}, ${big.code}`,
    note:
      `drip: ${drip} (deadline 2 s); no answer: SIGTERM ended it in ${silent.seconds.toFixed(1)} s; ` +
      `100k models listed in ${big.seconds.toFixed(1)} s with ${big.raw} control characters printed (${((Date.now() - started) / 1000).toFixed(0)} s in all)`,
  };
}

/** Many large POSTs with a wrong key, then a 30 MB prompt with the right one: the emulator must stay up. */
async function emulatorFlood(): Promise<Row> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'emulator', '--port', '0', '--quiet', '--api-key', 'right-key'], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    const base = await new Promise<string>((resolve, reject) => {
      let text = '';
      child.stdout.on('data', (chunk: Buffer) => {
        text += chunk.toString();
        const match = /http:\/\/127\.0\.0\.1:\d+/.exec(text);
        if (match) resolve(match[0]);
      });
      child.once('exit', (code) => reject(new Error(`emulator exited ${code}`)));
    });
    const payload = Buffer.alloc(45 * 1024 * 1024, 'a');
    const post = (key: string, body: Buffer) =>
      new Promise<number>((resolve) => {
        const outgoing = httpRequest(`${base}/v1/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json', 'content-length': body.length } }, (response) => {
          response.resume();
          response.on('end', () => resolve(response.statusCode ?? 0));
        });
        outgoing.on('error', () => resolve(0));
        outgoing.end(body);
      });
    const floods = 90;
    const statuses: number[] = [];
    for (let batch = 0; batch < floods; batch += 10) statuses.push(...(await Promise.all(Array.from({ length: 10 }, () => post('wrong-key', payload)))));
    const peakKb = Number(/VmHWM:\s+(\d+)/.exec(await readFile(`/proc/${child.pid}/status`, 'utf8'))?.[1] ?? 0);
    const prompt = JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'word '.repeat(6 * 1024 * 1024), width: 256, height: 256, response_format: 'base64' });
    const at = Date.now();
    const big = await post('right-key', Buffer.from(prompt));
    const seconds = (Date.now() - at) / 1000;
    const alive = child.exitCode === null;
    return {
      attack: `emulator: ${floods} × 45 MB POSTs with a wrong key, then a 30 MB prompt`,
      requestsSent: floods + 1,
      imagesKept: 0,
      imagesLost: 0,
      paidNotKept: 0,
      exitCodes: alive ? 'still running' : `crashed (${child.exitCode})`,
      note: `${statuses.filter((status) => status === 401).length} × 401; peak RSS ${Math.round(peakKb / 1024)} MB; the 30 MB prompt answered ${big} in ${seconds.toFixed(1)} s`,
    };
  } finally {
    child.kill('SIGTERM');
  }
}

const ATTACKS = [diskFull, readOnlyOut, concurrentRuns, killNine, providerFaults, missingModel, revokedKey, fifoReference, corruptCache, budgetStop, redisRestart, stopSignals, lockDeleted, emptiedManifest, mcpUnkeepable, hostileModelList, emulatorFlood];

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const only = values.only?.split(',').map((name) => name.trim());
  const rows: Row[] = [];
  const started = Date.now();
  for (const attack of ATTACKS.filter((candidate) => only === undefined || only.includes(candidate.name))) {
    const attackStarted = Date.now();
    process.stderr.write(`▶ ${attack.name}\n`);
    const row = await attack();
    process.stderr.write(`  ${((Date.now() - attackStarted) / 1000).toFixed(1)} s: ${JSON.stringify(row)}\n`);
    rows.push(row);
  }
  await mkdir(path.dirname(RESULTS_FILE), { recursive: true });
  if (only !== undefined) {
    process.stdout.write(`${formatTable(rows)}\n`);
    return;
  }
  await writeFile(RESULTS_FILE, `${JSON.stringify({ timestamp: new Date().toISOString(), totalSeconds: Math.round((Date.now() - started) / 100) / 10, rows }, null, 2)}\n`);
  process.stdout.write(`${formatTable(rows)}\n`);
  const failedTargets = rows.filter((row) => row.imagesLost > 0);
  if (failedTargets.length > 0) {
    process.stderr.write(`images lost in: ${failedTargets.map((row) => row.attack).join('; ')}\n`);
    process.exitCode = 1;
  }
}

function formatTable(rows: readonly Row[]): string {
  const header = ['Attack', 'Requests sent', 'Images kept', 'Images lost', 'Paid, not kept (in flight)', 'Exit code', 'What happened'];
  const lines = rows.map((row) => [row.attack, String(row.requestsSent), String(row.imagesKept), String(row.imagesLost), String(row.paidNotKept), row.exitCodes, row.note]);
  const widths = header.map((title, column) => Math.max(title.length, ...lines.map((line) => line[column]!.length)));
  const format = (cells: readonly string[]) => `| ${cells.map((cell, column) => cell.padEnd(widths[column]!)).join(' | ')} |`;
  return [format(header), `|${widths.map((width) => '-'.repeat(width + 2)).join('|')}|`, ...lines.map(format)].join('\n');
}

function sleep(milliseconds: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, milliseconds));
}

/** A small seeded generator, so the kill times are the same on every run. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let value = Math.imul(state ^ (state >>> 15), 1 | state);
    value = (value + Math.imul(value ^ (value >>> 7), 61 | value)) ^ value;
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
