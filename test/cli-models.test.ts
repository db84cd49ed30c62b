import { describe, expect, it } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { memoryIO } from './helpers/cli.js';

async function models(...argv: string[]) {
  const io = memoryIO();
  const code = await runCli(['models', ...argv], io);
  return { code, stdout: io.stdoutText(), stderr: io.stderrText(), lines: io.stdoutText().split('\n') };
}

/** The table row of a model id (after the one-character mark column). */
const row = (lines: string[], modelId: string) => lines.find((line) => line.slice(2).startsWith(`${modelId} `));

// The first run loads every provider's catalog (a few seconds on a loaded machine): a hang guard, not a speed bound.
describe('imagegen models: a table that fits 80 columns', { timeout: 30_000 }, () => {
  it('every line fits; Together (the default provider) first, its default model marked *, deprecated ones marked ! and last', async () => {
    const { code, lines } = await models();
    expect(code).toBe(0);
    expect(lines.filter((line) => line.length > 80)).toEqual([]);
    expect(lines.slice(0, 8).join('\n')).toMatchInlineSnapshot(`
      "  model                                   size         n  steps  img in  $/image
      togetherai (default provider)
      * black-forest-labs/FLUX.1-schnell        256-1920/8   4  1-12   -        0.0028
        black-forest-labs/FLUX.2-dev            256-1920/16  4  1-50   4        0.0154
        black-forest-labs/FLUX.1.1-pro          256-1920/8   1  -      -        0.0419
        black-forest-labs/FLUX.1-kontext-pro    256-1920/8   1  1-50   url      0.0419
        black-forest-labs/FLUX.1-kontext-max    256-1920/8   1  1-50   url      0.0839
        black-forest-labs/FLUX.2-pro            256-1920/16  1  -      8        0.0300"
    `);
    expect(row(lines, 'black-forest-labs/FLUX.1-dev')).toMatch(/^! black-forest-labs\/FLUX\.1-dev\s+256-1920\/8\s+4\s+1-50\s+-\s+0\.0262$/);
    const together = lines.slice(lines.indexOf('togetherai (default provider)') + 1, lines.findIndex((line) => line.startsWith('local ')));
    expect(together.findIndex((line) => line.startsWith('!'))).toBe(together.length - 4);
    // Ids too long for the column get a line of their own; the cells follow on the next.
    const long = lines.findIndex((line) => line === '  fal-ai/bytedance/dreamina/v3.1/text-to-image');
    expect(lines[long + 1]).toMatch(/^ {30,}256-2048\/8 +1 +- +- +-$/);
  });

  it('one price unit; the footer explains the columns and marks, lists the deprecations and how to override prices from the CLI', async () => {
    const { lines, stdout } = await models('--provider', 'togetherai');
    expect(row(lines, 'black-forest-labs/FLUX.1-kontext-pro')).toMatch(/256-1920\/8\s+1\s+1-50\s+url\s+0\.0419$/);
    expect(row(lines, 'black-forest-labs/FLUX.2-pro')).toMatch(/ 0\.0300$/);
    expect(stdout).not.toContain('setPriceOverrides');
    expect(stdout.slice(stdout.indexOf('\n* default model'))).toMatchInlineSnapshot(`
      "
      * default model; ! deprecated; size: pixels per side min-max/multiple, or the
      ratios or sizes it takes; n: images per call; img in: input images it takes
      (url: one, by URL). Every detail: imagegen models <model> (or --wide).
      Deprecated:
        togetherai:black-forest-labs/FLUX.1-dev: removed 2026-02-27; use
          togetherai:black-forest-labs/FLUX.2-dev
        togetherai:black-forest-labs/FLUX.1-kontext-dev: removed 2026-02-27; use
          togetherai:black-forest-labs/FLUX.1-kontext-pro
        togetherai:black-forest-labs/FLUX.1-krea-dev: deprecated 2026-05-27; use
          togetherai:black-forest-labs/FLUX.2-dev
        togetherai:black-forest-labs/FLUX.1-schnell-Free: unlisted; use
          togetherai:black-forest-labs/FLUX.1-schnell
      Prices are estimates from public observations, in USD for one image at the
      default size and steps (\`imagegen models <model>\` shows the billing basis);
      override them with --price <model>=0.03/image (or /MP) or the "prices" of
      imagegen.config.json.
      "
    `);
  });

  it('--price overrides show in the table', async () => {
    const { lines } = await models('-p', 'togetherai', '--price', 'togetherai:black-forest-labs/FLUX.2-pro=0.5/image');
    expect(row(lines, 'black-forest-labs/FLUX.2-pro')).toMatch(/ 0\.5000$/);
  });

  it('--wide keeps the one-line-a-model table with every column', async () => {
    const { lines } = await models('--wide', '-p', 'togetherai');
    expect(lines[0]).toMatch(/^model\s+size\s+steps\s+per call\s+img in\s+USD\/image \(estimate\)\s+status$/);
    expect(lines.find((line) => line.startsWith('togetherai:black-forest-labs/FLUX.1-schnell '))).toMatch(/\$0\.002831\s+default$/);
    expect(lines).toContain('deprecated: togetherai:black-forest-labs/FLUX.1-dev (removed 2026-02-27); use togetherai:black-forest-labs/FLUX.2-dev');
  });
});

describe('imagegen models <model>', { timeout: 30_000 }, () => {
  it('shows every detail of one model, 80 columns', async () => {
    const { code, stdout } = await models('togetherai:black-forest-labs/FLUX.2-pro');
    expect(code).toBe(0);
    expect(stdout.split('\n').filter((line) => line.length > 80)).toEqual([]);
    expect(stdout).toMatchInlineSnapshot(`
      "togetherai:black-forest-labs/FLUX.2-pro
      name               FLUX.2 [pro]
      size               256-1920 px per side, a multiple of 16
      default size       1024x1024
      ratios             1:1, 16:9, 9:16, 4:3, 3:4, 3:2, 2:3 (turned into a size)
      steps              not taken
      images per call    1 (n is not sent: one request per image)
      seed               yes
      negative           no
      guidance           not taken
      image input        up to 8 reference images (or one as image_url)
      LoRAs              none
      safety checker     always on
      prompt upsampling  yes (on by default)
      formats            jpeg, png
      price              0.03/image (estimate) = $0.03 for one 1024x1024 image
      notes              Steps and guidance are dev/flex features [models.md]: not
                         sent. One image may go as image_url via providerOptions.
      "
    `);
  });

  it('a bare id is looked up in the default provider; a deprecated one says what replaces it; --json gives one entry', async () => {
    const { stdout } = await models('black-forest-labs/FLUX.1-dev');
    expect(stdout.split('\n').slice(0, 4).join('\n')).toMatchInlineSnapshot(`
      "togetherai:black-forest-labs/FLUX.1-dev
      name               FLUX.1 [dev]
      status             removed 2026-02-27; use
                         togetherai:black-forest-labs/FLUX.2-dev"
    `);
    const json = JSON.parse((await models('local:placeholder', '--json')).stdout) as { id: string; estimatedUsdPerImage: number };
    expect(json).toMatchObject({ id: 'local:placeholder', estimatedUsdPerImage: 0 });
  });

  it('an unknown id exits 2 with the nearest known one; an unknown provider names the providers', async () => {
    const typo = await models('togetherai:black-forest-labs/FLUX.1-shnell');
    expect(typo.code).toBe(2);
    expect(typo.stdout).toBe('');
    expect(typo.stderr).toMatchInlineSnapshot(`
      "error: unknown model "togetherai:black-forest-labs/FLUX.1-shnell"; did you mean "togetherai:black-forest-labs/FLUX.1-schnell"? Run \`imagegen models\` for the list (\`imagegen models --refresh\` reads togetherai's live list).
      "
    `);
    const bare = await models('flux-kontext-prp');
    expect(bare.code).toBe(2);
    expect(bare.stderr).toContain('did you mean "black-forest-labs:flux-kontext-pro"?');
    // Together's own name for a model finds Together's, not another provider's look-alike (flux-dev).
    const together = await models('FLUX.2-dv');
    expect(together.code).toBe(2);
    expect(together.stderr).toContain('did you mean "togetherai:black-forest-labs/FLUX.2-dev"?');
    expect(together.stderr).not.toContain('black-forest-labs:flux-dev');
    // Together's full id needs no provider in front of it.
    const bareTogether = await models('black-forest-labs/FLUX.2-dev');
    expect(bareTogether.code).toBe(0);
    const provider = await models('togeterai:black-forest-labs/FLUX.1-schnell');
    expect(provider.code).toBe(2);
    expect(provider.stderr).toMatch(/unknown provider "togeterai"; did you mean "togetherai"\?/);
  });
});
