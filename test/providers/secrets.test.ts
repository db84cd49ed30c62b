import { createOpenAI } from '@ai-sdk/openai';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { generateImages, ProviderError } from '../../src/index.js';
import { startProviderServer, type ProviderServer } from '../helpers/provider-server.js';

const servers: ProviderServer[] = [];
afterEach(async () => {
  vi.unstubAllEnvs();
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

/** A provider that echoes the key it was sent in its error message, as some do. */
async function echoingServer(): Promise<ProviderServer> {
  const server = await startProviderServer([
    {
      method: 'POST',
      path: /\/images\/generations$/,
      respond: (request) => {
        const key = String(request.headers.authorization ?? '').replace(/^Bearer\s+/i, '');
        return { status: 400, json: { error: { message: `the key ${key} may not use this model` } } };
      },
    },
  ]);
  servers.push(server);
  return server;
}

/** Every surface an app might print or log. */
function surfaces(error: unknown): Record<string, string> {
  return {
    message: (error as Error).message,
    providerMessage: String((error as ProviderError).providerMessage),
    json: JSON.stringify(error),
    inspect: inspect(error, { depth: 10 }),
    stack: String((error as Error).stack),
  };
}

describe('keys are redacted from every surface of an error', () => {
  it.each([
    { name: 'togetherai', key: 'own-together-key-5f1e2d3c', create: (key: string, url: string) => createTogetherAI({ apiKey: key, baseURL: url }), model: 'togetherai:black-forest-labs/FLUX.1-schnell' },
    { name: 'openai', key: 'sk-own-openai-key-9a8b7c6d', create: (key: string, url: string) => createOpenAI({ apiKey: key, baseURL: url }), model: 'openai:gpt-image-1' },
  ])("the app's own $name instance: its key never appears", async ({ name, key, create, model }) => {
    const server = await echoingServer();
    const error = await generateImages({ prompt: 'p', model }, { providers: { [name]: create(key, server.url) }, maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    // The provider did echo it: without redaction it would be in the message.
    expect(server.requests()[0]?.headers.authorization).toBe(`Bearer ${key}`);
    for (const [surface, text] of Object.entries(surfaces(error))) {
      expect(text, surface).not.toContain(key);
    }
    expect((error as Error).message).toContain('the key *** may not use this model');
  });

  it('the environment key: providerMessage, JSON.stringify and util.inspect are redacted too', async () => {
    const server = await echoingServer();
    const key = 'env-together-key-0f9e8d7c';
    vi.stubEnv('TOGETHER_API_KEY', key);
    vi.stubEnv('TOGETHER_BASE_URL', server.url);
    const error = await generateImages({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-schnell' }, { maxRetries: 0 }).catch(
      (caught: unknown) => caught,
    );
    expect(ProviderError.isInstance(error)).toBe(true);
    for (const [surface, text] of Object.entries(surfaces(error))) {
      expect(text, surface).not.toContain(key);
    }
    expect(JSON.parse(JSON.stringify(error))).toMatchObject({ name: 'ProviderError', statusCode: 400, providerMessage: 'the key *** may not use this model' });
    // The inspected form still shows the cause chain, only without the key.
    expect(inspect(error, { depth: 10 })).toContain('[cause]');
  });
});
