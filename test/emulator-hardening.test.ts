import { afterEach, describe, expect, it } from 'vitest';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { layoutLabel } from '../src/placeholder/label.js';
import { renderPixels } from '../src/placeholder/render.js';

const KEY = 'hardening-key-0123';
let emulator: Emulator | undefined;
afterEach(async () => {
  await emulator?.close();
  emulator = undefined;
});

const generation = (url: string, key: string, body: string) =>
  fetch(`${url}/images/generations`, { method: 'POST', headers: { authorization: `Bearer ${key}`, 'content-type': 'application/json' }, body });

describe('the emulator cannot be worn down without a key', () => {
  it('a request with a wrong key is refused (401) without its body being read into memory or kept', async () => {
    emulator = await startEmulator({ apiKey: KEY, quiet: true });
    const big = JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', prompt: 'x'.repeat(5 * 1024 * 1024) });
    const answers = await Promise.all(Array.from({ length: 6 }, () => generation(emulator!.url, 'wrong-key', big).then((response) => response.status)));
    expect(answers).toEqual([401, 401, 401, 401, 401, 401]);
    expect(emulator.requests().map((request) => request.body)).toEqual([undefined, undefined, undefined, undefined, undefined, undefined]);
  });

  it('with a good key, recorded bodies are capped in total (oldest dropped first), the requests themselves kept', async () => {
    emulator = await startEmulator({ apiKey: KEY, quiet: true, maxRecordedBodyBytes: 2 * 1024 * 1024 });
    // Invalid on purpose (n: 0), so nothing is drawn: only the recording is under test.
    const body = (mark: string) => JSON.stringify({ model: 'black-forest-labs/FLUX.1-schnell', n: 0, prompt: `${mark}${'y'.repeat(900 * 1024)}` });
    for (const mark of ['a', 'b', 'c']) expect((await generation(emulator.url, KEY, body(mark))).status).toBe(400);
    const recorded = emulator.requests().map((request) => (request.body as { prompt?: string } | undefined)?.prompt?.[0]);
    expect(recorded).toEqual([undefined, 'b', 'c']);
  });
});

describe('odd paths and huge prompts', () => {
  it('a file name that is not valid percent-encoding is a 404, not a 500', async () => {
    emulator = await startEmulator({ quiet: true });
    const response = await fetch(`${emulator.url}/images/files/%E0%A4%A`, { headers: { 'user-agent': 'test' } });
    expect(response.status).toBe(404);
  });

  // A hang guard, not a speed check: the whole 30 MB prompt was wrapped before (over a minute).
  it('a 30 MB prompt: the label shows its start, cut with "...", and renders', () => {
    const prompt = 'word '.repeat(6 * 1024 * 1024);
    const layout = layoutLabel({ prompt, seed: 1, width: 512, height: 512, model: 'acme/model' });
    const promptLines = layout!.lines.filter((line) => line.text.startsWith('word'));
    expect(promptLines.length).toBeGreaterThan(0);
    expect(promptLines.at(-1)!.text.endsWith('...')).toBe(true);
    expect(renderPixels({ prompt, seed: 1, width: 256, height: 256, model: 'acme/model' }).length).toBe(256 * 256 * 3);
  });
});
