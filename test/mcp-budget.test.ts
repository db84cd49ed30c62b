import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'test-key-0123456789';
const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';
type Content = { type: string; text?: string };
const text = (content: unknown) => (content as Content[]).filter((item) => item.type === 'text').map((item) => item.text).join('\n');

describe('imagegen mcp --max-cost', () => {
  let emulator: Emulator;
  let client: Client;
  let outDir: string;

  beforeAll(async () => {
    emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
    outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-budget-'));
    const transport = new StdioClientTransport({
      command: process.execPath,
      args: ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'mcp', '--out', outDir, '--max-cost', '0.02', '--price', `${SCHNELL}=0.01/image`],
      env: { PATH: process.env.PATH ?? '', TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: emulator.url, IMAGEGEN_CACHE_DIR: outDir },
      cwd: ROOT,
      stderr: 'pipe',
    });
    client = new Client({ name: 'imagegen-test', version: '1.0.0' });
    await client.connect(transport);
  }, 30_000);
  afterAll(async () => {
    await client?.close();
    await emulator?.close();
    if (outDir) await rm(outDir, { recursive: true, force: true });
  });

  it('a client that loops is stopped at the limit: the call past it is an error result, nothing sent', async () => {
    const call = (prompt: string) => client.callTool({ name: 'generate_image', arguments: { prompt, size: '256x256' } });
    const first = await call('a fox');
    expect(text(first.content)).toContain('cost $0.0100; budget $0.0100 spent of $0.0200, $0.0100 left');
    const second = await call('a whale');
    expect(text(second.content)).toContain('cost $0.0100; budget $0.0200 spent of $0.0200, $0.0000 left');
    const third = await call('a lighthouse');
    expect(third.isError).toBe(true);
    expect(text(third.content)).toBe('Not sent: togetherai:black-forest-labs/FLUX.1-schnell would cost about $0.0100, and with $0.0200 spent that passes the budget of $0.0200');
    expect(emulator.requests()).toHaveLength(2);
    // Sidecars carry the actual cost beside the estimate (null: Together reports none).
    const sidecar = (await readdir(outDir)).find((file) => file.endsWith('.json'))!;
    expect(JSON.parse(await readFile(path.join(outDir, sidecar), 'utf8'))).toMatchObject({ estimatedCostUsd: 0.01, actualCostUsd: null });
  });
});
