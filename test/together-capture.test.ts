import { describe, expect, it } from 'vitest';
import type { ResponseDetails } from '../src/providers/adapter.js';
import { capturingFetch } from '../src/providers/together.js';

/** A fetch answering `body` in chunks of `size` bytes. */
function chunkedFetch(body: string, size: number): typeof fetch {
  const bytes = new TextEncoder().encode(body);
  return async () =>
    new Response(
      new ReadableStream<Uint8Array>({
        start(controller) {
          for (let offset = 0; offset < bytes.length; offset += size) controller.enqueue(bytes.subarray(offset, offset + size));
          controller.close();
        },
      }),
      { status: 200, headers: { 'content-type': 'application/json' } },
    );
}

const BASE64 = 'iVBORw0KGgo'.repeat(500);
const BODY = JSON.stringify({
  id: 'req-123',
  model: 'black-forest-labs/FLUX.1-schnell',
  object: 'list',
  data: [
    { index: 0, type: 'b64_json', b64_json: BASE64, timings: { inference: 0.5 } },
    { index: 1, type: 'b64_json', b64_json: `${BASE64}AA==`, timings: { inference: 0.75 } },
  ],
});

describe('capturingFetch', () => {
  it.each([1, 3, 7, 64, 4096, 1 << 20])('keeps id and timings and passes the body through untouched (chunks of %i bytes)', async (size) => {
    let captured: ResponseDetails | undefined;
    const fetchWithCapture = capturingFetch((details) => (captured = details), chunkedFetch(BODY, size));
    const response = await fetchWithCapture('http://127.0.0.1/v1/images/generations', { method: 'POST', body: '{"response_format":"base64"}' });
    expect(await response.text()).toBe(BODY);
    expect(captured).toEqual({ id: 'req-123', timings: [{ inference: 0.5 }, { inference: 0.75 }] });
  });

  it('turns a url response into one the AI SDK can parse, and hands over the URLs', async () => {
    let captured: ResponseDetails | undefined;
    const urlBody = JSON.stringify({ id: 'r', data: [{ index: 0, type: 'url', url: 'https://cdn.test/a.jpg' }] });
    const fetchWithCapture = capturingFetch((details) => (captured = details), chunkedFetch(urlBody, 5));
    const response = await fetchWithCapture('http://127.0.0.1/v1/images/generations', { method: 'POST', body: '{"response_format":"url"}' });
    const body = (await response.json()) as { data: { b64_json: string; url: string }[] };
    expect(body.data[0]?.url).toBe('https://cdn.test/a.jpg');
    expect(typeof body.data[0]?.b64_json).toBe('string');
    expect(captured?.urls).toEqual(['https://cdn.test/a.jpg']);
  });
});
