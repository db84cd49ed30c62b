import { createOpenAI } from '@ai-sdk/openai';
import type { ImageModelV3 } from '@ai-sdk/provider';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { createProviderRegistry, customProvider } from 'ai';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { clearLiveModels, generateImages, imageGenerationTool, imageModel, InvalidRequestError, registerLiveModels, suggestModel } from '../src/index.js';
import { prepareGeneration } from '../src/generate.js';
import { resolveModelReference } from '../src/models/resolve-model.js';
import { suggestAnyModel } from '../src/models/did-you-mean.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

afterEach(() => {
  clearLiveModels();
  vi.unstubAllEnvs();
});

const FLUX2_DEV = 'black-forest-labs/FLUX.2-dev';

/** The one issue message of an InvalidRequestError thrown by `run`. */
async function refusal(run: () => unknown): Promise<string> {
  const error = await Promise.resolve().then(run).then(
    () => undefined,
    (caught: unknown) => caught,
  );
  expect(InvalidRequestError.isInstance(error)).toBe(true);
  return (error as InvalidRequestError).issues.map((issue) => `${issue.field}: ${issue.message}`).join('\n');
}

/** A v3 model that draws placeholders and records the calls it gets, under any provider name. */
function recordingModel(provider: string, modelId: string, maxImagesPerCall = 1) {
  const calls: { n: number; seed: number | undefined }[] = [];
  const model: ImageModelV3 = {
    specificationVersion: 'v3',
    provider,
    modelId,
    maxImagesPerCall,
    async doGenerate({ n, seed }) {
      calls.push({ n, seed });
      const images = Array.from({ length: n }, (_, index) => renderPlaceholder({ prompt: 'p', seed: (seed ?? 0) + index, width: 64, height: 64, format: 'png' }));
      return { images, warnings: [], response: { timestamp: new Date(0), modelId, headers: {} } };
    },
  };
  return { model, calls };
}

describe('bare model ids', () => {
  it('an id the catalog knows under one provider resolves to it: Together’s own ids work without "togetherai:"', () => {
    const resolved = resolveModelReference(FLUX2_DEV);
    expect(resolved.reference).toBe(`togetherai:${FLUX2_DEV}`);
    expect(resolved.source).toMatchObject({ kind: 'built-in', providerName: 'togetherai', modelId: FLUX2_DEV });
    expect(resolved.target.model.known).toBe(true);
    expect(resolveModelReference('gpt-image-1').reference).toBe('openai:gpt-image-1');
  });

  it('in generateImages (the plan records the resolved reference), imageModel() and the tool', async () => {
    const prepared = await prepareGeneration({ prompt: 'p', model: FLUX2_DEV, size: '1024x1024', seed: 1 }, { checkKey: false });
    expect(prepared.plan.provider).toBe('togetherai');
    expect(prepared.plan.resolved.model).toBe(`togetherai:${FLUX2_DEV}`);
    expect(prepared.calls[0]?.args.providerOptions).toHaveProperty('togetherai');
    expect(imageModel(FLUX2_DEV).provider).toBe('togetherai');
    const tool = imageGenerationTool({ model: FLUX2_DEV });
    expect(tool.description).toContain('FLUX.2 [dev]');
  });

  it('an id that the live list of one provider knows resolves to it; one two providers know is refused, naming both', async () => {
    registerLiveModels({ provider: 'togetherai', fetchedAt: '2026-12-01T00:00:00Z', models: [{ id: 'acme/new-image-model' }] });
    expect(resolveModelReference('acme/new-image-model').reference).toBe('togetherai:acme/new-image-model');
    registerLiveModels({ provider: 'replicate', fetchedAt: '2026-12-01T00:00:00Z', models: [{ id: 'acme/new-image-model' }] });
    expect(await refusal(() => resolveModelReference('acme/new-image-model'))).toBe(
      'model: is the id of a model of more than one provider; name one: "togetherai:acme/new-image-model", "replicate:acme/new-image-model"',
    );
  });

  it('an unknown bare id is refused with the model of the same name, never another provider’s look-alike', async () => {
    expect(suggestAnyModel('FLUX.2-dev')).toBe(`togetherai:${FLUX2_DEV}`);
    expect(suggestAnyModel('flux.2-DEV')).toBe(`togetherai:${FLUX2_DEV}`);
    const message = await refusal(() => generateImages({ prompt: 'p', model: 'FLUX.2-dev' }));
    expect(message).toContain('did you mean "togetherai:black-forest-labs/FLUX.2-dev"?');
    expect(message).not.toContain('black-forest-labs:flux-dev');
    // With the provider named, suggestions stay within it.
    expect(suggestModel('togetherai', 'black-forest-labs/FLUX.2-dv')).toBe(`togetherai:${FLUX2_DEV}`);
  });

  it('"provider:id" with an unknown provider is still refused naming the providers', async () => {
    expect(await refusal(() => resolveModelReference('togethrai:black-forest-labs/FLUX.2-dev'))).toMatch(/unknown provider "togethrai"; did you mean "togetherai"\?/);
  });
});

describe('what options.providers takes', () => {
  it('one provider instance passed directly: a bare id and "name:id" go to it; another provider’s reference does not', async () => {
    const openai = createOpenAI({ apiKey: 'sk-test', baseURL: 'http://127.0.0.1:9/v1' });
    const bare = await prepareGeneration({ prompt: 'p', model: 'gpt-image-1' }, { providers: openai });
    expect(bare.source).toMatchObject({ kind: 'given', providerName: 'openai', catalogProvider: 'openai', modelId: 'gpt-image-1' });
    const named = await prepareGeneration({ prompt: 'p', model: 'openai:dall-e-3' }, { providers: openai });
    expect(named.source).toMatchObject({ kind: 'given', modelId: 'dall-e-3' });
    // A prefix for a provider the instance is not: the built-in one (nothing sent here: a dry run).
    const other = await prepareGeneration({ prompt: 'p', model: 'local:placeholder' }, { providers: openai, checkKey: false });
    expect(other.source.kind).toBe('built-in');
    // Before, the instance was taken for a registry and sent "openai:gpt-image-1" as the model id.
    expect(bare.plan.modelId).toBe('gpt-image-1');
  });

  it('customProvider({ imageModels }) passed directly, and inside a map', async () => {
    const { model, calls } = recordingModel('custom.image', 'fast-model', 4);
    const custom = customProvider({ imageModels: { fast: model } });
    const direct = await generateImages({ prompt: 'p', model: 'fast', size: '64x64', count: 2, seed: 1 }, { providers: custom });
    expect(direct.images).toHaveLength(2);
    const mapped = await generateImages({ prompt: 'p', model: 'mine:fast', size: '64x64', seed: 1 }, { providers: { mine: custom } });
    expect(mapped.images).toHaveLength(1);
    expect(calls.length).toBeGreaterThanOrEqual(2);
    expect(await refusal(() => generateImages({ prompt: 'p', model: 'mine:slow' }, { providers: { mine: custom } }))).toMatch(/options\.providers\.mine has no such image model/);
  });

  it('a registry with another separator gets its model string untouched', async () => {
    const { model } = recordingModel('togetherai.image', 'black-forest-labs/FLUX.1-schnell', 4);
    const registry = createProviderRegistry({ together: customProvider({ imageModels: { 'black-forest-labs/FLUX.1-schnell': model } }) }, { separator: ' > ' });
    const result = await generateImages({ prompt: 'p', model: 'together > black-forest-labs/FLUX.1-schnell', size: '256x256', count: 4, seed: 3 }, { providers: { registry } });
    expect(result.images).toHaveLength(4);
    // The catalog was applied: FLUX.1 schnell takes 4 a call, so one call.
    expect(result.calls).toHaveLength(1);
    expect(result.request.model).toBe('together > black-forest-labs/FLUX.1-schnell');
  });

  it('an app’s Together instance under another name is looked up in Together’s catalog, by the tool too', () => {
    const togetherai = createTogetherAI({ apiKey: 'k', baseURL: 'http://127.0.0.1:9/v1' });
    const tool = imageGenerationTool({ model: `tg:${FLUX2_DEV}`, providers: { tg: togetherai } });
    // FLUX.2 dev's entry (not the generic one): its name, and its own size limits in the schema.
    expect(tool.description).toContain('FLUX.2 [dev]');
  });
});

describe('concurrency', () => {
  it('0, negative or fractional is refused naming the field, before anything is sent', async () => {
    for (const concurrency of [0, -1, 1.5, Number.NaN]) {
      expect(await refusal(() => generateImages({ prompt: 'p', model: 'local:placeholder' }, { concurrency }))).toBe('concurrency: must be a whole number of provider calls, 1 or more');
    }
    // The tool is told when it is made, not with p-limit's TypeError at its first call.
    expect(await refusal(() => imageGenerationTool({ model: 'local:placeholder', concurrency: 0 }))).toBe('concurrency: must be a whole number of provider calls, 1 or more');
  });
});
