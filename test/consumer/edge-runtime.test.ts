import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { installApp, lastJsonLine, packTarball, run, type ConsumerApp } from '../helpers/consumer.js';

// The core from the installed package, bundled for the edge (esbuild, platform neutral, the
// edge/worker/browser conditions: a Node built-in would fail the build) and run in Vercel's
// edge-runtime, the runtime of Vercel's edge functions and Next's edge routes.

type EdgeReport = {
  inputs: string[];
  responses: { url: string; status: number; contentType: string; images: string | null; requests: string | null; base64?: string; body?: { name: string; message: string } }[];
};

let app: ConsumerApp;
let emulator: Emulator;
let report: EdgeReport;
let stderr: string;

beforeAll(async () => {
  app = await installApp({ name: 'edge', tarball: await packTarball() });
  emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
  const emulatorQuery = new URLSearchParams({ baseURL: emulator.url, apiKey: 'edge-key', model: 'togetherai:black-forest-labs/FLUX.1-schnell', count: '4' });
  const result = await run(
    app.node,
    [
      'run-edge.mjs',
      'http://edge.test/?format=png',
      'http://edge.test/?format=jpeg',
      `http://edge.test/?${emulatorQuery}`,
      'http://edge.test/?model=fal:fal-ai/flux/dev',
    ],
    { cwd: app.dir },
  );
  stderr = result.stderr;
  report = lastJsonLine<EdgeReport>(result);
}, 300_000);

afterAll(async () => {
  await emulator?.close();
});

async function decode(base64: string | undefined) {
  const { info } = await sharp(Buffer.from(base64 ?? '', 'base64')).raw().toBuffer({ resolveWithObject: true });
  return { width: info.width, height: info.height };
}

describe('the core runs in edge-runtime', () => {
  it('bundles with no Node built-ins and no sharp', () => {
    expect(report.inputs.filter((input) => /(^|\/)node:|\/sharp\/|\/dist\/(node|cli|batch|compare|emulator)\//.test(input))).toEqual([]);
    expect(report.inputs).toContain('node_modules/ai-imagegen/dist/generate.js');
  });

  it('PNG from local:placeholder', async () => {
    const [png] = report.responses;
    expect(png, stderr).toMatchObject({ status: 200, contentType: 'image/png', images: '1' });
    expect(await decode(png!.base64)).toEqual({ width: 384, height: 256 });
    expect((await sharp(Buffer.from(png!.base64!, 'base64')).metadata()).format).toBe('png');
  });

  it('JPEG from local:placeholder', async () => {
    const jpeg = report.responses[1]!;
    expect(jpeg.body ?? jpeg.contentType, stderr).toBe('image/jpeg');
    expect(jpeg.status).toBe(200);
    expect(await decode(jpeg.base64)).toEqual({ width: 384, height: 256 });
    expect((await sharp(Buffer.from(jpeg.base64!, 'base64')).metadata()).format).toBe('jpeg');
  });

  it("the app's own Together instance against the emulator: count 4 in one request", async () => {
    const together = report.responses[2]!;
    expect(together.body ?? together.contentType, stderr).toEqual(expect.stringMatching(/^image\//));
    expect(together).toMatchObject({ status: 200, images: '4', requests: '1' });
    expect(emulator.requests().filter((request) => request.path === '/v1/images/generations').map((request) => request.body)).toEqual([
      expect.objectContaining({ n: 4, width: 384, height: 256 }),
    ]);
  });

  it('an uninstalled provider is a MissingProviderPackageError', () => {
    expect(report.responses[3]).toMatchObject({ status: 500, body: { name: 'MissingProviderPackageError', message: expect.stringContaining('@ai-sdk/fal') } });
  });
});
