import { mkdtemp, readdir, readFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { createTogetherAI } from '@ai-sdk/togetherai';
import { APICallError, RetryError } from 'ai';
import { afterEach, describe, expect, it } from 'vitest';
import { isRetryable, runBatch } from '../src/batch/engine.js';
import { parseBatchInput } from '../src/batch/input.js';
import { runCli } from '../src/cli/main.js';
import { DEFAULT_DOWNLOAD_LIMITS, downloadImage, guardedFetch } from '../src/util/download.js';
import { generateImages, ImagegenError, ProviderError, TimeoutError } from '../src/index.js';
import { toImagegenError } from '../src/errors/provider-errors.js';
import { timeoutSignal } from '../src/util/timeout.js';
import { memoryIO } from './helpers/cli.js';
import { emulatorPerTest } from './helpers/emulators.js';

const emulator = emulatorPerTest();
const folder = () => mkdtemp(path.join(tmpdir(), 'imagegen-timeout-'));
const SCHNELL = 'black-forest-labs/FLUX.1-schnell';
const context = { provider: 'togetherai', modelId: SCHNELL, environmentVariables: ['TOGETHER_API_KEY'] };

/** A server that takes every request and never answers; closed after each test. */
const silentServers: Server[] = [];
async function silentServer(): Promise<string> {
  const server = createServer(() => {});
  silentServers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server.address() as { port: number }).port}`;
}
afterEach(async () => {
  for (const server of silentServers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

describe('TimeoutError', () => {
  it('is an ImagegenError of kind "timeout", named TimeoutError, with what timed out and the limit', () => {
    const error = new TimeoutError({ operation: 'the request', timeoutMs: 1500, provider: 'togetherai', modelId: SCHNELL });
    expect(ImagegenError.isInstance(error)).toBe(true);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(ProviderError.isInstance(error)).toBe(false);
    expect(TimeoutError.isInstance(new ProviderError({ provider: 'togetherai', modelId: SCHNELL }))).toBe(false);
    expect(TimeoutError.isInstance(new DOMException('The operation was aborted due to timeout', 'TimeoutError'))).toBe(false);
    expect(JSON.parse(JSON.stringify(error))).toEqual({
      name: 'TimeoutError',
      message: `togetherai did not answer for ${SCHNELL} within 1.5s`,
      kind: 'timeout',
      operation: 'the request',
      timeoutMs: 1500,
      provider: 'togetherai',
      modelId: SCHNELL,
    });
  });

  it('without a provider it says what did not finish; forCall names the provider in front of a caller\'s wording', () => {
    const plain = new TimeoutError({ operation: 'reading a.png', timeoutMs: 200 });
    expect(plain.message).toBe('reading a.png did not finish within 0.2s');
    expect(plain.forCall({ provider: 'fal', modelId: 'm' }).message).toBe('fal did not answer for m within 0.2s');
    const worded = new TimeoutError({ operation: 'the request', timeoutMs: 200, message: 'no answer within 200ms (--timeout)' });
    const named = worded.forCall({ provider: 'fal', modelId: 'm' });
    expect(named).toMatchObject({ message: 'fal failed for m: no answer within 200ms (--timeout)', provider: 'fal', modelId: 'm', timeoutMs: 200 });
    // Already named: kept as it is.
    expect(named.forCall({ provider: 'openai', modelId: 'other' })).toBe(named);
  });

  it('never carries a key in its message', () => {
    const error = new TimeoutError({ operation: 'the request', timeoutMs: 10, message: 'no answer to Bearer sk-abcdef123456 in time' });
    expect(error.message).toBe('no answer to Bearer *** in time');
  });
});

describe('timeoutSignal', () => {
  it('aborts with a TimeoutError as its reason', async () => {
    const signal = timeoutSignal(20, { operation: 'the request', provider: 'togetherai', modelId: SCHNELL });
    await new Promise((resolve) => signal.addEventListener('abort', resolve, { once: true }));
    expect(TimeoutError.isInstance(signal.reason)).toBe(true);
    expect(signal.reason).toMatchObject({ timeoutMs: 20, provider: 'togetherai', modelId: SCHNELL });
  });

  it('refuses a limit a timer cannot hold (past 2^31 - 1 ms it would fire at once), or none', () => {
    for (const timeoutMs of [-1, Number.NaN, 2_147_483_648]) {
      expect(() => timeoutSignal(timeoutMs, { operation: 'the request' })).toThrow(RangeError);
    }
  });

  it("passes on the reason of the caller's signal when that one aborts first", () => {
    const controller = new AbortController();
    const signal = timeoutSignal(60_000, { operation: 'the request' }, controller.signal);
    const reason = new Error('the app cancelled');
    controller.abort(reason);
    expect(signal.aborted).toBe(true);
    expect(signal.reason).toBe(reason);
  });
});

describe('toImagegenError: timeouts become TimeoutError, cancels pass through, nothing is unknown', () => {
  it('a TimeoutError (as thrown, or as the last error of a RetryError) gets the provider and model', () => {
    const thrown = new TimeoutError({ operation: 'the request', timeoutMs: 500 });
    const retried = new RetryError({ message: 'failed after 3 attempts', reason: 'maxRetriesExceeded', errors: [new Error('503'), thrown] });
    for (const error of [thrown, retried]) {
      const mapped = toImagegenError(error, context);
      expect(TimeoutError.isInstance(mapped)).toBe(true);
      expect(mapped).toMatchObject({ provider: 'togetherai', modelId: SCHNELL, timeoutMs: 500, message: `togetherai did not answer for ${SCHNELL} within 0.5s` });
    }
  });

  it("AbortSignal.timeout's DOMException becomes a TimeoutError (the limit unknown)", () => {
    const domTimeout = new DOMException('The operation was aborted due to timeout', 'TimeoutError');
    const mapped = toImagegenError(domTimeout, context);
    expect(TimeoutError.isInstance(mapped)).toBe(true);
    expect(mapped).toMatchObject({ timeoutMs: undefined, cause: domTimeout, message: `togetherai did not answer for ${SCHNELL} before its abort signal timed out` });
  });

  it("a bare AbortError thrown after a timeout signal fired is that signal's TimeoutError", () => {
    const controller = new AbortController();
    controller.abort(new TimeoutError({ operation: 'the request', timeoutMs: 300 }));
    const mapped = toImagegenError(new DOMException('This operation was aborted', 'AbortError'), { ...context, abortSignal: controller.signal });
    expect(TimeoutError.isInstance(mapped)).toBe(true);
    expect(mapped.message).toBe(`togetherai did not answer for ${SCHNELL} within 0.3s`);
  });

  it("user aborts pass through: an AbortError as it is, an app's own reason as it is, a reason that is no Error as an AbortError", () => {
    const abortError = new DOMException('This operation was aborted', 'AbortError');
    expect(toImagegenError(abortError, context)).toBe(abortError);
    const ownReason = new Error('user left the page');
    const mine = new AbortController();
    mine.abort(ownReason);
    // What a package throws after the abort (its own wrapping, here) does not hide the reason.
    const wrapped = new APICallError({ message: 'Cannot connect to API', url: 'http://x', requestBodyValues: {}, cause: ownReason });
    expect(toImagegenError(wrapped, { ...context, abortSignal: mine.signal })).toBe(ownReason);
    const text = new AbortController();
    text.abort('stop');
    const mapped = toImagegenError('stop', { ...context, abortSignal: text.signal });
    expect(ImagegenError.isInstance(mapped)).toBe(false);
    expect(mapped).toMatchObject({ name: 'AbortError', message: 'stop' });
  });

  it('a provider failure is still a ProviderError, whatever signal the call had', () => {
    const failure = new APICallError({ message: 'Service Unavailable', url: 'http://x', requestBodyValues: {}, statusCode: 503 });
    const mapped = toImagegenError(failure, { ...context, abortSignal: new AbortController().signal });
    expect(ProviderError.isInstance(mapped) && mapped.statusCode).toBe(503);
  });
});

describe('a timeout from each place that sets one', () => {
  it('generateImages with a timeout signal: TimeoutError naming the provider and model, the signal reaching fetch', async () => {
    await emulator({ faults: { hang: 1 } });
    const error = await generateImages({ prompt: 'p' }, { abortSignal: timeoutSignal(200, { operation: 'the request' }) }).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(error)).toBe(true);
    expect(error).toMatchObject({ provider: 'togetherai', modelId: SCHNELL, timeoutMs: 200, message: `togetherai did not answer for ${SCHNELL} within 0.2s` });
  });

  it("generateImages with an app's AbortSignal.timeout: TimeoutError; with an app's own abort: that abort, untouched", async () => {
    const hung = await emulator({ faults: { hang: 1 } });
    const provider = createTogetherAI({ apiKey: 'test-key', baseURL: hung.url });
    const timedOut = await generateImages({ prompt: 'p', model: `togetherai:${SCHNELL}` }, { providers: { togetherai: provider }, abortSignal: AbortSignal.timeout(200) }).catch(
      (caught: unknown) => caught,
    );
    expect(TimeoutError.isInstance(timedOut)).toBe(true);
    expect(timedOut).toMatchObject({ provider: 'togetherai', modelId: SCHNELL, timeoutMs: undefined });

    const controller = new AbortController();
    const reason = new Error('the user closed the tab');
    const before = hung.stats().requests;
    const pending = generateImages({ prompt: 'p' }, { abortSignal: controller.signal }).catch((caught: unknown) => caught);
    // Aborted once the request hangs at the provider.
    while (hung.stats().requests === before) await new Promise((resolve) => setTimeout(resolve, 10));
    controller.abort(reason);
    expect(await pending).toBe(reason);
  });

  it('the CLI --timeout: exit 1 and the same message as before, now from a TimeoutError; nothing written', async () => {
    const hung = await emulator({ faults: { hang: 1 } });
    const out = await folder();
    const io = memoryIO();
    expect(await runCli(['generate', 'p', '--timeout', '300ms', '-o', out], io)).toBe(1);
    expect(io.stderrText()).toBe(`error: togetherai failed for ${SCHNELL}: no answer within 300ms (--timeout); nothing was saved\n`);
    expect(io.stdoutText()).toBe('');
    expect(await readdir(out)).toEqual([]);
    expect(hung.stats().faults.hang).toBe(1);
    // --verbose prints the stack, whose first line names the class.
    const verbose = memoryIO();
    expect(await runCli(['generate', 'p', '--timeout', '300ms', '-o', out, '--verbose'], verbose)).toBe(1);
    expect(verbose.stderrText()).toContain(`\nTimeoutError: togetherai failed for ${SCHNELL}: no answer within 300ms (--timeout); nothing was saved\n    at `);
  });

  it('the batch per-request timeout: each call gets a TimeoutError reason, is retried, and fails with the same journal text as before', async () => {
    const hung = await emulator({ faults: { hang: 1 } });
    const reasons: unknown[] = [];
    // The app's Together instance, so the signal each request is sent with can be looked at.
    const fetchRecording: typeof fetch = (input, init) => {
      init?.signal?.addEventListener('abort', () => reasons.push(init.signal?.reason), { once: true });
      return fetch(input, init);
    };
    const together = createTogetherAI({ apiKey: 'test-key', baseURL: hung.url, fetch: fetchRecording });
    const outDir = await folder();
    const events: string[] = [];
    const summary = await runBatch({
      jobs: parseBatchInput({ text: "a fox", format: "text", defaults: { model: `togetherai:${SCHNELL}` } }).jobs,
      outDir,
      cache: false,
      timeoutMs: 200,
      maxRetries: 1,
      backoff: { minMs: 1, maxMs: 2 },
      providers: { togetherai: together },
      onEvent: (event) => {
        if (event.type === 'retry' || event.type === 'failed') events.push(`${event.type}: ${event.error}`);
      },
    });
    const text = `togetherai did not answer for ${SCHNELL} within 0.2s`;
    expect(summary).toMatchObject({ done: 0, failed: 1, retries: 1, requests: 2, failures: [{ line: 1, error: text }] });
    expect(events).toEqual([`retry: ${text}`, `failed: ${text}`]);
    expect(reasons).toHaveLength(2);
    for (const reason of reasons) {
      expect(TimeoutError.isInstance(reason)).toBe(true);
      expect(reason).toMatchObject({ provider: 'togetherai', modelId: SCHNELL, timeoutMs: 200 });
    }
    const journal = (await readFile(path.join(outDir, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((line) => JSON.parse(line) as { status: string; error?: string });
    expect(journal).toMatchObject([{ status: 'failed', error: text }]);
    expect(isRetryable(new TimeoutError({ operation: 'the request', timeoutMs: 1 }))).toBe(true);
  });

  it('a download: TimeoutError naming the host and the limit, from guardedFetch and from downloadImage', async () => {
    const url = `${await silentServer()}/image.png`;
    const limits = { ...DEFAULT_DOWNLOAD_LIMITS, timeoutMs: 200 };
    const host = new URL(url).host;
    const fetched = await guardedFetch(limits)(url).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(fetched)).toBe(true);
    expect(fetched).toMatchObject({ operation: `the download from ${host}`, timeoutMs: 200, message: `no answer from ${host} within 0.2s (the download timeout)` });
    const downloaded = await downloadImage(url, { provider: 'togetherai', modelId: SCHNELL, limits }).catch((caught: unknown) => caught);
    expect(TimeoutError.isInstance(downloaded)).toBe(true);
    expect(downloaded).toMatchObject({ provider: 'togetherai', modelId: SCHNELL, timeoutMs: 200, message: `Downloading the image from ${host} failed: no answer within 0.2s` });
    // A caller's own abort is not a timeout.
    const controller = new AbortController();
    const pending = guardedFetch(limits)(url, { signal: controller.signal }).catch((caught: unknown) => caught);
    const reason = new Error('cancelled');
    controller.abort(reason);
    expect(await pending).toBe(reason);
  });
});

describe('generateImages({ timeoutMs })', () => {
  it('gives up on a call that takes longer with a TimeoutError naming provider, model and limit; a bad value is refused first', async () => {
    const { generateImages: generate, TimeoutError: Timeout, InvalidRequestError: Invalid } = await import('../src/index.js');
    const slow = {
      specificationVersion: 'v3' as const,
      provider: 'slow.image',
      modelId: 'slow',
      maxImagesPerCall: 1,
      doGenerate: ({ abortSignal }: { abortSignal?: AbortSignal }) =>
        new Promise<never>((_, reject) => abortSignal?.addEventListener('abort', () => reject(abortSignal.reason), { once: true })),
    };
    const providers = { slow: { imageModel: () => slow } };
    await expect(generate({ prompt: 'p', model: 'slow:slow' }, { providers, timeoutMs: 20, maxRetries: 0 })).rejects.toSatisfy(
      (error) => Timeout.isInstance(error) && error.timeoutMs === 20 && error.provider === 'slow' && error.modelId === 'slow',
    );
    await expect(generate({ prompt: 'p', model: 'slow:slow' }, { providers, timeoutMs: 0 })).rejects.toSatisfy(
      (error) => Invalid.isInstance(error) && error.issues[0]?.field === 'timeoutMs',
    );
  });
});
