import { execFile } from 'node:child_process';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { VERSION } from '../src/version.js';
import { memoryIO } from './helpers/cli.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'sk-cli-secret-987654321';

/** Runs the CLI in a child process with only the given environment (no inherited keys). */
async function imagegen(args: string[], env: Record<string, string> = {}) {
  const baseEnv = { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1' };
  try {
    const { stdout, stderr } = await run(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), ...args], {
      cwd: ROOT,
      env: { ...baseEnv, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failed = error as { code: number; stdout: string; stderr: string };
    return { code: failed.code, stdout: failed.stdout, stderr: failed.stderr };
  }
}

const outDir = () => mkdtemp(path.join(tmpdir(), 'imagegen-cli-'));

let emulator: Emulator;
let failing: Emulator;
beforeAll(async () => {
  [emulator, failing] = await Promise.all([
    startEmulator({ apiKey: KEY, quiet: true }),
    startEmulator({ apiKey: KEY, quiet: true, failRate: { 503: 1 } }),
  ]);
});
afterAll(async () => {
  await Promise.all([emulator.close(), failing.close()]);
});

// Each test starts Node with tsx: generous time for a loaded machine (a timeout, not a speed check).
describe('imagegen generate (child process)', { timeout: 30_000 }, () => {
  it('offline by default: no key → local:placeholder, said in one line on stderr; files decode to the size', async () => {
    const out = await outDir();
    const result = await imagegen(['generate', 'a serene mountain landscape at sunset', '-s', '512x384', '-o', out, '--json']);
    expect(result.code).toBe(0);
    expect(result.stderr.trim().split('\n')).toEqual([
      'No TOGETHER_API_KEY set: using local:placeholder, an offline placeholder renderer (not a diffusion model).',
    ]);
    const output = JSON.parse(result.stdout) as { outDir: string; images: { file: string }[]; warnings: unknown[]; requests: number; durationMs: number };
    expect(output).toMatchObject({ outDir: out, warnings: [], requests: 1, estimatedCostUsd: 0, actualCostUsd: null, errors: [] });
    // The shared result shape: the file relative to outDir, the model with its provider, the cost.
    expect(output.images).toEqual([
      {
        file: expect.stringMatching(/^\d{8}-\d{6}-a-serene-mountain-landscape-at-sunset-\d+\.png$/),
        // Outside the directory it ran in: absolute, openable from there.
        path: expect.stringMatching(new RegExp(`^${out.replaceAll('/', '\\/')}/\\d{8}-\\d{6}-a-serene-mountain-landscape-at-sunset-\\d+\\.png$`)),
        model: 'local:placeholder',
        provider: 'local',
        modelId: 'placeholder',
        seed: expect.any(Number),
        width: 512,
        height: 384,
        mediaType: 'image/png',
        index: 0,
        latencyMs: expect.any(Number),
        cached: false,
        estimatedCostUsd: 0,
        // The placeholder reports no cost of its own: only the catalog's estimate is known.
        actualCostUsd: null,
        warnings: [],
      },
    ]);
    const imagePath = path.join(output.outDir, output.images[0]!.file);
    const metadata = await sharp(imagePath).metadata();
    expect([metadata.width, metadata.height, metadata.format]).toEqual([512, 384, 'png']);
    const sidecar = JSON.parse(await readFile(imagePath.replace(/\.png$/, '.json'), 'utf8'));
    const { path: _fromHere, ...shared } = output.images[0] as Record<string, unknown>;
    expect(sidecar).toMatchObject({ ...shared, request: { prompt: 'a serene mountain landscape at sunset', size: '512x384' } });
    expect(typeof sidecar.durationMs).toBe('number');
  });

  it('against the emulator: saved images decode with sharp to the requested size; the key is nowhere', async () => {
    const out = await outDir();
    const env = { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: emulator.url };
    const result = await imagegen(['generate', 'a red fox', '-a', '16:9', '-n', '2', '--seed', '7', '--format', 'png', '-o', out], env);
    expect(result.code, result.stderr).toBe(0);
    const paths = result.stdout.trim().split('\n');
    expect(paths).toHaveLength(2);
    for (const file of paths) {
      const metadata = await sharp(file).metadata();
      expect([metadata.width, metadata.height, metadata.format]).toEqual([1344, 768, 'png']);
    }
    const files = await readdir(out);
    expect(files.filter((file) => file.endsWith('.json'))).toHaveLength(2);
    for (const file of files) expect(await readFile(path.join(out, file), 'latin1')).not.toContain(KEY);
    expect(result.stdout + result.stderr).not.toContain(KEY);
  });

  it('invalid input exits 2, names the flag, sends and writes nothing', async () => {
    const out = await outDir();
    const before = emulator.stats().requests;
    const result = await imagegen(['generate', 'p', '--count', '0', '-s', '100x100', '-o', out], {
      TOGETHER_API_KEY: KEY,
      TOGETHER_BASE_URL: emulator.url,
    });
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--count (count): must be at least 1 (got 0)');
    expect(result.stderr).toContain('--size (size): width 100 must be a multiple of 8 from 256 to 1920');
    expect(result.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(await readdir(out)).toEqual([]);
    expect(emulator.stats().requests).toBe(before);
  });

  it('an unknown flag exits 2', async () => {
    const result = await imagegen(['generate', 'p', '--sise', '512x512']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain("unknown option '--sise'");
  });

  it('a provider failure exits 1 with one clear paragraph, and writes nothing', async () => {
    const out = await outDir();
    const result = await imagegen(['generate', 'p', '-o', out], { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: failing.url });
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(/^error: togetherai failed for black-forest-labs\/FLUX.1-schnell \(HTTP 503\)/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(await readdir(out)).toEqual([]);
    // A child process plus two 1 s retry-after waits: close to vitest's 5 s default on a busy machine.
  }, 20_000);

  it('file names never leave --out, whatever the prompt says', async () => {
    const out = await outDir();
    const result = await imagegen(['generate', '../../../etc/passwd /tmp/x\\..\\', '-s', '64x64', '-o', out]);
    expect(result.code).toBe(0);
    const [saved] = result.stdout.trim().split('\n');
    expect(path.dirname(saved!)).toBe(out);
    expect(path.basename(saved!)).toMatch(/^\d{8}-\d{6}-etc-passwd-tmp-x-\d+\.png$/);
  });

  it('--help lists the options and exits 0', async () => {
    const result = await imagegen(['generate', '--help']);
    expect(result.code).toBe(0);
    for (const flag of ['--model', '--size', '--aspect-ratio', '--count', '--steps', '--seed', '--negative', '--guidance', '--image', '--no-safety-checker', '--format', '--out', '--json']) {
      expect(result.stdout).toContain(flag);
    }
  });
});

describe('imagegen models (in process)', () => {
  it('--json parses; an unknown provider exits 2 (the table: cli-models.test.ts)', async () => {
    const { runCli } = await import('../src/cli/main.js');
    const { memoryIO } = await import('./helpers/cli.js');
    const json = memoryIO();
    expect(await runCli(['models', '--json'], json)).toBe(0);
    const models = JSON.parse(json.stdoutText()) as { id: string; estimatedPrice: unknown }[];
    expect(new Set(models.map((model) => model.id.split(':')[0]))).toEqual(
      new Set(['local', 'togetherai', 'openai', 'fal', 'replicate', 'black-forest-labs', 'google', 'xai', 'luma', 'deepinfra', 'fireworks', 'amazon-bedrock']),
    );
    expect(models.find((model) => model.id === 'togetherai:black-forest-labs/FLUX.1-schnell')?.estimatedPrice).toEqual({ unit: 'megapixel', usd: 0.0027, defaultSteps: 4 });

    const unknown = memoryIO();
    expect(await runCli(['models', '--provider', 'nope'], unknown)).toBe(2);
    expect(unknown.stderrText()).toMatch(/no models for provider "nope"; providers in the catalog: .*togetherai/);
  });
});

describe('imagegen generate --timeout', { timeout: 30_000 }, () => {
  it('gives up on a hung provider with a clear error, exit 1, nothing written', async () => {
    const hung = await startEmulator({ apiKey: KEY, quiet: true, faults: { hang: 1 } });
    try {
      const out = await outDir();
      const result = await imagegen(['generate', 'p', '--timeout', '500ms', '-o', out], { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: hung.url });
      expect(result.code).toBe(1);
      expect(result.stderr).toMatch(/no answer within 500ms \(--timeout\); nothing was saved/);
      expect(await readdir(out)).toEqual([]);
      // Counted at the server: one request, never retried, and the CLI let go of it (a hang never answers).
      expect(hung.stats()).toMatchObject({ requests: 1, faults: { hang: 1 } });
      await expect.poll(() => hung.stats().inFlight).toBe(0);
    } finally {
      await hung.close();
    }
  });
});

describe('bad flag values exit 2 with the flag, the value and what is allowed', () => {
  it.each([
    [['batch', 'prompts.txt', '-c', '0'], '--concurrency must be a whole number, 1 or more (got "0")'],
    [['batch', 'prompts.txt', '--timeout', 'soon'], '--timeout: Invalid duration "soon"'],
    [['compare', '-p', 'x', '--models', 'local:placeholder', '--cell-size', '5'], '--cell-size must be a whole number from 32 to 1024 (got "5")'],
    [['compare', '-p', 'x', '--models', 'local:placeholder', '-r', 'lots'], '--rate-limit: Invalid rate limit "lots"'],
    [['generate', 'x', '--max-retries', '-1'], '--max-retries must be a whole number, 0 or more (got "-1")'],
    [['generate', 'x', '--timeout', 'soon'], '--timeout: Invalid duration "soon"'],
    [['batch', 'prompts.txt', '--timeout', '0s'], '--timeout must be more than 0 and at most 24 days, e.g. 120s or 10m (got "0s")'],
    [['batch', 'prompts.txt', '--timeout', '1200h'], '--timeout must be more than 0 and at most 24 days, e.g. 120s or 10m (got "1200h")'],
    [['generate', 'x', '--timeout', '0s'], '--timeout must be more than 0 and at most 24 days, e.g. 120s or 10m (got "0s")'],
    [['emulator', '--port', '70000'], '--port must be a whole number from 0 to 65535 (got "70000")'],
    [['emulator', '--latency', 'fast'], '--latency: Invalid duration "fast"'],
  ])('%j', async (argv, message) => {
    const { runCli } = await import('../src/cli/main.js');
    const { memoryIO } = await import('./helpers/cli.js');
    const folder = await outDir();
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\n');
    const io = memoryIO(folder);
    expect(await runCli(argv, io, { stopSignal: async () => {} })).toBe(2);
    expect(io.stderrText()).toContain(`error: ${message}`);
  });
});

describe('imagegen --version', () => {
  it('prints package.json’s version, kept in src/version.ts so the built CLI reads nothing outside dist/', async () => {
    const { version } = JSON.parse(await readFile(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    expect(VERSION).toBe(version);
    const io = memoryIO();
    expect(await runCli(['--version'], io)).toBe(0);
    expect(io.stdoutText().trim()).toBe(version);
  });
});
