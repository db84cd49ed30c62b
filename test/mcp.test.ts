import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';
import { build } from 'esbuild';
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { memoryIO } from './helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '..');
const KEY = 'test-key-0123456789';
const SCHNELL = 'togetherai:black-forest-labs/FLUX.1-schnell';

type Content = { type: string; text?: string; data?: string; mimeType?: string };
type Session = { client: Client; stderr: () => string; protocolErrors: Error[]; outDir: string };

/** Starts `imagegen mcp` in a child process and connects the official MCP client to it over stdio. */
async function connect(env: Record<string, string>, flags: string[] = []): Promise<Session> {
  const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-'));
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'mcp', '--out', outDir, ...flags],
    env: { PATH: process.env.PATH ?? '', ...env },
    cwd: ROOT,
    stderr: 'pipe',
  });
  let stderr = '';
  transport.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const client = new Client({ name: 'imagegen-test', version: '1.0.0' });
  const protocolErrors: Error[] = [];
  client.onerror = (error) => protocolErrors.push(error);
  await client.connect(transport);
  return { client, stderr: () => stderr, protocolErrors, outDir };
}

const text = (content: unknown) => (content as Content[]).filter((item) => item.type === 'text').map((item) => item.text).join('\n');

describe('imagegen mcp against the emulator', () => {
  let emulator: Emulator;
  let session: Session;

  beforeAll(async () => {
    emulator = await startEmulator({ apiKey: KEY, quiet: true, seed: 1, extraModels: [{ id: 'acme/brand-new-image-model' }] });
    const cacheDir = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-cache-'));
    session = await connect({ TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: emulator.url, IMAGEGEN_CACHE_DIR: cacheDir }, ['--max-count', '4']);
  }, 30_000);
  afterAll(async () => {
    await session?.client.close();
    await emulator?.close();
  });

  it('lists its two tools with their input schemas', async () => {
    const { tools } = await session.client.listTools();
    expect(tools.map((tool) => tool.name)).toEqual(['generate_image', 'list_models']);
    const generate = tools[0]!;
    expect(Object.keys(generate.inputSchema.properties ?? {})).toEqual([
      'prompt',
      'model',
      'size',
      'aspectRatio',
      'count',
      'seed',
      'negativePrompt',
      'steps',
      'referenceImages',
      'mask',
    ]);
    expect(generate.inputSchema.required).toEqual(['prompt']);
    expect(generate.inputSchema.properties?.count).toMatchObject({ minimum: 1, maximum: 4 });
  });

  it('generate_image with count 2: one request, two images returned as image content, saved with sidecars', async () => {
    emulator.reset();
    const result = await session.client.callTool({
      name: 'generate_image',
      arguments: { prompt: 'a lighthouse at dawn', aspectRatio: '16:9', count: 2, seed: 42 },
    });
    expect(result.isError).toBeFalsy();
    expect(emulator.requests().map((request) => request.body)).toEqual([
      { model: 'black-forest-labs/FLUX.1-schnell', prompt: 'a lighthouse at dawn', n: 2, seed: 42, width: 1344, height: 768, response_format: 'base64' },
    ]);
    const content = result.content as Content[];
    expect(content.map((item) => item.type)).toEqual(['image', 'text', 'image', 'text']);

    const files = (await readdir(session.outDir)).sort();
    expect(files).toHaveLength(4);
    expect(files.filter((file) => file.endsWith('.jpg'))).toHaveLength(2);
    expect(files.filter((file) => file.endsWith('.json'))).toHaveLength(2);
    expect(files.some((file) => file.startsWith('.imagegen-tmp-'))).toBe(false);

    for (const position of [0, 1]) {
      const image = content[position * 2]!;
      const caption = content[position * 2 + 1]!.text!;
      expect(image.mimeType).toBe('image/jpeg');
      expect(caption).toMatch(new RegExp(`^Saved (\\S+\\.jpg) \\(1344x768, seed 42, model ${SCHNELL}\\)$`));
      const savedPath = /^Saved (\S+\.jpg)/.exec(caption)![1]!;
      expect(path.dirname(savedPath)).toBe(session.outDir);
      expect(Buffer.from(image.data!, 'base64').equals(await readFile(savedPath))).toBe(true);
      const sidecar = JSON.parse(await readFile(savedPath.replace(/\.jpg$/, '.json'), 'utf8'));
      expect(sidecar).toMatchObject({ model: SCHNELL, seed: 42, width: 1344, height: 768, generator: 'ai-imagegen' });
    }
    expect(session.stderr()).toMatch(/generate_image: 2 image\(s\) from togetherai:black-forest-labs\/FLUX\.1-schnell in \d+ms, 1 request\(s\)/);
  });

  it('invalid arguments are error results naming the field and what is allowed; nothing is sent or written', async () => {
    emulator.reset();
    const before = await readdir(session.outDir);
    const tooMany = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', count: 9 } });
    expect(tooMany.isError).toBe(true);
    expect(text(tooMany.content)).toMatch(/count/);
    expect(text(tooMany.content)).toMatch(/<=4/);

    const steps = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', steps: 40 } });
    expect(steps.isError).toBe(true);
    expect(text(steps.content)).toContain('nothing was sent');
    expect(text(steps.content)).toMatch(/steps: .*12/);

    const both = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', size: '1024x1024', aspectRatio: '16:9' } });
    expect(both.isError).toBe(true);
    expect(text(both.content)).toMatch(/aspectRatio: give either size or aspectRatio, not both/);

    const missingFile = await session.client.callTool({
      name: 'generate_image',
      arguments: { prompt: 'a fox', model: 'togetherai:black-forest-labs/FLUX.2-pro', referenceImages: ['/nonexistent/photo.png'] },
    });
    expect(missingFile.isError).toBe(true);
    expect(text(missingFile.content)).toMatch(/referenceImages/);

    expect(emulator.stats().requests).toBe(0);
    expect(await readdir(session.outDir)).toEqual(before);
  });

  it('provider failures are error results with the typed error message; the key appears nowhere', async () => {
    emulator.reset();
    const result = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: 'togetherai:acme/no-such-model' } });
    expect(result.isError).toBe(true);
    expect(text(result.content)).toMatch(/^togetherai does not serve acme\/no-such-model \(HTTP 404\)/);
    expect(JSON.stringify(result)).not.toContain(KEY);
    expect(session.stderr()).not.toContain(KEY);
    expect(session.stderr()).toMatch(/generate_image failed: togetherai does not serve/);
  });

  it('list_models lists the catalog with what each model takes', async () => {
    const result = await session.client.callTool({ name: 'list_models', arguments: {} });
    const models = JSON.parse(text(result.content)) as { id: string; default?: boolean }[];
    expect(models.length).toBeGreaterThan(20);
    expect(models.map((model) => model.id)).toContain('local:placeholder');
    expect(models.find((model) => model.id === SCHNELL)).toEqual({
      id: SCHNELL,
      displayName: 'FLUX.1 [schnell] (Turbo)',
      default: true,
      sizing: 'dimensions',
      dimensions: { min: 256, max: 1920, multipleOf: 8, default: { width: 1024, height: 1024 } },
      aspectRatios: ['1:1', '16:9', '9:16', '4:3', '3:4', '3:2', '2:3'],
      steps: { min: 1, max: 12, default: 4 },
      maxImagesPerCall: 4,
      seed: true,
      negativePrompt: true,
      referenceImages: 0,
      mask: false,
      outputFormats: ['jpeg', 'png'],
      estimatedPrice: { unit: 'megapixel', usd: 0.0027, defaultSteps: 4 },
    });
    const together = await session.client.callTool({ name: 'list_models', arguments: { provider: 'togetherai' } });
    expect((JSON.parse(text(together.content)) as { id: string }[]).every((model) => model.id.startsWith('togetherai:'))).toBe(true);
  });

  it('list_models with refresh asks the service: a model this release lacks is listed as unchecked, retired ones as no longer listed', async () => {
    const before = emulator.stats().requests;
    const plain = JSON.parse(text((await session.client.callTool({ name: 'list_models', arguments: { provider: 'togetherai' } })).content)) as { id: string }[];
    expect(plain.map((model) => model.id)).not.toContain('togetherai:acme/brand-new-image-model');
    const result = await session.client.callTool({ name: 'list_models', arguments: { provider: 'togetherai', refresh: true } });
    expect(result.isError).toBeFalsy();
    const models = JSON.parse(text(result.content)) as { id: string; known?: boolean; listedByProvider?: boolean }[];
    expect(models.find((model) => model.id === 'togetherai:acme/brand-new-image-model')).toEqual({
      id: 'togetherai:acme/brand-new-image-model',
      displayName: 'acme/brand-new-image-model',
      known: false,
      listedByProvider: true,
    });
    expect(models.find((model) => model.id === SCHNELL)?.listedByProvider).toBe(true);
    expect(models.find((model) => model.id === 'togetherai:black-forest-labs/FLUX.1-dev')?.listedByProvider).toBe(false);
    // Listing is not generating: nothing was sent to the image endpoint.
    expect(emulator.stats().requests).toBe(before);
  });

  it('stdout carried only protocol messages', () => {
    expect(session.protocolErrors).toEqual([]);
  });
});

describe('imagegen mcp offline', () => {
  it('without a key it serves local:placeholder, says so on stderr, and --allow-models limits the choice', async () => {
    const session = await connect({}, ['--allow-models', 'local:placeholder']);
    try {
      const result = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', count: 2, seed: 7, size: '256x256' } });
      expect(result.isError).toBeFalsy();
      expect((result.content as Content[]).map((item) => item.type)).toEqual(['image', 'text', 'image', 'text']);
      expect(text(result.content)).toMatch(/\(256x256, seed 7, model local:placeholder\)/);
      expect((await readdir(session.outDir)).filter((file) => file.endsWith('.png'))).toHaveLength(2);
      expect(session.stderr()).toMatch(/No TOGETHER_API_KEY set: using local:placeholder/);

      const refused = await session.client.callTool({ name: 'generate_image', arguments: { prompt: 'a fox', model: SCHNELL } });
      expect(refused.isError).toBe(true);
      expect(text(refused.content)).toMatch(/model/);
      expect(text(refused.content)).toContain('"local:placeholder"');

      const listed = await session.client.callTool({ name: 'list_models', arguments: {} });
      expect((JSON.parse(text(listed.content)) as { id: string }[]).map((model) => model.id)).toEqual(['local:placeholder']);
      expect(session.protocolErrors).toEqual([]);
    } finally {
      await session.client.close();
    }
    // It starts the server in a child through tsx: past 5 s on a loaded machine.
  }, 30_000);
});

describe('stopping imagegen mcp', () => {
  it.each(['SIGINT', 'SIGTERM'] as const)('%s from the client or its supervisor closes the server: exit 0, no stack trace', async (signal) => {
    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-mcp-stop-'));
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(ROOT, 'scripts/imagegen.ts'), 'mcp', '--out', outDir], {
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
    await serving;
    child.kill(signal);
    // stdin stays open: only the signal can have ended it.
    const [code] = (await exited) as [number | null];
    expect(code).toBe(0);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 30_000);
});

describe('imagegen mcp flags', () => {
  it.each([
    [['--max-count', '0'], 'error: --max-count must be a whole number from 1 to 100 (got "0")'],
    [
      ['--model', 'nonsense'],
      'error: --model "nonsense" is not a model any provider\'s catalog knows. Name its provider as "provider:modelId" (e.g. "togetherai:black-forest-labs/FLUX.2-dev"), or learn the live list with `imagegen models --refresh`.',
    ],
    [
      ['--model', 'local:placeholder', '--allow-models', 'local:placeholder,flux'],
      'error: --allow-models "flux" is not a model any provider\'s catalog knows. Name its provider as "provider:modelId" (e.g. "togetherai:black-forest-labs/FLUX.2-dev"), or learn the live list with `imagegen models --refresh`.',
    ],
  ])('%j is a usage error (exit 2) before the server starts', async (flags, message) => {
    const io = memoryIO();
    expect(await runCli(['mcp', ...flags], io)).toBe(2);
    expect(io.stderrText().trim()).toBe(message);
    expect(io.stdoutText()).toBe('');
  });
});

describe('the MCP SDK stays out of the library', () => {
  it('neither the main entry nor the Node entry bundles it', async () => {
    for (const [entry, platform] of [
      ['src/index.ts', 'browser'],
      ['src/node/index.ts', 'node'],
    ] as const) {
      const result = await build({
        entryPoints: [entry],
        bundle: true,
        write: false,
        platform,
        format: 'esm',
        metafile: true,
        logLevel: 'silent',
        // Packages stay external on Node: what matters is whether anything imports the SDK at all.
        ...(platform === 'node' ? { packages: 'external' as const } : { external: ['@ai-sdk/*'] }),
      });
      const inputs = result.metafile!.inputs;
      const imported = Object.values(inputs).flatMap((input) => input.imports.map((item) => item.path));
      expect([...Object.keys(inputs), ...imported].filter((name) => /@modelcontextprotocol|src\/mcp\//.test(name))).toEqual([]);
      expect(Object.keys(inputs)).toContain('src/tool.ts');
    }
  });
});
