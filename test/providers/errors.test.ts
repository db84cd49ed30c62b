import { readFile } from 'node:fs/promises';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAmazonBedrockAdapter } from '../../src/providers/amazon-bedrock.js';
import { createBlackForestLabsAdapter } from '../../src/providers/black-forest-labs.js';
import { createDeepInfraAdapter } from '../../src/providers/deepinfra.js';
import { createFalAdapter } from '../../src/providers/fal.js';
import { createFireworksAdapter } from '../../src/providers/fireworks.js';
import { createGoogleAdapter } from '../../src/providers/google.js';
import { builtInProviderNames } from '../../src/providers/index.js';
import { createLumaAdapter } from '../../src/providers/luma.js';
import { createOpenAIAdapter } from '../../src/providers/openai.js';
import { createReplicateAdapter } from '../../src/providers/replicate.js';
import { createXaiAdapter } from '../../src/providers/xai.js';
import { generateImages, MissingApiKeyError, MissingProviderPackageError } from '../../src/index.js';

afterEach(() => vi.unstubAllEnvs());

/** An importer that fails, whatever the package. */
type Missing = () => Promise<never>;

/** Every built-in provider: its model for a request, its key variables, and its adapter with a given importer. */
const PROVIDERS = [
  { create: (importPackage: Missing) => createOpenAIAdapter({ importPackage }), file: 'openai', model: 'openai:gpt-image-1', variables: ['OPENAI_API_KEY'] },
  { create: (importPackage: Missing) => createFalAdapter({ importPackage }), file: 'fal', model: 'fal:fal-ai/flux/dev', variables: ['FAL_API_KEY', 'FAL_KEY'] },
  { create: (importPackage: Missing) => createReplicateAdapter({ importPackage }), file: 'replicate', model: 'replicate:black-forest-labs/flux-dev', variables: ['REPLICATE_API_TOKEN'] },
  { create: (importPackage: Missing) => createBlackForestLabsAdapter({ importPackage }), file: 'black-forest-labs', model: 'black-forest-labs:flux-dev', variables: ['BFL_API_KEY'] },
  { create: (importPackage: Missing) => createGoogleAdapter({ importPackage }), file: 'google', model: 'google:imagen-4.0-generate-001', variables: ['GOOGLE_GENERATIVE_AI_API_KEY', 'GEMINI_API_KEY'] },
  { create: (importPackage: Missing) => createXaiAdapter({ importPackage }), file: 'xai', model: 'xai:grok-imagine-image', variables: ['XAI_API_KEY'] },
  { create: (importPackage: Missing) => createLumaAdapter({ importPackage }), file: 'luma', model: 'luma:photon-1', variables: ['LUMA_API_KEY'] },
  { create: (importPackage: Missing) => createDeepInfraAdapter({ importPackage }), file: 'deepinfra', model: 'deepinfra:black-forest-labs/FLUX-1-dev', variables: ['DEEPINFRA_API_KEY'] },
  { create: (importPackage: Missing) => createFireworksAdapter({ importPackage }), file: 'fireworks', model: 'fireworks:accounts/fireworks/models/flux-1-dev-fp8', variables: ['FIREWORKS_API_KEY'] },
  {
    create: (importPackage: Missing) => createAmazonBedrockAdapter({ importPackage }),
    file: 'amazon-bedrock',
    model: 'amazon-bedrock:amazon.nova-canvas-v1:0',
    variables: ['AWS_BEARER_TOKEN_BEDROCK', 'AWS_ACCESS_KEY_ID', 'AWS_SECRET_ACCESS_KEY'],
  },
] as const;

describe('missing key', () => {
  it.each(PROVIDERS)('$model: MissingApiKeyError naming $variables, before anything is sent', async ({ model, variables }) => {
    for (const name of variables) vi.stubEnv(name, '');
    const error = await generateImages({ prompt: 'p', model }).catch((caught: unknown) => caught);
    expect(MissingApiKeyError.isInstance(error)).toBe(true);
    for (const name of variables) expect((error as Error).message).toContain(name);
  });
});

describe('missing package', () => {
  it.each(PROVIDERS)('$file: MissingProviderPackageError naming @ai-sdk/$file and how to install it', async ({ create, file }) => {
    const notFound = Object.assign(new Error(`Cannot find package '@ai-sdk/${file}' imported from /app/node_modules/ai-imagegen`), {
      code: 'ERR_MODULE_NOT_FOUND',
    });
    const adapter = create(() => Promise.reject(notFound));
    const error = await Promise.resolve(adapter.createModel('any-model')).catch((caught: unknown) => caught);
    expect(MissingProviderPackageError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ packageName: `@ai-sdk/${file}`, cause: notFound });
    expect((error as Error).message).toContain(`npm install @ai-sdk/${file}`);
  });

  it('in an edge sandbox, which loads no modules (edge-runtime, Next.js edge routes), the package is missing', async () => {
    const noLoader = Object.assign(new TypeError('A dynamic import callback was not specified.'), { code: 'ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING' });
    const adapter = createOpenAIAdapter({ importPackage: () => Promise.reject(noLoader) });
    const error = await Promise.resolve(adapter.createModel('gpt-image-1')).catch((caught: unknown) => caught);
    expect(error).toMatchObject({ name: 'MissingProviderPackageError', packageName: '@ai-sdk/openai', cause: noLoader });
  });

  it('a package that fails to load for another reason is not reported as missing', async () => {
    const broken = new SyntaxError('Unexpected token in some dependency');
    const adapter = createOpenAIAdapter({ importPackage: () => Promise.reject(broken) });
    const error = await Promise.resolve(adapter.createModel('gpt-image-1')).catch((caught: unknown) => caught);
    expect(error).toBe(broken);
  });
});

describe('lazy loading', () => {
  it('every provider is registered, and no adapter file imports its AI SDK package at load time (nor lets a bundler resolve it)', async () => {
    expect(builtInProviderNames()).toEqual(expect.arrayContaining(PROVIDERS.map(({ model }) => model.slice(0, model.indexOf(':')))));
    for (const { file } of PROVIDERS) {
      const source = await readFile(new URL(`../../src/providers/${file}.ts`, import.meta.url), 'utf8');
      // Only `import type` (erased) may name the package statically; the value comes from `import()`.
      expect(source).not.toMatch(new RegExp(`^import (?!type )[^;]*from '@ai-sdk/${file}'`, 'm'));
      // Bundlers leave the import to run time, so an app need not install every optional provider.
      expect(source).toMatch(new RegExp(`importOptionalPackage<\\w+>\\('@ai-sdk/${file}'\\)`));
    }
  });

  it('the package is imported when a model is created, not before', async () => {
    const importPackage = vi.fn(() => import('@ai-sdk/openai'));
    const adapter = createOpenAIAdapter({ importPackage });
    expect(importPackage).not.toHaveBeenCalled();
    vi.stubEnv('OPENAI_API_KEY', 'test-key-0123456789');
    const model = await adapter.createModel('gpt-image-1');
    expect(importPackage).toHaveBeenCalledOnce();
    expect(model).toMatchObject({ provider: 'openai.image', modelId: 'gpt-image-1' });
  });
});
