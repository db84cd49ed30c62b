import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { InMemoryTransport } from '@modelcontextprotocol/sdk/inMemory.js';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { encode as encodePng } from 'fast-png';
import { asSchema } from 'ai';
import { afterAll, afterEach, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { createImagegenMcpServer } from '../src/mcp/server.js';
import { imageGenerationTool } from '../src/index.js';
import { memoryIO } from './helpers/cli.js';
import { fileRoute, startProviderServer, TEST_KEY, testImage, toBase64, type ProviderServer } from './helpers/provider-server.js';

/**
 * The mask reaches every door: the CLI's --mask, batch lines (JSONL and CSV), compare, the agent
 * tool and MCP, each checked by the body fal's inpainting endpoint receives (through @ai-sdk/fal).
 * The library and imageModel() are covered at each provider's boundary in providers/masks.test.ts.
 */

const MODEL = 'fal:fal-ai/flux-lora/inpainting';
const image = testImage(3);
const mask = encodePng({ width: 256, height: 256, data: Uint8Array.from({ length: 256 * 256 }, (_, index) => (index % 256 >= 128 ? 255 : 0)), channels: 1, depth: 8 });
const dataUrl = (bytes: Uint8Array) => `data:image/png;base64,${toBase64(bytes)}`;

let server: ProviderServer;
let directory: string;
let imageFile: string;
let maskFile: string;

beforeAll(async () => {
  server = await startProviderServer([
    fileRoute,
    {
      method: 'POST',
      path: /^\/fal-ai\//,
      respond: (request, { url }) => ({
        json: { images: [{ url: `${url}/files/0.png`, width: 256, height: 256, content_type: 'image/png' }], seed: (request.body as { seed?: number }).seed ?? 1 },
      }),
    },
  ]);
  directory = await mkdtemp(path.join(tmpdir(), 'imagegen-mask-doors-'));
  imageFile = path.join(directory, 'door.png');
  maskFile = path.join(directory, 'door-mask.png');
  await writeFile(imageFile, image);
  await writeFile(maskFile, mask);
});
afterAll(async () => {
  await server.close();
  await rm(directory, { recursive: true, force: true });
});
afterEach(() => vi.unstubAllEnvs());

function useFal() {
  vi.stubEnv('FAL_API_KEY', TEST_KEY);
  vi.stubEnv('FAL_BASE_URL', server.url);
  server.reset();
}

/** What fal received: the one inpainting body of each request, without the seed. */
const sent = () =>
  server.bodies('POST', /^\/fal-ai\//).map((body) => {
    const { seed: _seed, ...rest } = body as { seed?: number };
    return rest;
  });

const expectedBody = (prompt: string) => ({ prompt, num_images: 1, image_url: dataUrl(image), mask_url: dataUrl(mask) });

describe('the mask at every door', () => {
  it('imagegen generate --mask: sent, and named in the sidecar that reproduces the image', async () => {
    useFal();
    const out = await mkdtemp(path.join(directory, 'generate-'));
    const io = memoryIO(directory);
    expect(await runCli(['generate', 'a red door', '-m', MODEL, '-i', imageFile, '--mask', maskFile, '-o', out, '--json'], io)).toBe(0);
    expect(sent()).toEqual([expectedBody('a red door')]);
    const { images } = JSON.parse(io.stdoutText()) as { images: { file: string }[] };
    const sidecar = JSON.parse(await readFile(path.join(out, images[0]!.file.replace(/\.png$/, '.json')), 'utf8')) as { request: { mask?: string } };
    expect(sidecar.request.mask).toBe(maskFile);
  });

  it('imagegen generate --mask on a model that takes none: exit 2 naming --mask, nothing sent', async () => {
    useFal();
    const io = memoryIO(directory);
    expect(await runCli(['generate', 'a red door', '-m', 'fal:fal-ai/flux/dev/image-to-image', '-i', imageFile, '--mask', maskFile, '-o', directory], io)).toBe(2);
    expect(io.stderrText()).toMatch(/--mask \(mask\): FLUX\.1 \[dev\] image to image takes no mask; models that take one: fal: fal-ai\/flux-lora\/inpainting/);
    expect(server.requests()).toEqual([]);
  });

  it('imagegen batch: a mask field on a JSONL line and a mask column in CSV', async () => {
    useFal();
    const jsonl = path.join(directory, 'jobs.jsonl');
    await writeFile(jsonl, `${JSON.stringify({ prompt: 'door one', model: MODEL, referenceImages: [imageFile], mask: maskFile })}\n`);
    const csv = path.join(directory, 'jobs.csv');
    await writeFile(csv, `prompt,model,referenceImages,mask\ndoor two,${MODEL},${imageFile},${maskFile}\n`);
    for (const [file, prompt] of [[jsonl, 'door one'], [csv, 'door two']] as const) {
      server.reset();
      const out = await mkdtemp(path.join(directory, 'batch-'));
      const io = memoryIO(directory);
      expect(await runCli(['batch', file, '-o', out, '--no-cache'], io), io.stderrText()).toBe(0);
      expect(sent()).toEqual([expectedBody(prompt)]);
    }
  });

  it('imagegen compare: -i and --mask for every cell', async () => {
    useFal();
    const out = await mkdtemp(path.join(directory, 'compare-'));
    const io = memoryIO(directory);
    expect(await runCli(['compare', '-p', 'a red door', '--models', MODEL, '-i', imageFile, '--mask', maskFile, '-o', out, '--no-cache'], io), io.stderrText()).toBe(0);
    expect(sent()).toEqual([expectedBody('a red door')]);
  });

  it('the agent tool offers mask where a model takes one, and sends it', async () => {
    useFal();
    const tool = imageGenerationTool({ model: MODEL, randomSeed: () => 1 });
    const { properties } = (await asSchema(tool.inputSchema).jsonSchema) as { properties: object };
    expect(Object.keys(properties)).toContain('mask');
    await tool.execute!({ prompt: 'a red door', referenceImages: ['https://example.test/door.png'], mask: 'https://example.test/door-mask.png' }, { toolCallId: 'call-1', messages: [] });
    expect(sent()).toEqual([{ prompt: 'a red door', num_images: 1, image_url: 'https://example.test/door.png', mask_url: 'https://example.test/door-mask.png' }]);
  });

  it('imagegen models says which models take a mask', async () => {
    const detail = memoryIO(directory);
    expect(await runCli(['models', MODEL], detail)).toBe(0);
    expect(detail.stdoutText()).toMatch(/^ *mask +yes: repaints where it is white, or transparent$/m);
    const other = memoryIO(directory);
    expect(await runCli(['models', 'fal:fal-ai/flux/dev'], other)).toBe(0);
    expect(other.stdoutText()).not.toMatch(/^ *mask /m);
    const table = memoryIO(directory);
    expect(await runCli(['models', '--provider', 'replicate'], table)).toBe(0);
    expect(table.stdoutText().split('\n').filter((line) => / url\+m /.test(line)).map((line) => line.trim().split(/\s+/)[0])).toEqual([
      'black-forest-labs/flux-fill-pro',
      'black-forest-labs/flux-fill-dev',
    ]);
    expect(table.stdoutText().replace(/\s+/g, ' ')).toContain('(url: one, by URL; +m: and a mask)');
  });

  it('MCP generate_image takes a mask file; list_models says which models take one', async () => {
    useFal();
    const out = await mkdtemp(path.join(directory, 'mcp-'));
    // The files it names are in this test's folder, which the server is told it may read.
    const mcp = createImagegenMcpServer({ version: 'test', model: MODEL, outDir: out, maxCount: 4, log: () => {}, allowDirs: [directory] });
    const [clientTransport, serverTransport] = InMemoryTransport.createLinkedPair();
    await mcp.connect(serverTransport);
    const client = new Client({ name: 'mask-test', version: '1.0.0' });
    await client.connect(clientTransport);
    try {
      const result = await client.callTool({ name: 'generate_image', arguments: { prompt: 'a red door', referenceImages: [imageFile], mask: maskFile } });
      expect(result.isError).toBeFalsy();
      expect(sent()).toEqual([expectedBody('a red door')]);
      const listed = await client.callTool({ name: 'list_models', arguments: { provider: 'fal' } });
      const models = JSON.parse((listed.content as { text: string }[])[0]!.text) as { id: string; mask: boolean }[];
      expect(models.filter((model) => model.mask).map((model) => model.id)).toEqual(['fal:fal-ai/flux-lora/inpainting', 'fal:fal-ai/flux-general/inpainting', 'fal:fal-ai/bria/eraser']);
    } finally {
      await client.close();
      await mcp.close();
    }
  });
});
