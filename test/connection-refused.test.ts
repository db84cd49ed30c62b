import { APICallError } from 'ai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { generateImages, ProviderError } from '../src/node/index.js';
import { memoryIO } from './helpers/cli.js';

/** Nothing listening at the base URL: said at once, with the URL tried. */

let folder: string;
let baseURL: string;

beforeAll(async () => {
  // A port that was free a moment ago and has nothing listening now.
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  baseURL = `http://127.0.0.1:${port}`;
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-refused-'));
  vi.stubEnv('TOGETHER_API_KEY', 'test-key-refused');
  vi.stubEnv('TOGETHER_BASE_URL', baseURL);
  vi.stubEnv('IMAGEGEN_CACHE_DIR', path.join(folder, 'cache'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await rm(folder, { recursive: true, force: true });
});

describe('connection refused', () => {
  it('generateImages: the URL tried is named, and the AI SDK does not retry (its cause is the one call, not a RetryError)', async () => {
    const error = await generateImages({ prompt: 'a fox', model: 'togetherai:black-forest-labs/FLUX.1-schnell', size: '256x256' }).then(
      () => expect.unreachable('should fail'),
      (caught: unknown) => caught as ProviderError,
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    expect(error.message).toContain(`Could not reach togetherai at ${baseURL}/images/generations for black-forest-labs/FLUX.1-schnell: ECONNREFUSED (nothing is listening there)`);
    expect(APICallError.isInstance(error.cause)).toBe(true);
    expect((error.cause as APICallError).isRetryable).toBe(false);
  });

  it('batch: recorded as failed after one attempt, no retries', async () => {
    const input = path.join(folder, 'one.txt');
    await writeFile(input, 'a fox\n');
    const io = memoryIO(folder);
    const code = await runCli(['batch', input, '-m', 'togetherai:black-forest-labs/FLUX.1-schnell', '-s', '256x256', '-o', path.join(folder, 'out'), '--json'], io, {
      stopSignal: async () => {},
    });
    expect(code).toBe(1);
    const { summary } = JSON.parse(io.stdoutText()) as { summary: { failed: number; retries: number; failures: { error: string }[] } };
    expect(summary).toMatchObject({ failed: 1, retries: 0 });
    expect(summary.failures[0]!.error).toContain(`at ${baseURL}/images/generations`);
  });
});
