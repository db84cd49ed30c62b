import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdir, mkdtemp, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { createImagegenMcpServer, type ImagegenMcpServerOptions } from '../src/mcp/server.js';
import { renderPlaceholder } from '../src/placeholder/render.js';
import { mountTmpfs, tmpfsSupport } from './helpers/tmpfs.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'mcp-safety-key-0123';
const KONTEXT = 'togetherai:black-forest-labs/FLUX.2-dev';
let emulator: Emulator;
let folder: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true });
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-safety-'));
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
  await rm(folder, { recursive: true, force: true });
});

/** The server in this process, connected to the official client over the SDK's in-memory transport. */
async function connect(options: Partial<ImagegenMcpServerOptions> & { outDir: string }): Promise<Client> {
  const server = createImagegenMcpServer({ model: 'togetherai:black-forest-labs/FLUX.1-schnell', maxCount: 4, version: '0', log: () => undefined, ...options });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'mcp-safety-test', version: '1.0.0' });
  await client.connect(clientSide);
  return client;
}

const textOf = (result: unknown) => ((result as { content: { type: string; text?: string }[] }).content).map((item) => item.text ?? '').join('\n');

describe('generate_image checks that it can keep the images before it pays for them', () => {
  it('--out is a file: an error naming it, no request sent', async () => {
    const file = path.join(folder, 'not-a-folder');
    await writeFile(file, 'x');
    const client = await connect({ outDir: file });
    emulator.reset();
    const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', count: 4, size: '256x256' } });
    expect(result.isError).toBe(true);
    expect(textOf(result)).toContain(`outDir: is a file, not a folder (got "${file}")`);
    expect(emulator.stats().requests).toBe(0);
    await client.close();
  });

  it.skipIf(!tmpfsSupport.available)(`--out read-only or full: an error saying which, no request sent${tmpfsSupport.available ? '' : ` (skipped: ${tmpfsSupport.reason})`}`, async () => {
    const readOnly = mountTmpfs({ size: '1m', readOnly: true });
    const full = mountTmpfs({ size: '64k' });
    try {
      await writeFile(path.join(full.dir, 'filler'), new Uint8Array(60 * 1024)).catch(() => undefined);
      emulator.reset();
      for (const [outDir, expected] of [
        [readOnly.dir, /is not writable: EROFS/],
        [full.dir, /(has .* free; one image needs about|is not writable: ENOSPC)/],
      ] as const) {
        const client = await connect({ outDir });
        const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', count: 4, size: '512x512' } });
        expect(result.isError).toBe(true);
        expect(textOf(result)).toMatch(expected);
        await client.close();
      }
      expect(emulator.stats().requests).toBe(0);
    } finally {
      readOnly.unmount();
      full.unmount();
    }
  });
});

describe('referenceImages are confined to the allowed folders', () => {
  it('a path outside, a missing one, and a link leading outside all get one error; a file inside is sent', async () => {
    const allowed = path.join(folder, 'allowed');
    const elsewhere = path.join(folder, 'elsewhere');
    await mkdir(allowed, { recursive: true });
    await mkdir(elsewhere, { recursive: true });
    const png = renderPlaceholder({ prompt: 'ref', seed: 1, width: 64, height: 64, format: 'png' });
    await writeFile(path.join(allowed, 'inside.png'), png);
    await writeFile(path.join(elsewhere, 'secret.png'), png);
    await symlink(path.join(elsewhere, 'secret.png'), path.join(allowed, 'link.png'));
    const client = await connect({ outDir: path.join(folder, 'out'), allowDirs: [allowed] });
    emulator.reset();
    const messages: string[] = [];
    for (const reference of [path.join(elsewhere, 'secret.png'), path.join(elsewhere, 'missing.png'), path.join(allowed, 'link.png'), path.join(allowed, '..', 'elsewhere', 'secret.png')]) {
      const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'make it blue', model: KONTEXT, referenceImages: [reference] } });
      expect(result.isError).toBe(true);
      // The value shown is cut to a length, so a long path shows only in part: the message is compared without it.
      messages.push(textOf(result).replace(/ \(got ".*\)$/s, ''));
    }
    expect(new Set(messages).size).toBe(1);
    expect(messages[0]).toContain('is not a file in a folder this server may read');
    expect(emulator.stats().requests).toBe(0);
    const inside = await client.callTool({ name: 'generate_image', arguments: { prompt: 'make it blue', model: KONTEXT, referenceImages: [path.join(allowed, 'inside.png')], size: '256x256' } });
    expect(textOf(inside)).toContain('Saved ');
    expect(inside.isError).toBeFalsy();
    expect(emulator.stats().requests).toBe(1);
    await client.close();
  });
});

describe('a message over the MCP SDK stdio limit', () => {
  it('is said on stderr and ends the server with exit 1, not a silent 0', async () => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-big-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'mcp', '--out', outDir, '-m', 'local:placeholder'], {
      cwd: ROOT,
      env: { PATH: process.env.PATH ?? '' },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stderr = '';
    const serving = new Promise<void>((resolve) =>
      child.stderr.on('data', (chunk: Buffer) => {
        stderr += chunk.toString();
        if (stderr.includes('serving on stdio')) resolve();
      }),
    );
    const exited = once(child, 'exit');
    // The server closes stdin while the message is still being written.
    child.stdin.on('error', () => undefined);
    await serving;
    child.stdin.write(`{"jsonrpc":"2.0","id":1,"method":"tools/call","params":{"name":"generate_image","arguments":{"prompt":"${'x'.repeat(11 * 1024 * 1024)}"}}}\n`);
    const [code] = (await exited) as [number | null];
    expect(code).toBe(1);
    expect(stderr).toContain("over the MCP SDK's 10 MB stdio limit");
    await rm(outDir, { recursive: true, force: true });
  }, 30_000);
});
