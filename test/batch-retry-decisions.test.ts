import { APICallError } from '@ai-sdk/provider';
import { MockImageModelV3 } from 'ai/test';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetryable, runBatch } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import type { JournalEntry } from '../src/batch/journal.js';
import { NoImageError, ProviderError } from '../src/errors/errors.js';
import { renderPlaceholder } from '../src/placeholder/render.js';

const folders: string[] = [];
afterEach(async () => {
  for (const folder of folders.splice(0)) await rm(folder, { recursive: true, force: true });
});
const folder = async () => {
  const created = await mkdtemp(path.join(tmpdir(), 'imagegen-retry-'));
  folders.push(created);
  return created;
};
const fastBackoff = { minMs: 1, maxMs: 2 };
const png = (seed: number) => renderPlaceholder({ prompt: 'mock', seed, width: 32, height: 24, format: 'png' });
const apiError = (statusCode: number, isRetryable: boolean) =>
  new APICallError({ message: 'scripted', url: 'http://127.0.0.1/x', requestBodyValues: {}, statusCode, isRetryable, responseBody: '{"error":{"message":"scripted failure"}}' });

/** A provider whose one model answers each call with `answer(call number from 1)`. */
function scripted(answer: (call: number) => Uint8Array[] | Error) {
  const stats = { calls: 0 };
  const model = new MockImageModelV3({
    provider: 'scripted.image',
    modelId: 'scripted',
    maxImagesPerCall: 1,
    doGenerate: async () => {
      stats.calls += 1;
      const current = stats.calls;
      await new Promise((resolve) => setTimeout(resolve, 5 + (current % 3) * 5));
      const images = answer(current);
      if (images instanceof Error) throw images;
      return { images, warnings: [], response: { timestamp: new Date(), modelId: 'scripted', headers: undefined } };
    },
  });
  return { providers: { scripted: { imageModel: () => model } }, stats };
}

const jobs = (count = 1) => parseBatchInput({ text: 'a fox', format: 'text', defaults: { model: 'scripted:x', size: '64x64', count } }).jobs;

async function manifest(outDir: string): Promise<JournalEntry[]> {
  return (await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as JournalEntry);
}

describe('what a batch retries', () => {
  it('an empty (or content-filtered) result is a NoImageError, sent once, not retried', async () => {
    const { providers, stats } = scripted(() => []);
    const outDir = await folder();
    const summary = await runBatch({ jobs: jobs(), outDir, cache: false, providers, backoff: fastBackoff, maxRetries: 5 });
    expect(stats.calls).toBe(1);
    expect(summary).toMatchObject({ failed: 1, retries: 0 });
    expect(summary.failures[0]!.error).toMatch(/returned no image for .*: the response held no images \(empty, or removed by a content filter\)/);
  });

  it("the provider's isRetryable decides: a 500 it calls final is sent once; a 400 it calls retryable is retried", async () => {
    const final = scripted(() => apiError(500, false));
    await runBatch({ jobs: jobs(), outDir: await folder(), cache: false, providers: final.providers, backoff: fastBackoff, maxRetries: 5 });
    expect(final.stats.calls).toBe(1);
    const retryable = scripted((call) => (call < 3 ? apiError(400, true) : [png(call)]));
    const summary = await runBatch({ jobs: jobs(), outDir: await folder(), cache: false, providers: retryable.providers, backoff: fastBackoff, maxRetries: 5 });
    expect(retryable.stats.calls).toBe(3);
    expect(summary).toMatchObject({ done: 1, retries: 2 });
  });

  it('isRetryable: NoImageError never; a ProviderError by its isRetryable, else by status', () => {
    const fields = { provider: 'p', modelId: 'm' };
    expect(isRetryable(new NoImageError(fields))).toBe(false);
    expect(isRetryable(new ProviderError({ ...fields, statusCode: 503, isRetryable: false }))).toBe(false);
    expect(isRetryable(new ProviderError({ ...fields, statusCode: 400, isRetryable: true }))).toBe(true);
    expect(isRetryable(new ProviderError({ ...fields, statusCode: 503 }))).toBe(true);
    expect(isRetryable(new ProviderError({ ...fields, statusCode: 400 }))).toBe(false);
  });
});

describe('a failed call inside a job', () => {
  it("keeps its sibling calls' images (written, listed in the failed entry); a re-run redoes the job", async () => {
    // Count 4 on a one-image-per-call model: four calls; the second fails for good.
    const { providers, stats } = scripted((call) => (call === 2 ? apiError(400, false) : [png(call)]));
    const outDir = await folder();
    const summary = await runBatch({ jobs: jobs(4), outDir, cache: false, providers, backoff: fastBackoff, concurrency: 4 });
    expect(stats.calls).toBe(4);
    expect(summary).toMatchObject({ failed: 1, done: 0, images: 3 });
    const [entry] = await manifest(outDir);
    expect(entry).toMatchObject({ status: 'failed' });
    expect(entry!.files).toHaveLength(3);
    for (const file of entry!.files) expect((await readFile(path.join(outDir, file))).subarray(1, 4).toString()).toBe('PNG');
  });
});
