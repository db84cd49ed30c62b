import { execFileSync } from 'node:child_process';
import { mkdtemp, readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { GeneratedImage } from '../src/image.js';
import { saveImages } from '../src/files/files.js';
import { renderPlaceholder } from '../src/placeholder/render.js';
import { memoryIO } from './helpers/cli.js';
import { mountTmpfs, tmpfsSupport } from './helpers/tmpfs.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'sk-generate-files-123456';
const tmpfsNote = tmpfsSupport.available ? '' : ` (skipped: ${tmpfsSupport.reason})`;

/** Runs the CLI in-process (the same `runCli` the binary calls) against the emulator. */
async function imagegen(args: string[]) {
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
  const io = memoryIO(ROOT);
  const code = await runCli(args, io, { stopSignal: async () => {} });
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

let emulator: Emulator;
const cleanups: (() => void)[] = [];
beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true });
});
afterAll(() => emulator.close());
afterEach(() => {
  vi.unstubAllEnvs();
  emulator.reset();
  for (const cleanup of cleanups.splice(0)) cleanup();
});
const folder = () => mkdtemp(path.join(tmpdir(), 'imagegen-generate-files-'));

describe('generate never overwrites (defect 4)', () => {
  it('the same prompt and seed on three models in the same second: three images, each with its own sidecar', async () => {
    const outDir = await folder();
    const date = new Date('2026-01-02T03:04:05Z');
    const paths: string[] = [];
    for (const [index, modelId] of ['model-a', 'model-b', 'model-c'].entries()) {
      const image = new GeneratedImage({
        uint8Array: renderPlaceholder({ prompt: 'a fox', seed: index, width: 16, height: 16, format: 'png' }),
        index: 0,
        seed: 42,
        provider: 'togetherai',
        modelId,
        request: { prompt: 'a fox', model: `togetherai:${modelId}`, count: 1, seed: 42, safetyChecker: true },
        timings: undefined,
        responseId: undefined,
      });
      const [saved] = await saveImages({ images: [image], outDir, date });
      paths.push(saved!.path);
    }
    expect(paths.map((file) => path.basename(file))).toEqual(['20260102-030405-a-fox-42.png', '20260102-030405-a-fox-42-2.png', '20260102-030405-a-fox-42-3.png']);
    for (const [index, file] of paths.entries()) {
      const sidecar = JSON.parse(await readFile(file.replace(/\.png$/, '.json'), 'utf8'));
      expect(sidecar).toMatchObject({ file: path.basename(file), model: `togetherai:model-${'abc'[index]}` });
    }
    expect((await readdir(outDir)).filter((name) => name.startsWith('.imagegen-tmp-'))).toEqual([]);
  });
});

describe('generate checks --out before it sends (defect 2)', () => {
  it('--out naming an existing file: exit 2, no request', async () => {
    const file = path.join(await folder(), 'taken');
    await writeFile(file, 'x');
    const result = await imagegen(['generate', 'a fox', '-s', '256x256', '-o', file]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('--out: is a file, not a folder');
    expect(emulator.stats().requests).toBe(0);
  });

  it.skipIf(!tmpfsSupport.available)(`a read-only --out: exit 2, no request${tmpfsNote}`, async () => {
    const disk = mountTmpfs({ size: '1m', readOnly: true });
    cleanups.push(disk.unmount);
    const result = await imagegen(['generate', 'a fox', '-s', '256x256', '-o', disk.dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/--out: is not writable: EROFS/);
    expect(emulator.stats().requests).toBe(0);
  });
});

describe('reference images are regular files under a size cap (defect 6)', () => {
  const KONTEXT = 'togetherai:black-forest-labs/FLUX.1-kontext-pro';

  it('a FIFO is refused at once, naming the file, in generate and in a batch dry run', async () => {
    const dir = await folder();
    const fifo = path.join(dir, 'reference.png');
    execFileSync('mkfifo', [fifo]);
    const generated = await imagegen(['generate', 'make it blue', '-m', KONTEXT, '-i', fifo, '--timeout', '1h', '-o', dir]);
    expect(generated.code).toBe(2);
    expect(generated.stderr).toContain(`is a FIFO, not a regular file; nothing was read or sent (got "${fifo}")`);
    await writeFile(path.join(dir, 'batch.jsonl'), `${JSON.stringify({ prompt: 'make it blue', model: KONTEXT, referenceImages: [fifo] })}\n`);
    const dryRun = await imagegen(['batch', path.join(dir, 'batch.jsonl'), '--dry-run', '-o', path.join(dir, 'out')]);
    expect(dryRun.code).toBe(2);
    expect(dryRun.stderr).toContain('is a FIFO, not a regular file');
    expect(emulator.stats().requests).toBe(0);
  });

  it('a 200 MB file is refused from its size, naming the file and the 20 MB limit, without reading it', async () => {
    const dir = await folder();
    const huge = path.join(dir, 'huge.png');
    await writeFile(huge, renderPlaceholder({ prompt: 'x', seed: 1, width: 16, height: 16, format: 'png' }));
    await truncate(huge, 200 * 1024 * 1024); // sparse: no disk used
    const result = await imagegen(['generate', 'make it blue', '-m', KONTEXT, '-i', huge, '-o', dir]);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain(`is 200.0 MB, over the 20.0 MB limit for reference images; nothing was read or sent (got "${huge}")`);
    expect(result.stderr).not.toContain('timeout');
    expect(emulator.stats().requests).toBe(0);
  });
});
