import { build } from 'esbuild';
import { describe, expect, it } from 'vitest';
import { renderPlaceholder } from '../src/placeholder/render.js';

// The optional provider packages load lazily, at run time: a bundler (esbuild here) leaves them alone
// even where they are installed, as they are in this repository.
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
    });
    const inputs = Object.keys(result.metafile.inputs);
    expect(inputs.filter((input) => /(^|\/)node:|\/sharp\/|src\/(node|cli|batch|compare|emulator|queue)\/|\/(bullmq|ioredis|unstorage)\//.test(input))).toEqual([]);
    expect(inputs.filter((input) => LAZY_PACKAGES.some((name) => input.includes(`node_modules/${name}/`)))).toEqual([]);
    expect(inputs).toContain('src/generate.ts');
  });

  it('the Node entry does need Node (so the split is real)', async () => {
    await expect(
      build({ entryPoints: ['src/node/index.ts'], bundle: true, write: false, platform: 'browser', logLevel: 'silent', external: LAZY_PACKAGES }),
    ).rejects.toThrow(/Could not resolve "(node:)?(fs|path|os|child_process|crypto|util)(\/promises)?"/);
  });
});

describe('placeholder JPEGs on a runtime without Buffer', () => {
  it('encodes the same bytes with and without a global Buffer (jpeg-js ends with Buffer.from)', () => {
    const options = { prompt: 'edge', seed: 7, width: 64, height: 48, format: 'jpeg' } as const;
    const withBuffer = renderPlaceholder(options);
    const scope = globalThis as { Buffer?: unknown };
    const saved = scope.Buffer;
    delete scope.Buffer;
    let withoutBuffer: Uint8Array;
    try {
      withoutBuffer = renderPlaceholder(options);
      expect(scope.Buffer).toBeUndefined();
    } finally {
      scope.Buffer = saved;
    }
    expect(withoutBuffer).toBeInstanceOf(Uint8Array);
    expect([...withoutBuffer.subarray(0, 2)]).toEqual([0xff, 0xd8]);
    expect(Array.from(withoutBuffer)).toEqual(Array.from(withBuffer));
  });
});

describe('placeholder PNGs', () => {
  it('through Node’s zlib (where the runtime has it) and the pure-JS encoder (edge) decode to the same pixels', async () => {
    const { default: sharp } = await import('sharp');
    const { renderPixels } = await import('../src/placeholder/render.js');
    const options = { prompt: 'png paths', seed: 3, width: 40, height: 24 } as const;
    const withNodeZlib = renderPlaceholder({ ...options, format: 'png' });
    const scope = globalThis.process as { getBuiltinModule?: unknown };
    const saved = scope.getBuiltinModule;
    scope.getBuiltinModule = undefined;
    let pureJs: Uint8Array;
    try {
      pureJs = renderPlaceholder({ ...options, format: 'png' });
    } finally {
      scope.getBuiltinModule = saved;
    }
    expect(Buffer.from(withNodeZlib).equals(Buffer.from(pureJs))).toBe(false);
    const expected = Buffer.from(renderPixels(options));
    for (const png of [withNodeZlib, pureJs]) {
      const { data, info } = await sharp(png).raw().toBuffer({ resolveWithObject: true });
      expect(info).toMatchObject({ width: 40, height: 24, channels: 3 });
      expect(data.equals(expected)).toBe(true);
    }
  });
});
