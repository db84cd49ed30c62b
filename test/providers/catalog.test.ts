import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { findModel, listModels } from '../../src/index.js';
import '../../src/providers/index.js';

/** The package each provider comes from, and the name of its image model id type. */
const PACKAGES = [
  ['openai', 'openai', 'OpenAIImageModelId'],
  ['fal', 'fal', 'FalImageModelId'],
  ['replicate', 'replicate', 'ReplicateImageModelId'],
  ['black-forest-labs', 'black-forest-labs', 'BlackForestLabsImageModelId'],
  ['google', 'google', 'GoogleGenerativeAIImageModelId'],
  ['xai', 'xai', 'XaiImageModelId'],
  ['luma', 'luma', 'LumaImageModelId'],
  ['deepinfra', 'deepinfra', 'DeepInfraImageModelId'],
  ['fireworks', 'fireworks', 'FireworksImageModelId'],
  ['amazon-bedrock', 'amazon-bedrock', 'BedrockImageModelId'],
] as const;

/** The string literals of `type <name> = 'a' | 'b' | (string & {})` in the package's typings. */
async function listedModelIds(packageName: string, typeName: string): Promise<string[]> {
  const typings = await readFile(new URL(`../../node_modules/@ai-sdk/${packageName}/dist/index.d.ts`, import.meta.url), 'utf8');
  const declaration = new RegExp(`type ${typeName} = ([^;]+);`).exec(typings)?.[1];
  if (declaration === undefined) throw new Error(`${typeName} not found in @ai-sdk/${packageName}`);
  return [...declaration.matchAll(/'([^']+)'/g)].map((match) => match[1]!);
}

describe('catalog', () => {
  it.each(PACKAGES)('%s: every image model id @ai-sdk/%s lists in its types is in the catalog', async (provider, packageName, typeName) => {
    const ids = await listedModelIds(packageName, typeName);
    expect(ids.length).toBeGreaterThan(0);
    expect(ids.filter((id) => findModel(provider, id) === undefined)).toEqual([]);
  });

  it.each(PACKAGES.map(([provider]) => provider))('%s: every entry is consistent', (provider) => {
    for (const model of listModels({ provider })) {
      const { dimensions, steps, guidance } = model;
      expect(model.maxImagesPerCall, model.modelId).toBeGreaterThanOrEqual(1);
      expect(dimensions.default.width % dimensions.multipleOf, model.modelId).toBe(0);
      expect(dimensions.default.width, model.modelId).toBeGreaterThanOrEqual(dimensions.min);
      expect(dimensions.default.width, model.modelId).toBeLessThanOrEqual(dimensions.max);
      if (steps) expect(steps.default >= steps.min && steps.default <= steps.max, model.modelId).toBe(true);
      if (guidance) expect(guidance.default >= guidance.min && guidance.default <= guidance.max, model.modelId).toBe(true);
      if (model.sizing === 'aspect-ratio') expect(model.aspectRatios.length, model.modelId).toBeGreaterThan(0);
      if (model.imageInput.kind !== 'none') expect(model.imageInput.max, model.modelId).toBeGreaterThanOrEqual(1);
      if (!model.acceptsN) expect(model.maxImagesPerCall, model.modelId).toBe(1);
    }
  });

  it('fixes the package defaults that are wrong: Gemini one image per call, FLUX.2 on Replicate one, xAI ten', () => {
    for (const id of ['gemini-2.5-flash-image', 'gemini-3-pro-image-preview', 'gemini-3.1-flash-image-preview', 'gemini-nano-banana-2.1']) {
      expect(findModel('google', id)).toMatchObject({ maxImagesPerCall: 1, acceptsN: false });
    }
    expect(findModel('replicate', 'black-forest-labs/flux-2-pro')).toMatchObject({ acceptsN: false });
    expect(findModel('xai', 'grok-imagine-image')?.maxImagesPerCall).toBe(10);
  });
});
