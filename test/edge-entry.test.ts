import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';

// The optional provider packages load lazily; the app's bundler decides about them.
const LAZY_PACKAGES = ['openai', 'fal', 'replicate', 'black-forest-labs', 'google', 'xai', 'luma', 'deepinfra', 'fireworks', 'amazon-bedrock'].map(
  (name) => `@ai-sdk/${name}`,
);

describe('the main entry runs on edge runtimes', () => {
  it('bundles for the browser platform: no Node built-ins, no sharp', async () => {
    const result = await build({
      entryPoints: ['src/index.ts'],
      bundle: true,
      write: false,
      platform: 'browser',
      format: 'esm',
      metafile: true,
      logLevel: 'silent',
      external: LAZY_PACKAGES,
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /(^|\/)node:|\/sharp\/|src\/(node|cli|batch|compare|emulator)\//.test(input))).toEqual([]);
    expect(inputs).toContain('src/generate.ts');
  });

  it('the Node entry does need Node (so the split is real)', async () => {
    await expect(
      build({ entryPoints: ['src/node/index.ts'], bundle: true, write: false, platform: 'browser', logLevel: 'silent', external: LAZY_PACKAGES }),
    ).rejects.toThrow(/Could not resolve "(node:)?(fs|path|os|child_process|crypto|util)(\/promises)?"/);
  });
});
