import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { ADVICE, inDoorWords } from '../src/errors/doors.js';
import { generateImages, MissingApiKeyError } from '../src/index.js';
import { createImagegenMcpServer } from '../src/mcp/server.js';
import { memoryIO } from './helpers/cli.js';

/** Every message in the words of the door it reaches: options for the library, flags for the shell, tools for MCP. */

let folder: string;
beforeAll(async () => {
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-doors-'));
  vi.stubEnv('TOGETHER_API_KEY', '');
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('IMAGEGEN_CACHE_DIR', path.join(folder, 'cache'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(folder, { recursive: true, force: true });
});

async function imagegen(argv: string[]) {
  const io = memoryIO(folder);
  const code = await runCli(argv, io, { stopSignal: async () => {} });
  return { code, stdout: io.stdoutText(), stderr: io.stderrText() };
}

async function withMcp<T>(use: (client: Client) => Promise<T>): Promise<T> {
  const server = createImagegenMcpServer({ outDir: path.join(folder, 'mcp'), model: 'local:placeholder', maxCount: 4, version: '0.0.0', log: () => {} });
  const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
  await server.connect(serverSide);
  const client = new Client({ name: 'test', version: '1.0.0' });
  await client.connect(clientSide);
  try {
    return await use(client);
  } finally {
    await client.close();
    await server.close();
  }
}

const text = (content: unknown) => (content as { type: string; text?: string }[]).map((item) => item.text ?? '').join('\n');

describe('no API key', () => {
  it('the library names the environment variables and options.providers', async () => {
    const error = await generateImages({ prompt: 'a cat', model: 'togetherai:black-forest-labs/FLUX.1-schnell' }).catch((caught: unknown) => caught);
    expect(MissingApiKeyError.isInstance(error)).toBe(true);
    expect((error as Error).message).toBe(
      'No API key for Together AI. Set TOGETHER_API_KEY or TOGETHER_AI_API_KEY in the environment, or pass a configured provider instance in options.providers.',
    );
  });

  it('the CLI names -m local:placeholder and the emulator, never options.providers', async () => {
    const { code, stderr } = await imagegen(['generate', 'a cat', '-m', 'togetherai:black-forest-labs/FLUX.1-schnell', '-o', path.join(folder, 'out')]);
    expect(code).toBe(2);
    expect(stderr).toContain('Set TOGETHER_API_KEY or TOGETHER_AI_API_KEY in the environment, or try it offline: `-m local:placeholder`');
    expect(stderr).toContain('`imagegen emulator`');
    expect(stderr).not.toContain('options.providers');
  });

  it('MCP names the server\'s env config and the local:placeholder model', async () => {
    const result = await withMcp((client) => client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat', model: 'togetherai:black-forest-labs/FLUX.1-schnell' } }));
    expect(result.isError).toBe(true);
    expect(text(result.content)).toContain('model "local:placeholder"');
    expect(text(result.content)).not.toContain('options.providers');
  });
});

describe('advice about the model list', () => {
  it('a typo: the library says refreshModelList(), the CLI `imagegen models --refresh`, MCP list_models with refresh: true', async () => {
    const library = await generateImages({ prompt: 'a cat', model: 'togetherai:black-forest-labs/FLUX.1-shnell' }).catch((caught: unknown) => (caught as Error).message);
    expect(library).toContain('`refreshModelList()` learns');
    const cli = await imagegen(['generate', 'a cat', '-m', 'togetherai:black-forest-labs/FLUX.1-shnell']);
    expect(cli.stderr).toContain('`imagegen models --refresh` learns');
    const mcp = await withMcp((client) => client.callTool({ name: 'generate_image', arguments: { prompt: 'a cat', model: 'togetherai:black-forest-labs/FLUX.1-shnell' } }));
    expect(text(mcp.content)).toContain('list_models with refresh: true learns');
    expect(text(mcp.content)).not.toContain('imagegen');
  });

  it('a model without input images: the CLI names the "img in" column its table has', async () => {
    const { stderr } = await imagegen(['generate', 'a cat', '-m', 'togetherai:black-forest-labs/FLUX.1-schnell', '-i', 'https://example.test/cat.png']);
    expect(stderr).toContain('`imagegen models` names the models that do (the "img in" column)');
    const { stdout } = await imagegen(['models']);
    expect(stdout.split('\n')[0]).toContain('img in');
  });

  it('every piece of advice has a different wording per door, and no shell words reach MCP', () => {
    for (const phrase of Object.values(ADVICE)) {
      expect(new Set([phrase.library, phrase.shell, phrase.mcp]).size).toBe(3);
      expect(inDoorWords(`x ${phrase.library} y`, 'mcp')).not.toMatch(/imagegen |--/);
    }
  });
});

describe('imagegen models', () => {
  it('filters by a substring of the id or name', async () => {
    const { code, stdout } = await imagegen(['models', 'kontext', '--wide']);
    expect(code).toBe(0);
    const rows = stdout.split('\n').filter((line) => /^\S+:\S/.test(line));
    expect(rows.length).toBeGreaterThanOrEqual(2);
    expect(rows.every((row) => /kontext/i.test(row))).toBe(true);
  });

  it('an unknown model ends its sentence before the next', async () => {
    const { code, stderr } = await imagegen(['models', 'zzzz-no-such']);
    expect(code).toBe(2);
    expect(stderr).toContain('unknown model "zzzz-no-such". Run `imagegen models` for the list');
  });
});

describe('MCP list_models', () => {
  it('is compact: one model a line, no nulls, and filters by a substring', async () => {
    const all = await withMcp((client) => client.callTool({ name: 'list_models', arguments: { provider: 'togetherai' } }));
    const listing = text(all.content);
    const models = JSON.parse(listing) as { id: string; status?: string }[];
    expect(listing.split('\n')).toHaveLength(models.length + 2);
    expect(listing).not.toMatch(/"(steps|guidance)":null/);
    expect(listing.length).toBeLessThan(16_000);
    expect(models.find((model) => model.id === 'togetherai:black-forest-labs/FLUX.1-dev')?.status).toBe('retired: refused, use the replacement');
    const kontext = await withMcp((client) => client.callTool({ name: 'list_models', arguments: { filter: 'KONTEXT' } }));
    const ids = (JSON.parse(text(kontext.content)) as { id: string }[]).map((model) => model.id);
    expect(ids.length).toBeGreaterThanOrEqual(2);
    expect(ids.every((id) => id.toLowerCase().includes('kontext'))).toBe(true);
  });
});
