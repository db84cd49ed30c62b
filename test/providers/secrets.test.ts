import { createOpenAI } from '@ai-sdk/openai';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { inspect } from 'node:util';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { ImageModelV3 } from '@ai-sdk/provider';
import { generateImages, observeCredentials, ProviderError } from '../../src/index.js';
import { redactSecrets } from '../../src/errors/errors.js';
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
    {
      name: 'togetherai',
      key: 'own-together-key-5f1e2d3c',
      create: (key: string, url: string) => createTogetherAI({ apiKey: key, baseURL: url, fetch: observeCredentials() }),
      model: 'togetherai:black-forest-labs/FLUX.1-schnell',
    },
    {
      name: 'openai',
      key: 'sk-own-openai-key-9a8b7c6d',
      create: (key: string, url: string) => createOpenAI({ apiKey: key, baseURL: url, fetch: observeCredentials() }),
      model: 'openai:gpt-image-1',
    },
  ])("the app's own $name instance sending through observeCredentials(): its key never appears", async ({ name, key, create, model }) => {
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

describe('redaction is scoped to the request, and reads no model’s private fields', () => {
  it('an app model’s config.headers() is never called (on Vertex or Bedrock it can fetch a token)', async () => {
    const server = await echoingServer();
    const inner = createOpenAI({ apiKey: 'sk-private-field-key-1234', baseURL: server.url }).image('gpt-image-1');
    const headers = vi.fn(() => ({ authorization: 'Bearer sk-private-field-key-1234' }));
    // The shape the @ai-sdk models have: a private `config` with a `headers` function.
    const model: ImageModelV3 & { config: unknown } = {
      specificationVersion: 'v3',
      provider: inner.provider,
      modelId: inner.modelId,
      maxImagesPerCall: inner.maxImagesPerCall,
      doGenerate: (options) => inner.doGenerate(options),
      config: { provider: inner.provider, headers },
    };
    await generateImages({ prompt: 'p', model: 'openai:gpt-image-1' }, { providers: { openai: { imageModel: () => model } }, maxRetries: 0 }).catch(() => undefined);
    expect(server.requests()).toHaveLength(1);
    expect(headers).not.toHaveBeenCalled();
  });

  it('a tenant’s key is redacted from its own errors and kept by no process-wide store', async () => {
    const server = await echoingServer();
    const keys = ['tenant-a-key-11aa22bb33', 'tenant-b-key-44cc55dd66'];
    const errors = await Promise.all(
      keys.map((key) =>
        generateImages(
          { prompt: 'p', model: 'openai:gpt-image-1' },
          { providers: { openai: createOpenAI({ apiKey: key, baseURL: server.url, fetch: observeCredentials() }) }, maxRetries: 0 },
        ).catch((caught: unknown) => caught),
      ),
    );
    for (const [index, error] of errors.entries()) {
      expect(ProviderError.isInstance(error)).toBe(true);
      for (const [surface, text] of Object.entries(surfaces(error))) {
        expect(text, surface).not.toContain(keys[index]);
      }
    }
    // Once the request is over, nothing outside its errors holds the keys: the process-wide
    // redaction (the environment's keys) does not know them.
    expect(redactSecrets(`tenant keys ${keys.join(' ')}`)).toBe(`tenant keys ${keys.join(' ')}`);
  });
});
