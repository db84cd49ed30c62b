import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { memoryIO } from './helpers/cli.js';

const run = promisify(execFile);
const ROOT = path.resolve(import.meta.dirname, '..');

/** The files of src/cli/ that `imagegen <args>` loads, by name. */
async function cliModulesLoadedBy(args: string[]): Promise<string[]> {
  return (await srcModulesLoadedBy(args)).filter((file) => file.startsWith('cli/')).map((file) => file.slice('cli/'.length));
}

/** The files of src/ that `imagegen <args>` loads, relative to src/. */
async function srcModulesLoadedBy(args: string[]): Promise<string[]> {
  const log = path.join(await mkdtemp(path.join(tmpdir(), 'imagegen-imports-')), 'imports.log');
  await run(process.execPath, ['--import', 'tsx', '--import', path.join(ROOT, 'test/helpers/record-imports.mjs'), path.join(ROOT, 'scripts/imagegen.ts'), ...args], {
    cwd: ROOT,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', NO_COLOR: '1', IMAGEGEN_IMPORTS_LOG: log },
  });
  const urls = (await readFile(log, 'utf8').catch(() => '')).trim().split('\n').filter(Boolean);
  return [...new Set(urls.map((url) => new URL(url).pathname.split('/src/').at(-1)!))].sort();
}

// Each run starts Node with tsx: generous time for a loaded machine (a hang guard, not a speed check).
describe('commands load lazily: only the command being run', { timeout: 60_000 }, () => {
  it('--version loads no command; a command loads only itself, also after global flags (--price, --config)', async () => {
    const [version, models, batch, mcp] = await Promise.all([
      cliModulesLoadedBy(['--version']),
      cliModulesLoadedBy(['--price', 'togetherai:black-forest-labs/FLUX.2-pro=0.04/image', 'models', '--help']),
      cliModulesLoadedBy(['--config', 'none.json', 'batch', '--help']),
      cliModulesLoadedBy(['mcp', '--help']),
    ]);
    expect(version).toEqual(['main.ts', 'output.ts']);
    // Nor the catalog or any provider: the providers' explicit list is reached only by commands that need it.
    expect((await srcModulesLoadedBy(['--version'])).filter((file) => /^(catalog|providers\/)/.test(file))).toEqual([]);
    expect(models).toEqual(['main.ts', 'models.ts', 'output.ts']);
    expect(batch).toEqual(['batch.ts', 'main.ts', 'output.ts']);
    expect(mcp).toEqual(['main.ts', 'mcp.ts', 'output.ts']);
  });
});

describe('flags with a fixed set of values', () => {
  it('batch --input-format: one of jsonl, csv or text, else exit 2 naming the flag, the value and the choices', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-choice-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\n');
    const io = memoryIO(folder);
    expect(await runCli(['batch', 'prompts.txt', '--input-format', 'xml', '--dry-run'], io)).toBe(2);
    expect(io.stderrText()).toBe('error: --input-format must be jsonl, csv or text (got "xml")\n');
    const good = memoryIO(folder);
    expect(await runCli(['batch', 'prompts.txt', '--input-format', 'text', '--dry-run', '-m', 'local:placeholder'], good)).toBe(0);
  });
});
