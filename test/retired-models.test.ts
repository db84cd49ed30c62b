import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { generateImage } from 'ai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, beforeEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { findModel, imageGenerationTool, imageModel, isRetired, ModelNotFoundError, RetiredModelError } from '../src/index.js';
import { createImagegenMcpServer } from '../src/mcp/server.js';
import { generateImages } from '../src/node/index.js';
import { memoryIO } from './helpers/cli.js';

/**
 * Models Together retired are refused before anything is sent, in every door, with a typed error
 * naming the replacement; a 404 for a model the catalog knows names its replacement too.
 */

const KEY = 'test-key-retired';
const FLUX_1_DEV = 'togetherai:black-forest-labs/FLUX.1-dev';
const KREA_DEV = 'togetherai:black-forest-labs/FLUX.1-krea-dev';
const SCHNELL_FREE = 'togetherai:black-forest-labs/FLUX.1-schnell-Free';

let emulator: Emulator;
let folder: string;

beforeAll(async () => {
  emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1 });
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-retired-'));
  vi.stubEnv('TOGETHER_API_KEY', KEY);
  vi.stubEnv('TOGETHER_AI_API_KEY', '');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
  vi.stubEnv('IMAGEGEN_CACHE_DIR', path.join(folder, 'cache'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
  await rm(folder, { recursive: true, force: true });
});
beforeEach(() => emulator.reset());

const caught = (promise: Promise<unknown>) => promise.then(() => expect.unreachable('should have been refused'), (error: unknown) => error);

describe('which models are retired', () => {
  it('removed ones, and deprecated ones whose date has passed; not one deprecated for a later date, nor one only unlisted', () => {
    const krea = findModel('togetherai', 'black-forest-labs/FLUX.1-krea-dev')!;
    expect(isRetired(findModel('togetherai', 'black-forest-labs/FLUX.1-dev')!)).toBe(true);
    expect(isRetired(krea, new Date('2026-05-26T12:00:00Z'))).toBe(false);
    expect(isRetired(krea, new Date('2026-05-27T00:00:00Z'))).toBe(true);
    expect(isRetired(findModel('togetherai', 'black-forest-labs/FLUX.1-schnell-Free')!)).toBe(false);
    expect(isRetired(findModel('togetherai', 'black-forest-labs/FLUX.2-dev')!)).toBe(false);
  });
});

describe('a retired model is refused before sending, in every door', () => {
  it('generateImages: a RetiredModelError naming the replacement, nothing sent', async () => {
    const error = await caught(generateImages({ prompt: 'a fox', model: FLUX_1_DEV }));
    expect(RetiredModelError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ replacement: 'togetherai:black-forest-labs/FLUX.2-dev', retiredOn: '2026-02-27', issues: [{ field: 'model', value: FLUX_1_DEV }] });
    expect((error as Error).message).toMatchInlineSnapshot(`
      "Invalid request; nothing was sent:
        - model: FLUX.1 [dev] was retired by togetherai on 2026-02-27 and no longer runs; use togetherai:black-forest-labs/FLUX.2-dev instead (got "togetherai:black-forest-labs/FLUX.1-dev")"
    `);
    const krea = await caught(generateImages({ prompt: 'a fox', model: KREA_DEV }));
    expect(krea).toMatchObject({ replacement: 'togetherai:black-forest-labs/FLUX.2-dev', retiredOn: '2026-05-27' });
    expect(emulator.requests()).toEqual([]);
  });

  it('the replacement keeps the provider name the app gave (together: for an app whose provider is named so)', async () => {
    const { createTogetherAI } = await import('@ai-sdk/togetherai');
    const together = createTogetherAI({ apiKey: KEY, baseURL: `${emulator.url}/v1` });
    const error = await caught(generateImages({ prompt: 'a fox', model: 'together:black-forest-labs/FLUX.1-kontext-dev' }, { providers: { together } }));
    expect(error).toMatchObject({ replacement: 'together:black-forest-labs/FLUX.1-kontext-pro' });
  });

  it('imageModel(): refused where the model is made, with the same typed error', () => {
    let error: unknown;
    try {
      imageModel(FLUX_1_DEV);
    } catch (thrown) {
      error = thrown;
    }
    expect(RetiredModelError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ replacement: 'togetherai:black-forest-labs/FLUX.2-dev' });
  });

  it('imageGenerationTool(): refused where the tool is made', () => {
    expect(() => imageGenerationTool({ model: FLUX_1_DEV })).toThrow('use togetherai:black-forest-labs/FLUX.2-dev instead');
    expect(() => imageGenerationTool({ models: ['togetherai:black-forest-labs/FLUX.1-krea-dev'] })).toThrow(RetiredModelError);
  });

  it('the CLI: exit 2, the --model flag and the replacement named, nothing sent', async () => {
    const io = memoryIO(folder);
    const code = await runCli(['generate', 'a fox', '-m', FLUX_1_DEV, '-o', path.join(folder, 'out')], io, { stopSignal: async () => {} });
    expect(code).toBe(2);
    expect(io.stderrText()).toContain('--model (model): FLUX.1 [dev] was retired by togetherai on 2026-02-27 and no longer runs; use togetherai:black-forest-labs/FLUX.2-dev instead');
    expect(emulator.requests()).toEqual([]);
  });

  it('a batch line: refused at its line and column, with the replacement', async () => {
    const input = path.join(folder, 'retired.jsonl');
    await writeFile(input, `{"prompt": "a fox"}\n{"prompt": "a cat", "model": "${FLUX_1_DEV}"}\n`);
    const io = memoryIO(folder);
    const code = await runCli(['batch', input, '-o', path.join(folder, 'batch-out')], io, { stopSignal: async () => {} });
    expect(code).toBe(2);
    expect(io.stderrText()).toMatch(/retired\.jsonl:2:\d+: model: FLUX\.1 \[dev\] was retired by togetherai on 2026-02-27 and no longer runs; use togetherai:black-forest-labs\/FLUX\.2-dev instead/);
    expect(emulator.requests()).toEqual([]);
  });

  it('MCP generate_image: an error result naming the replacement', async () => {
    const server = createImagegenMcpServer({ outDir: path.join(folder, 'mcp-out'), model: 'togetherai:black-forest-labs/FLUX.1-schnell', maxCount: 4, version: '0.0.0', log: () => {} });
    const [clientSide, serverSide] = InMemoryTransport.createLinkedPair();
    await server.connect(serverSide);
    const client = new Client({ name: 'test', version: '1.0.0' });
    await client.connect(clientSide);
    try {
      const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: FLUX_1_DEV } });
      expect(result.isError).toBe(true);
      expect(JSON.stringify(result.content)).toContain('use togetherai:black-forest-labs/FLUX.2-dev instead');
      expect(emulator.requests()).toEqual([]);
    } finally {
      await client.close();
      await server.close();
    }
  });
});

describe('a 404 for a model the catalog knows names the replacement', () => {
  it('generateImages: a ModelNotFoundError for FLUX.1 schnell Free (no longer listed, answered 404), naming FLUX.1 schnell', async () => {
    const error = (await caught(generateImages({ prompt: 'a fox', model: SCHNELL_FREE, size: '512x512' }))) as Error;
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ statusCode: 404, replacement: 'togetherai:black-forest-labs/FLUX.1-schnell' });
    expect(error.message).toContain('Unable to access model black-forest-labs/FLUX.1-schnell-Free');
    expect(error.message).toContain('use togetherai:black-forest-labs/FLUX.1-schnell instead');
  });

  it('imageModel() + generateImage: the same typed error, not a bare AI_APICallError', async () => {
    const error = await caught(generateImage({ model: imageModel(SCHNELL_FREE), prompt: 'a fox', size: '512x512' }));
    expect(ModelNotFoundError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('use togetherai:black-forest-labs/FLUX.1-schnell instead');
  });
});
