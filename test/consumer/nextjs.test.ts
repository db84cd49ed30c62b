import { spawn, type ChildProcess } from 'node:child_process';
import { rm } from 'node:fs/promises';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import sharp from 'sharp';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../../src/emulator/index.js';
import { cleanEnvironment, freePort, installApp, packTarball, runOk, type ConsumerApp } from '../helpers/consumer.js';

// A Next.js app (16, the newest major that runs on Node 20) with the installed package and no
// config for it: `next build` (Turbopack), then `next start` on 127.0.0.1. A Node route and an
// edge route each answer with an image from local:placeholder and from the emulator, and with
// MissingProviderPackageError for a provider whose package the app did not install.

const MODEL = 'togetherai:black-forest-labs/FLUX.1-schnell';

let app: ConsumerApp;
let emulator: Emulator;
let server: ChildProcess | undefined;
let serverOutput = '';
let origin: string;

beforeAll(async () => {
  app = await installApp({ name: 'next', tarball: await packTarball() });
  emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
  const environment = { NEXT_TELEMETRY_DISABLED: '1', TOGETHER_API_KEY: 'next-key', TOGETHER_BASE_URL: emulator.url };
  await rm(path.join(app.dir, '.next'), { recursive: true, force: true });
  await runOk(app.node, ['node_modules/next/dist/bin/next', 'build'], { cwd: app.dir, env: environment });

  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = spawn(app.node, ['node_modules/next/dist/bin/next', 'start', '-H', '127.0.0.1', '-p', String(port)], {
    cwd: app.dir,
    env: cleanEnvironment(environment),
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout!.setEncoding('utf8').on('data', (chunk: string) => (serverOutput += chunk));
  server.stderr!.setEncoding('utf8').on('data', (chunk: string) => (serverOutput += chunk));
  // Ready when it answers; a server that exits instead fails here with its output.
  for (;;) {
    if (server.exitCode !== null) throw new Error(`next start exited with ${server.exitCode}\n${serverOutput}`);
    const answered = await fetch(`${origin}/node?model=local:placeholder`).then(
      () => true,
      () => false,
    );
    if (answered) break;
    await sleep(200);
  }
}, 600_000);

afterAll(async () => {
  server?.kill();
  await emulator?.close();
});

async function get(route: string, query: Record<string, string>) {
  const response = await fetch(`${origin}/${route}?${new URLSearchParams(query)}`);
  const type = response.headers.get('content-type') ?? '';
  const bytes = Buffer.from(await response.arrayBuffer());
  const failure = type.startsWith('image/') ? undefined : `${response.status} ${bytes.toString('utf8')}\n--- next start ---\n${serverOutput}`;
  return { response, type, bytes, failure };
}

async function decoded(bytes: Buffer) {
  const { info } = await sharp(bytes).raw().toBuffer({ resolveWithObject: true });
  return { format: (await sharp(bytes).metadata()).format, width: info.width, height: info.height };
}

describe.each(['node', 'edge'])('a Next.js %s route', (route) => {
  it('an image from local:placeholder (PNG and JPEG)', async () => {
    for (const format of ['png', 'jpeg']) {
      const { response, type, bytes, failure } = await get(route, { model: 'local:placeholder', format });
      expect(failure).toBeUndefined();
      expect({ status: response.status, type }).toEqual({ status: 200, type: `image/${format}` });
      expect(await decoded(bytes)).toEqual({ format, width: 384, height: 256 });
    }
  }, 60_000);

  it('four images from the emulator in one request', async () => {
    emulator.reset();
    const { response, bytes, failure } = await get(route, { model: MODEL, count: '4' });
    expect(failure).toBeUndefined();
    expect({ images: response.headers.get('x-images'), requests: response.headers.get('x-requests') }).toEqual({ images: '4', requests: '1' });
    expect((await decoded(bytes)).width).toBe(384);
    const generations = emulator.requests().filter((request) => request.path === '/v1/images/generations');
    expect(generations.map((request) => request.body)).toEqual([expect.objectContaining({ model: 'black-forest-labs/FLUX.1-schnell', n: 4, width: 384, height: 256 })]);
  }, 60_000);

  it('a provider whose package is not installed: MissingProviderPackageError', async () => {
    const response = await fetch(`${origin}/${route}?model=fal:fal-ai/flux/dev`);
    expect(response.status).toBe(500);
    expect(await response.json()).toEqual({ name: 'MissingProviderPackageError', message: expect.stringContaining('@ai-sdk/fal') });
  }, 60_000);
});
