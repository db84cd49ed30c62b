import { existsSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { installApp, packTarball, run, type ConsumerApp } from '../helpers/consumer.js';

// A strict TypeScript app type-checks against the installed declarations (dist/*.d.ts) under both
// resolutions apps use. Its @ts-expect-error lines fail the check if the types are loose (`any`, or
// missing). No optional provider package is installed, so a declaration that named one would fail
// with "Cannot find module '@ai-sdk/fal'".
// TypeScript 7 (today's `npm install typescript`) runs with skipLibCheck off, so the package's own
// declarations are checked too; TypeScript 5.9, still what most apps have, runs with skipLibCheck on,
// as most apps do (with it off it takes ~45 s per run on 2 cores, checking ai's and zod's declarations).

let app: ConsumerApp;

beforeAll(async () => {
  app = await installApp({ name: 'typescript', tarball: await packTarball() });
}, 300_000);

describe('a strict TypeScript app type-checks against the package', () => {
  it('has no optional provider package installed', () => {
    for (const name of ['fal', 'openai', 'replicate', 'google', 'xai']) expect(existsSync(path.join(app.dir, 'node_modules/@ai-sdk', name)), name).toBe(false);
  });

  const checks = [
    { resolution: 'nodenext', compiler: 'TypeScript 7', tsc: 'node_modules/typescript/bin/tsc', flags: [] },
    { resolution: 'bundler', compiler: 'TypeScript 7', tsc: 'node_modules/typescript/bin/tsc', flags: [] },
    { resolution: 'nodenext', compiler: 'TypeScript 5.9', tsc: 'node_modules/typescript-5/bin/tsc', flags: ['--skipLibCheck'] },
    { resolution: 'bundler', compiler: 'TypeScript 5.9', tsc: 'node_modules/typescript-5/bin/tsc', flags: ['--skipLibCheck'] },
  ];
  for (const { resolution, compiler, tsc, flags } of checks) {
    it(`${resolution}, ${compiler}${flags.length > 0 ? ' (skipLibCheck)' : ''}: tsc --noEmit passes, every @ts-expect-error used`, async () => {
      const result = await run(app.node, [tsc, '-p', `tsconfig.${resolution}.json`, '--noEmit', ...flags], { cwd: app.dir });
      expect(`${result.stdout}${result.stderr}`).toBe('');
      expect(result.code).toBe(0);
    }, 120_000);
  }

  it('fails when the types are misused (the check can fail)', async () => {
    // The same app with one more misuse: tsc must report it, naming the file and the option.
    const result = await run(app.node, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.misuse.json', '--noEmit'], { cwd: app.dir });
    expect(result.code).not.toBe(0);
    expect(result.stdout).toMatch(/misuse\.ts\(\d+,\d+\): error TS2322: .*'number'/);
  }, 120_000);
});
