/**
 * vitest global setup: every run gets a temp folder of its own, set as TMPDIR before the test
 * workers start, so everything the suites and their child processes put under `os.tmpdir()` is
 * removed when the run ends, whatever a test forgot, and two runs at once never share a temp file.
 * The consumer apps' install cache stays in the machine's temp folder, shared between runs: only
 * read there (test/helpers/consumer.ts copies an app into the run's folder before using it).
 */
import { mkdtempSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';

let runFolder: string | undefined;
let machineTemp: string | undefined;

export function setup(): void {
  // The projects (unit, consumer) each run the global setup: the first one makes the folder.
  if (process.env.IMAGEGEN_TEST_RUN_FOLDER !== undefined) return;
  machineTemp = process.env.TMPDIR;
  process.env.IMAGEGEN_CONSUMER_CACHE ??= path.join(tmpdir(), 'ai-imagegen-consumer');
  runFolder = mkdtempSync(path.join(tmpdir(), 'ai-imagegen-test-run-'));
  process.env.TMPDIR = runFolder;
  process.env.IMAGEGEN_TEST_RUN_FOLDER = runFolder;
}

export async function teardown(): Promise<void> {
  if (runFolder === undefined) return;
  delete process.env.IMAGEGEN_TEST_RUN_FOLDER;
  if (machineTemp === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = machineTemp;
  await rm(runFolder, { recursive: true, force: true, maxRetries: 3 });
  runFolder = undefined;
}
