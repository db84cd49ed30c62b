import { DownloadLimitError, MAX_ANSWER_BYTES } from '../../util/download.js';
import type { ImageMetadata } from '../adapter.js';

/**
 * What `@ai-sdk/togetherai` drops from Together's answer (the response `id`, each image's `seed`
 * and `timings`), read through the one public door that sees the answer: the `fetch` given to
 * `createTogetherAI`. It reads a successful `POST …/images/generations` response's body once and
 * returns a response with the very same bytes and one more header, which travels with the response
 * into `generateImage`'s `responses[i].headers`. So the bytes the package parses are never changed,
 * and nothing is shared between concurrent calls.
 */

/** The header that carries what Together said per image; the toolkit takes it out of its results. */
export const TOGETHER_METADATA_HEADER = 'x-ai-imagegen-together-metadata';

/**
 * A `fetch` for `createTogetherAI` that keeps Together's response id, seeds and timings, which
 * `generateImages` then puts on each image (`responseId`, `seed`, `timings`) and in `calls`.
 *
 * @example
 * import { createTogetherAI } from '@ai-sdk/togetherai';
 * import { togetherMetadataFetch } from 'ai-imagegen';
 * const togetherai = createTogetherAI({ fetch: togetherMetadataFetch() });
 * await generateImages({ prompt: 'a fox', model: 'togetherai:black-forest-labs/FLUX.2-dev' }, { providers: { togetherai } });
 */
export function togetherMetadataFetch(base: typeof globalThis.fetch = globalThis.fetch): typeof globalThis.fetch {
  return async (input, init) => {
    const response = await base(input, init);
    if (!response.ok || response.body === null || !isImageGeneration(input, init)) return response;
    const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
    // The body read once as bytes and handed on as those same bytes: a tee'd clone would make the
    // package read a JS stream instead of the platform's own body (about a millisecond a call).
    let bytes: ArrayBuffer;
    try {
      bytes = await bodyWithin(response, MAX_ANSWER_BYTES, url);
    } catch (error) {
      if (error instanceof DownloadLimitError) throw error;
      // A body that breaks off breaks off for the package too, when it reads it: reported as before.
      const broken = new ReadableStream({ start: (controller) => controller.error(error) });
      return new Response(broken, { status: response.status, statusText: response.statusText, headers: response.headers });
    }
    const headers = new Headers(response.headers);
    const metadata = metadataOf(bytes);
    if (metadata !== undefined) headers.set(TOGETHER_METADATA_HEADER, metadata);
    return new Response(bytes, { status: response.status, statusText: response.statusText, headers });
  };
}

/** The header's value for a body, or `undefined` when it is not Together's JSON or says nothing to keep. */
function metadataOf(bytes: ArrayBuffer): string | undefined {
  try {
    return encodeMetadata(new TextDecoder().decode(bytes));
  } catch {
    return undefined;
  }
}

/** The per-image metadata a response carried in the header, or `undefined` when it carries none. */
export function readTogetherMetadata(headers: Record<string, string> | undefined): ImageMetadata[] | undefined {
  const value = headers?.[TOGETHER_METADATA_HEADER];
  if (value === undefined) return undefined;
  try {
    const parsed = JSON.parse(decodeURIComponent(value)) as { id?: unknown; images?: unknown };
    if (!Array.isArray(parsed.images)) return undefined;
    const id = typeof parsed.id === 'string' ? parsed.id : undefined;
    return parsed.images.map((image: { seed?: unknown; inference?: unknown } | null) => ({
      ...(id === undefined ? {} : { id }),
      ...(typeof image?.seed === 'number' ? { seed: image.seed } : {}),
      ...(typeof image?.inference === 'number' ? { timings: { inference: image.inference } } : {}),
    }));
  } catch {
    return undefined;
  }
}

function isImageGeneration(input: Parameters<typeof fetch>[0], init: Parameters<typeof fetch>[1]): boolean {
  const url = typeof input === 'string' ? input : input instanceof URL ? input.href : input.url;
  const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
  return method.toUpperCase() === 'POST' && /\/images\/generations(?:[?#]|$)/.test(url);
}

/** `{ id, images: [{ seed?, inference? }] }` of a Together answer, URI-encoded for a header; `undefined` when it has none. */
function encodeMetadata(text: string): string | undefined {
  const body = JSON.parse(withoutImageData(text)) as { id?: unknown; data?: unknown };
  if (!Array.isArray(body.data)) return undefined;
  const images = body.data.map((item: { seed?: unknown; timings?: { inference?: unknown } | null } | null) => ({
    ...(typeof item?.seed === 'number' ? { seed: item.seed } : {}),
    ...(typeof item?.timings?.inference === 'number' ? { inference: item.timings.inference } : {}),
  }));
  const id = typeof body.id === 'string' ? body.id : undefined;
  if (id === undefined && images.every((image) => Object.keys(image).length === 0)) return undefined;
  return encodeURIComponent(JSON.stringify({ ...(id === undefined ? {} : { id }), images }));
}

/**
 * The answer with every `b64_json` value emptied, so that only a few hundred bytes are parsed: the
 * package parses the whole body itself, and a second full parse of megabytes of base64 would double
 * the toolkit's cost per call. Base64 holds no quote, so each value ends at the next one.
 */
function withoutImageData(text: string): string {
  let kept = '';
  let position = 0;
  for (let key = text.indexOf('"b64_json"', position); key !== -1; key = text.indexOf('"b64_json"', position)) {
    const open = text.indexOf('"', text.indexOf(':', key + 10) + 1);
    const close = open === -1 ? -1 : text.indexOf('"', open + 1);
    if (close === -1) break;
    kept += text.slice(position, open + 1);
    position = close;
  }
  return kept + text.slice(position);
}

/**
 * The body, refused past `maxBytes` (`DownloadLimitError`): at once when its declared length is
 * over, else as it is read, so a runaway answer never fills the process's memory.
 */
async function bodyWithin(response: Response, maxBytes: number, url: string): Promise<ArrayBuffer> {
  const host = new URL(url).host;
  const declared = Number(response.headers.get('content-length') ?? Number.NaN);
  if (declared > maxBytes) {
    void response.body?.cancel().catch(() => undefined);
    throw new DownloadLimitError(`the answer from ${host} is ${declared} bytes, over the ${maxBytes}-byte cap`);
  }
  // A declared length within the cap is held to by the platform: the body is read in one go.
  if (Number.isFinite(declared)) return response.arrayBuffer();
  const reader = response.body!.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (let read = await reader.read(); !read.done; read = await reader.read()) {
    total += read.value.byteLength;
    if (total > maxBytes) {
      await reader.cancel().catch(() => undefined);
      throw new DownloadLimitError(`the answer from ${host} went over the ${maxBytes}-byte cap`);
    }
    chunks.push(read.value);
  }
  const whole = new Uint8Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    whole.set(chunk, offset);
    offset += chunk.byteLength;
  }
  return whole.buffer;
}
