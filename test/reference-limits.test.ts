import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { prepareGeneration } from '../src/generate.js';
import { InvalidRequestError } from '../src/index.js';
import { readImageFile } from '../src/files/files.js';
import { SMALL_PNG } from './helpers/fixtures.js';

// A PNG of 5 MB: a real header (its size is read from it) and padding after.
const fiveMegabytePng = () => {
  const bytes = new Uint8Array(5 * 1024 * 1024);
  bytes.set(SMALL_PNG);
  return bytes;
};

describe('reference images are capped at the provider’s own input limit', () => {
  it('a 5 MB file: over DALL·E 2’s 4 MB (refused, naming the file and the limit), within GPT Image’s 50 MB', async () => {
    const file = path.join(await mkdtemp(path.join(tmpdir(), 'imagegen-limits-')), 'big.png');
    await writeFile(file, fiveMegabytePng());
    const options = { readFile: readImageFile, checkKey: false } as const;

    const refused = await prepareGeneration({ prompt: 'p', model: 'openai:dall-e-2', size: '1024x1024', referenceImages: [file] }, options).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(InvalidRequestError);
    expect((refused as Error).message).toContain(file);
    expect((refused as Error).message).toMatch(/is 5\.0 MB, over the 4\.0 MB limit for reference images; nothing was read or sent/);

    const { plan } = await prepareGeneration({ prompt: 'p', model: 'openai:gpt-image-1', referenceImages: [file] }, options);
    expect(plan.referenceImages).toHaveLength(1);
  });

  it('bytes given directly are held to the same limit, and a provider without a documented one gets 20 MB', async () => {
    const refused = await prepareGeneration({ prompt: 'p', model: 'openai:dall-e-2', size: '1024x1024', referenceImages: [fiveMegabytePng()] }, { checkKey: false }).catch(
      (error: unknown) => error,
    );
    expect((refused as Error).message).toMatch(/referenceImages: is 5\.0 MB, over the 4\.0 MB DALL·E 2 takes for an input image/);

    const withinDefault = await prepareGeneration(
      { prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', referenceImages: [fiveMegabytePng()] },
      { checkKey: false },
    );
    expect(withinDefault.plan.referenceImages).toHaveLength(1);
  });
});
