import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { clearLiveModels, InvalidResponseError, ProviderError, refreshModelList, TimeoutError } from '../src/index.js';
import { loadCachedModelList, modelListCachePath, refreshModelListCached } from '../src/node/index.js';
import { memoryIO } from './helpers/cli.js';

const KEY = 'live-list-test-key-0123';
const cleanups: (() => Promise<unknown>)[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  clearLiveModels();
  for (const cleanup of cleanups.splice(0)) await cleanup();
});

/** A server on 127.0.0.1 that answers `GET /models` with `handler`; closed after the test. */
async function listServer(handler: (request: IncomingMessage, response: ServerResponse) => void): Promise<string> {
  const server = createServer(handler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  cleanups.push(() => new Promise((resolve) => (server.closeAllConnections(), server.close(resolve))));
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

const json = (response: ServerResponse, status: number, body: unknown) => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-live-list-'));
  cleanups.push(() => rm(dir, { recursive: true, force: true }));
  return dir;
}

describe('the live model list has a deadline and a size cap', () => {
  it('a server that sends headers, then drips bytes: a TimeoutError naming the list, not a hang', async () => {
    const url = await listServer((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('[');
      const drip = setInterval(() => response.write(' '), 20);
      response.on('close', () => clearInterval(drip));
    });
    const error = await refreshModelList({ apiKey: KEY, baseURL: url, timeoutMs: 300 }).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect((error as Error).message).toMatch(/within 0\.3s \(the deadline for togetherai's model list\)/);
  });

  it('a server that never answers: a TimeoutError', async () => {
    const url = await listServer(() => undefined);
    const error = await refreshModelList({ apiKey: KEY, baseURL: url, timeoutMs: 200 }).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(error)).toBe(true);
  });

  it('a body over the cap is an error, and nothing is cached', async () => {
    const cacheDir = await tempDir();
    const models = Array.from({ length: 2000 }, (_, index) => ({ id: `org/model-${index}`, type: 'image', display_name: 'x'.repeat(100) }));
    const url = await listServer((_request, response) => json(response, 200, models));
    const error = await refreshModelListCached({ apiKey: KEY, baseURL: url, cacheDir, maxBytes: 64 * 1024 }).catch((caught: unknown) => caught);
    expect(InvalidResponseError.isInstance(error)).toBe(true);
    expect((error as Error).message).toContain('over the 65536-byte download cap');
    expect(await loadCachedModelList({ cacheDir })).toBeUndefined();
  });

  it('a 5 MB error message is cut to a readable length', async () => {
    const url = await listServer((_request, response) => json(response, 500, { error: { message: `broken ${'y'.repeat(5 * 1024 * 1024)}` } }));
    const error = await refreshModelList({ apiKey: KEY, baseURL: url }).catch((caught: unknown) => caught);
    expect(ProviderError.isInstance(error)).toBe(true);
    expect((error as Error).message.length).toBeLessThan(700);
    expect((error as Error).message).toMatch(/broken y+… \(\d+ more characters\)/);
  });
});

describe('nothing from the list reaches a terminal raw', () => {
  const hostile = [
    { id: 'acme/clear\u001b[2J', type: 'image', display_name: 'screen wipe' },
    { id: 'acme/csi\u009b31m', type: 'image' },
    { id: 'acme/fine-model', type: 'image', display_name: 'Fine \u001b]0;pwned\u0007 Model', organization: `Acme${'!'.repeat(10_000)}` },
    { id: `acme/${'long'.repeat(100)}`, type: 'image' },
  ];

  it('ids with control characters or over 200 characters are dropped; names lose control characters and are cut', async () => {
    const url = await listServer((_request, response) => json(response, 200, hostile));
    const { list } = await refreshModelList({ apiKey: KEY, baseURL: url });
    expect(list.models.map((model) => model.id)).toEqual(['acme/fine-model']);
    expect(list.models[0]!.displayName).toBe('Fine ]0;pwned Model');
    expect(list.models[0]!.organization!.length).toBeLessThanOrEqual(200);
  });

  it('a planted cache file is held to the same rules, and one over 8 MB is not read', async () => {
    const cacheDir = await tempDir();
    const file = modelListCachePath('togetherai', cacheDir);
    await mkdir(path.dirname(file), { recursive: true });
    const planted = hostile.map(({ id, display_name }) => ({ id, ...(display_name === undefined ? {} : { displayName: display_name }) }));
    await writeFile(file, JSON.stringify({ provider: 'togetherai', fetchedAt: new Date().toISOString(), models: planted }));
    const loaded = await loadCachedModelList({ cacheDir });
    expect(loaded?.models).toEqual([{ id: 'acme/fine-model', displayName: 'Fine ]0;pwned Model' }]);

    vi.stubEnv('TOGETHER_API_KEY', KEY);
    vi.stubEnv('TOGETHER_BASE_URL', 'http://127.0.0.1:9');
    vi.stubEnv('IMAGEGEN_CACHE_DIR', cacheDir);
    const io = memoryIO();
    expect(await runCli(['models', '--refresh'], io)).toBe(0);
    // eslint-disable-next-line no-control-regex
    expect(io.stdoutText()).not.toMatch(/[\u0000-\u0009\u000b-\u001f\u007f-\u009f]/);

    await writeFile(file, JSON.stringify({ provider: 'togetherai', fetchedAt: new Date().toISOString(), models: [{ id: 'a/b', displayName: 'z'.repeat(9 * 1024 * 1024) }] }));
    clearLiveModels();
    expect(await loadCachedModelList({ cacheDir })).toBeUndefined();
  });
});

describe('imagegen models --refresh stops on the first stop signal', () => {
  it.each(['SIGINT', 'SIGTERM', 'SIGHUP'] as const)('%s while the server does not answer: stops at once, exit 128 + the signal', async (signal) => {
    let asked = false;
    const url = await listServer(() => (asked = true));
    vi.stubEnv('TOGETHER_API_KEY', KEY);
    vi.stubEnv('TOGETHER_BASE_URL', url);
    vi.stubEnv('IMAGEGEN_CACHE_DIR', await tempDir());
    const io = memoryIO();
    const listeners = process.listenerCount(signal);
    const running = runCli(['models', '--refresh'], io);
    while (!asked) await new Promise((resolve) => setTimeout(resolve, 10));
    process.emit(signal, signal);
    expect(await running).toBe({ SIGINT: 130, SIGTERM: 143, SIGHUP: 129 }[signal]);
    expect(io.stderrText()).toContain('interrupted');
    expect(process.listenerCount(signal)).toBe(listeners);
  });
});

describe('every toolkit error message is safe to print', () => {
  it('control characters from a provider are gone from the message, line breaks kept', async () => {
    const { ProviderError: Provider, InvalidResponseError: Invalid } = await import('../src/index.js');
    const fromProvider = new Provider({ provider: 'p', modelId: 'm\u001b[2J', message: 'first line\nsecond \u009b31m line \u001b]0;title\u0007' });
    expect(fromProvider.message).toBe('first line\nsecond  31m line  ]0;title ');
    const detail = new Invalid({ provider: 'p', modelId: 'm', detail: 'bad \u001b[2J body' });
    // eslint-disable-next-line no-control-regex
    expect(detail.message).not.toMatch(/[\u001b\u009b]/);
  });
});
