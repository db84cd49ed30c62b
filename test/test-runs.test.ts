import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { setup, teardown } from './setup/temp-dir.js';

/** Test runs remove what they make, and two at once share no temp folder. */

describe('a test run has a temp folder of its own', () => {
  it("the workers' TMPDIR is this run's folder", () => {
    expect(path.basename(tmpdir())).toMatch(/^ai-imagegen-test-run-/);
    expect(process.env.IMAGEGEN_TEST_RUN_FOLDER).toBe(tmpdir());
  });

  it('setup makes one under the machine temp folder and points TMPDIR at it; teardown removes it with all inside, and points TMPDIR back', async () => {
    const saved = { TMPDIR: process.env.TMPDIR, IMAGEGEN_TEST_RUN_FOLDER: process.env.IMAGEGEN_TEST_RUN_FOLDER };
    const machine = await mkdtemp(path.join(tmpdir(), 'machine-'));
    try {
      process.env.TMPDIR = machine;
      delete process.env.IMAGEGEN_TEST_RUN_FOLDER;
      setup();
      const run = tmpdir();
      expect(path.dirname(run)).toBe(machine);
      // What a test forgets to remove, and what a child process leaves.
      await writeFile(path.join(run, 'left-behind.png'), 'x');
      await mkdtemp(path.join(run, 'imagegen-forgotten-'));
      // A second project's setup in the same run makes no second folder.
      setup();
      expect(tmpdir()).toBe(run);
      await teardown();
      expect(existsSync(run)).toBe(false);
      expect(process.env.TMPDIR).toBe(machine);
      expect(process.env.IMAGEGEN_TEST_RUN_FOLDER).toBeUndefined();
    } finally {
      process.env.TMPDIR = saved.TMPDIR;
      process.env.IMAGEGEN_TEST_RUN_FOLDER = saved.IMAGEGEN_TEST_RUN_FOLDER;
      await rm(machine, { recursive: true, force: true });
    }
  });
});
