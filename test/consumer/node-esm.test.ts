import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { installApp, lastJsonLine, packTarball, run, runOk, type ConsumerApp } from '../helpers/consumer.js';

// A Node 20 ESM app on ai 6 that installs the packed tarball: no loader, no config.
const TYPESCRIPT_TOOLCHAIN = ['typescript', 'tsx', 'esbuild', '@esbuild', 'ts-node', '@swc/core'];

let app: ConsumerApp;
let emulator: Emulator;
let out: string;

beforeAll(async () => {
  app = await installApp({ name: 'node-esm', tarball: await packTarball() });
  emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
  out = await mkdtemp(path.join(tmpdir(), 'imagegen-consumer-out-'));
}, 300_000);

afterAll(async () => {
  await emulator?.close();
  if (out) await rm(out, { recursive: true, force: true });
});

type GenerateReport = {
  ok: boolean;
  name?: string;
  message?: string;
  requests: number;
  images: { file: string; mediaType: string; width: number; height: number; seed: number }[];
};

async function expectDecodable(file: string, { width, height, format }: { width: number; height: number; format: 'png' | 'jpeg' }) {
  const { data, info } = await sharp(await readFile(file)).raw().toBuffer({ resolveWithObject: true });
  expect({ width: info.width, height: info.height, bytes: data.length > 0 }).toEqual({ width, height, bytes: true });
  expect((await sharp(file).metadata()).format).toBe(format);
}

describe('a Node 20 ESM app installs the tarball', () => {
  it('pulls the peers it needs and no TypeScript toolchain or sharp', async () => {
    expect(app.installLog).not.toMatch(/ERESOLVE|peer dep/i);
    for (const name of TYPESCRIPT_TOOLCHAIN) expect(existsSync(path.join(app.dir, 'node_modules', name)), name).toBe(false);
    expect(existsSync(path.join(app.dir, 'node_modules/sharp'))).toBe(false);
    const { stdout } = await runOk('npm', ['ls', 'ai', '--all', '--json'], { cwd: app.dir });
    const tree = JSON.parse(stdout) as { dependencies: Record<string, { version: string; dependencies?: Record<string, { version: string }> }> };
    expect(tree.dependencies.ai?.version).toMatch(/^6\./);
    // The package uses the app's ai: deduped, not a nested copy.
    expect(tree.dependencies['ai-imagegen']?.dependencies?.ai?.version).toBe(tree.dependencies.ai?.version);
  }, 60_000);

  it('generateImages on local:placeholder: four decodable PNGs, offline', async () => {
    const result = await run(app.node, ['generate.mjs', 'local:placeholder', out], { cwd: app.dir });
    const report = lastJsonLine<GenerateReport>(result);
    expect(report, result.stderr).toMatchObject({ ok: true, requests: 1 });
    expect(report.images.map((image) => [image.mediaType, image.width, image.height])).toEqual(Array(4).fill(['image/png', 512, 512]));
    for (const image of report.images) await expectDecodable(image.file, { width: 512, height: 512, format: 'png' });
  }, 60_000);

  it('generateImages against the emulator: count 4 is one request with n: 4', async () => {
    emulator.reset();
    const result = await run(app.node, ['generate.mjs', 'togetherai:black-forest-labs/FLUX.1-schnell', out], {
      cwd: app.dir,
      env: { TOGETHER_API_KEY: 'consumer-key', TOGETHER_BASE_URL: emulator.url },
    });
    const report = lastJsonLine<GenerateReport>(result);
    expect(report, result.stderr).toMatchObject({ ok: true, requests: 1 });
    expect(report.images).toHaveLength(4);
    const generations = emulator.requests().filter((request) => request.path === '/v1/images/generations');
    expect(generations.map((request) => request.body)).toEqual([expect.objectContaining({ n: 4, width: 512, height: 512, seed: 7 })]);
    for (const image of report.images) await expectDecodable(image.file, { width: 512, height: 512, format: image.mediaType === 'image/png' ? 'png' : 'jpeg' });
  }, 60_000);

  it("require('ai-imagegen') and require('ai-imagegen/node') work from CommonJS", async () => {
    const result = await run(app.node, ['require.cjs'], { cwd: app.dir });
    expect(lastJsonLine(result)).toEqual({ generateImages: 'function', imageModel: 'function', saveImages: 'function', guard: true, version: expect.any(String) });
  }, 60_000);

  it('the bin runs compiled JavaScript: --version and an offline generate with no key', async () => {
    const bin = path.join(app.dir, 'node_modules/.bin/imagegen');
    const { version } = JSON.parse(await readFile(path.join(app.dir, 'node_modules/ai-imagegen/package.json'), 'utf8')) as { version: string };
    const versionRun = await runOk(bin, ['--version'], { cwd: app.dir });
    expect(versionRun.stdout.trim()).toBe(version);

    const generateRun = await runOk(bin, ['generate', 'a lighthouse at dawn', '-s', '640x384', '-o', out, '--json'], { cwd: app.dir });
    const report = JSON.parse(generateRun.stdout) as { outDir: string; images: { file: string; width: number; height: number; provider: string }[] };
    expect(report.images.map((image) => [image.provider, image.width, image.height])).toEqual([['local', 640, 384]]);
    await expectDecodable(path.resolve(app.dir, report.outDir, report.images[0]!.file), { width: 640, height: 384, format: 'png' });
    expect(generateRun.stderr).toMatch(/local:placeholder/);
  }, 60_000);

  it('imagegen mcp without its optional peer says what to install (exit 2), sends nothing', async () => {
    const bin = path.join(app.dir, 'node_modules/.bin/imagegen');
    expect(existsSync(path.join(app.dir, 'node_modules/@modelcontextprotocol/sdk'))).toBe(false);
    const result = await run(bin, ['mcp', '-o', out], { cwd: app.dir });
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr).toMatch(/imagegen mcp needs the package @modelcontextprotocol\/sdk, which is not installed\. Run: npm install @modelcontextprotocol\/sdk/);
  }, 60_000);

  it('imagegen emulator without sharp (an optional peer) starts and draws with the pure-JS renderer', async () => {
    const bin = path.join(app.dir, 'node_modules/.bin/imagegen');
    expect(existsSync(path.join(app.dir, 'node_modules/sharp'))).toBe(false);
    const child = spawn(bin, ['emulator', '--port', '0', '--quiet'], { cwd: app.dir, stdio: ['ignore', 'pipe', 'pipe'] });
    try {
      let stdout = '';
      const url = await new Promise<string>((resolve, reject) => {
        child.stdout.on('data', (chunk: Buffer) => {
          stdout += chunk.toString();
          const match = /http:\/\/127\.0\.0\.1:\d+/.exec(stdout);
          if (match) resolve(match[0]);
        });
        child.once('exit', (code) => reject(new Error(`the emulator exited (${code}) before listening`)));
      });
      for (const format of ['png', 'jpeg'] as const) {
        const response = await fetch(`${url}/v1/images/generations`, {
          method: 'POST',
          headers: { authorization: 'Bearer any-key', 'content-type': 'application/json' },
          body: JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'a lighthouse', width: 512, height: 256, response_format: 'base64', output_format: format }),
        });
        expect(response.status).toBe(200);
        const { data } = (await response.json()) as { data: { b64_json: string }[] };
        const file = path.join(out, `emulator-without-sharp.${format}`);
        await writeFile(file, Buffer.from(data[0]!.b64_json, 'base64'));
        await expectDecodable(file, { width: 512, height: 256, format });
      }
    } finally {
      child.kill('SIGTERM');
    }
  }, 60_000);
});
