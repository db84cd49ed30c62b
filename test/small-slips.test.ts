import { describe, expect, it } from 'vitest';
import { imageGenerationTool, parseRequest, prepareGeneration } from '../src/index.js';
import { slugify } from '../src/node/index.js';

describe('file names from prompts in any script', () => {
  it.each([
    ['Straße im Schnee', 'strasse-im-schnee'],
    ['Łódź bei Nacht', 'lodz-bei-nacht'],
    ['изображение кота', 'izobrazhenie-kota'],
    ['Crème brûlée', 'creme-brulee'],
    ['a lighthouse at dawn', 'a-lighthouse-at-dawn'],
    ['../../etc/passwd', 'etc-passwd'],
    ['日本の猫', 'image'],
  ])('%s → %s', (prompt, slug) => {
    expect(slugify(prompt)).toBe(slug);
  });
});

describe('a size the model does not take', () => {
  it('names the nearest size it does take', async () => {
    const error = await prepareGeneration({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '1000x1000' }, { checkKey: false }).then(
      () => expect.unreachable('should be refused'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('width 1000 must be a multiple of 16 from 256 to 1920; height 1000 must be a multiple of 16 from 256 to 1920 for FLUX.2 [dev]; the nearest size it takes is 1008x1008');
    parseRequest({ prompt: 'p', size: '1008x1008' });
    const fits = await prepareGeneration({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '1008x1008' }, { checkKey: false });
    expect(fits.plan.width).toBe(1008);
  });

  it('clamps to the limits: 4000x100 → 1920x256', async () => {
    const error = await prepareGeneration({ prompt: 'p', model: 'togetherai:black-forest-labs/FLUX.2-dev', size: '4000x100' }, { checkKey: false }).then(
      () => expect.unreachable('should be refused'),
      (caught: unknown) => caught as Error,
    );
    expect(error.message).toContain('the nearest size it takes is 1920x256');
  });
});

describe('the tool description', () => {
  it('names the model without doubled parentheses', () => {
    const tool = imageGenerationTool();
    expect(tool.description).toContain('Generate images from a text description with FLUX.1 [schnell] (Turbo).');
    expect(tool.description).not.toContain('))');
  });
});
