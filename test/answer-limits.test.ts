import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, afterEach, describe, expect, it, vi } from 'vitest';
import { generateImages, ProviderError } from '../src/index.js';
import { MAX_ANSWER_BYTES } from '../src/util/download.js';

// A provider that answers a generation with headers declaring more than the cap, then never sends
// the rest: without the cap, the client would wait for (and hold) half a gigabyte.
let server: Server;
let url: string;
const seen = { requests: 0, closed: 0 };

beforeAll(async () => {
  server = createServer((request, response) => {
    seen.requests++;
    request.resume();
    request.on('end', () => {
      response.writeHead(200, { 'content-type': 'application/json', 'content-length': String(MAX_ANSWER_BYTES + 1) });
      response.write('{"data":[');
      response.on('close', () => seen.closed++);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
});
afterEach(() => vi.unstubAllEnvs());

describe('a generation answer over the size cap', () => {
  it.each([
    ['togetherai:black-forest-labs/FLUX.1-schnell', { TOGETHER_API_KEY: 'k', TOGETHER_BASE_URL: '' }],
    ['openai:gpt-image-1', { OPENAI_API_KEY: 'k', OPENAI_BASE_URL: '' }],
  ] as const)('%s: refused as a ProviderError naming the cap, not read, not retried', async (model, environment) => {
    for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value === '' ? url : value);
    const before = seen.requests;
    const error = await generateImages({ prompt: 'p', model, size: '1024x1024' }).catch((caught: unknown) => caught);
    expect(ProviderError.isInstance(error), String(error)).toBe(true);
    expect((error as Error).message).toMatch(new RegExp(`over the ${MAX_ANSWER_BYTES}-byte (download )?cap`));
    expect(seen.requests - before).toBe(1);
    // The connection is let go at once: nothing waits for the rest of the body.
    await expect.poll(() => seen.closed).toBeGreaterThanOrEqual(seen.requests);
  });
});
