import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { formatSummary } from '../src/cli/batch.js';
import { runCli } from '../src/cli/main.js';
import type { BatchSummary } from '../src/batch/engine.js';
import { memoryIO } from './helpers/cli.js';

/** What a new user meets at the shell: each message points the right way. */

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-friction-'));
  vi.stubEnv('TOGETHER_API_KEY', '');
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('IMAGEGEN_CACHE_DIR', path.join(folder, 'cache'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(folder, { recursive: true, force: true });
});

async function imagegen(argv: string[], env: Record<string, string | undefined> = {}) {
  const io = { ...memoryIO(folder) };
  const withEnv = { ...io, env: { ...process.env, npm_lifecycle_script: undefined, npm_lifecycle_event: undefined, ...env } };
  const code = await runCli(argv, withEnv, { stopSignal: async () => {} });
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

describe('words after the prompt', () => {
  it('under npm run, a quoted prompt with a stray value: npm kept the flag, put -- before the arguments', async () => {
    // `npm run generate "a cat" -n 2`: npm keeps -n, the CLI gets "a cat" 2.
    const { code, stderr } = await imagegen(['generate', 'a cat', '2'], { npm_lifecycle_script: 'tsx scripts/imagegen.ts generate', npm_lifecycle_event: 'generate' });
    expect(code).toBe(2);
    expect(stderr).toContain('got "2" after the prompt: npm run keeps the flags written before `--` for itself and passes on only their values.');
    expect(stderr).toContain('npm run generate -- "a cat" -n 2');
    expect(stderr).not.toContain('put it in quotes');
  });

  it('outside npm, a quoted prompt with a stray word is not told to quote', async () => {
    const { stderr } = await imagegen(['generate', 'a cat', '2']);
    expect(stderr).toContain('got "2" after the prompt "a cat": each flag needs its dash and name, e.g. -n 2');
  });

  it('an unquoted prompt is still told to quote it', async () => {
    const { stderr } = await imagegen(['generate', 'a', 'cat']);
    expect(stderr).toContain('put it in quotes, like imagegen generate "a cat"');
  });
});

describe('batch', () => {
  it('a file with one bad line names --skip-invalid when others are valid', async () => {
    const input = path.join(folder, 'mixed.jsonl');
    await writeFile(input, '{"prompt": "a fox"}\n{"prompt": "a cat", "steps": "many"}\n{"prompt": "an owl"}\n');
    const { code, stderr } = await imagegen(['batch', input, '-m', 'local:placeholder', '-o', path.join(folder, 'mixed-out')]);
    expect(code).toBe(2);
    expect(stderr).toContain('2 other lines are valid: fix this line, or run again with --skip-invalid to send the valid ones and leave this line out.');
  });

  it('the stop summary says the line that opened a circuit was sent, and the later ones were not', () => {
    const summary = {
      stopped: true,
      durationMs: 3200,
      fileSystemError: undefined,
      openCircuits: [{ scope: 'togetherai', reason: 'togetherai rejected the API key (HTTP 401): invalid. Check TOGETHER_API_KEY.', line: 2 }],
      done: 1,
      cached: 0,
      skipped: 0,
      failed: 3,
      pending: 0,
      requests: 2,
      retries: 0,
      images: 1,
      imagesPerMinute: 20,
      estimatedCostUsd: 0,
      actualCostUsd: null,
      spentUsd: 0,
      budget: null,
      failures: [],
    } as unknown as BatchSummary;
    expect(formatSummary(summary, '/out')).toContain(
      '  line 2 was sent and failed: togetherai rejected the API key (HTTP 401): invalid. Check TOGETHER_API_KEY; the later requests to togetherai were not sent, as the error would repeat\n',
    );
    expect(formatSummary(summary, '/out')).not.toContain('not sent after a repeating error');
  });

  it('the dry run counts in the singular when there is one', async () => {
    const input = path.join(folder, 'one.txt');
    await writeFile(input, 'a fox\n');
    const { stdout } = await imagegen(['batch', input, '-m', 'local:placeholder', '--dry-run', '-o', path.join(folder, 'dry-out')]);
    expect(stdout).toContain('dry run, nothing sent: 1 request, 1 image,');
    expect(stdout).toMatch(/ {2}local:placeholder: 1 request, 1 image, /);
  });
});

describe('--json gives each image a path usable from the current directory', () => {
  it('generate: relative to the directory the command ran in, beside file (relative to outDir)', async () => {
    const { code, stdout } = await imagegen(['generate', 'a fox', '-n', '2', '-o', 'json-out', '--json']);
    expect(code).toBe(0);
    const { images } = JSON.parse(stdout) as { images: { file: string; path: string }[] };
    for (const image of images) {
      expect(image.path).toBe(path.join('json-out', image.file));
      expect(existsSync(path.join(folder, image.path))).toBe(true);
    }
  });

  it('generate: absolute when the folder is outside the current directory', async () => {
    const elsewhere = path.join(folder, '..', `${path.basename(folder)}-elsewhere`);
    try {
      const { stdout } = await imagegen(['generate', 'a fox', '-o', elsewhere, '--json']);
      const [image] = (JSON.parse(stdout) as { images: { file: string; path: string }[] }).images;
      expect(image!.path).toBe(path.join(elsewhere, image!.file));
    } finally {
      await rm(elsewhere, { recursive: true, force: true });
    }
  });

  it('batch: the same', async () => {
    const input = path.join(folder, 'two.txt');
    await writeFile(input, 'a fox\nan owl\n');
    const { stdout } = await imagegen(['batch', 'two.txt', '-m', 'local:placeholder', '-o', 'batch-json', '--json']);
    const { images } = JSON.parse(stdout) as { images: { file: string; path: string }[] };
    expect(images).toHaveLength(2);
    for (const image of images) {
      expect(image.path).toBe(path.join('batch-json', image.file));
      expect(existsSync(path.join(folder, image.path))).toBe(true);
    }
  });
});
