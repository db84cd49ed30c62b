import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { vi } from 'vitest';
import { generateImages, type GenerateImagesResult, type GenerateRequest, type ProvidersOption } from '../../src/index.js';
import { renderPlaceholder } from '../../src/placeholder/render.js';

/** One request as the server saw it. */
export type RecordedRequest = {
  method: string;
  /** The path without the query string. */
  path: string;
  query: URLSearchParams;
  headers: IncomingHttpHeaders;
  /** Parsed JSON when the body is JSON, otherwise the raw text (or `undefined` when empty). */
  body: unknown;
  /** The body's bytes as sent (multipart file parts survive here, not in `body`). */
  raw: Uint8Array;
};

/** What a route answers: JSON, or bytes with a content type. */
export type RouteResponse =
  | { status?: number; json: unknown; headers?: Record<string, string> }
  | { status?: number; bytes: Uint8Array; contentType: string; headers?: Record<string, string> };

export type Route = {
  method: 'GET' | 'POST';
  /** Exact path, or a pattern tested against the path. */
  path: string | RegExp;
  respond: (request: RecordedRequest, server: { url: string }) => RouteResponse;
};

export type ProviderServer = {
  /** `http://127.0.0.1:<port>`, no trailing slash. */
  url: string;
  /** Every request so far, in arrival order (file downloads and polls included). */
  requests(): RecordedRequest[];
  /** Bodies of the requests matching a method and path pattern. */
  bodies(method: 'GET' | 'POST', path: string | RegExp): unknown[];
  reset(): void;
  close(): Promise<void>;
};

/**
 * A recording HTTP server on 127.0.0.1 that answers in a provider's documented shape, so the real
 * AI SDK provider package can be pointed at it through its `baseURL`.
 */
export async function startProviderServer(routes: readonly Route[]): Promise<ProviderServer> {
  const recorded: RecordedRequest[] = [];
  let url = '';
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const target = new URL(incoming.url ?? '/', url);
      const raw = new Uint8Array(Buffer.concat(chunks));
      const text = Buffer.from(raw).toString('utf8');
      const isJson = (incoming.headers['content-type'] ?? '').includes('application/json');
      const request: RecordedRequest = {
        method: incoming.method ?? 'GET',
        path: target.pathname,
        query: target.searchParams,
        headers: incoming.headers,
        body: text === '' ? undefined : isJson ? JSON.parse(text) : text,
        raw,
      };
      recorded.push(request);
      const route = routes.find((candidate) => candidate.method === request.method && matches(candidate.path, request.path));
      const response: RouteResponse = route
        ? route.respond(request, { url })
        : { status: 404, json: { error: { message: `no route for ${request.method} ${request.path}` } } };
      if ('json' in response) {
        outgoing.writeHead(response.status ?? 200, { 'content-type': 'application/json', ...response.headers });
        outgoing.end(JSON.stringify(response.json));
      } else {
        outgoing.writeHead(response.status ?? 200, { 'content-type': response.contentType, ...response.headers });
        outgoing.end(Buffer.from(response.bytes));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return {
    url,
    requests: () => [...recorded],
    bodies: (method, path) =>
      recorded.filter((request) => request.method === method && matches(path, request.path)).map((request) => request.body),
    reset: () => void recorded.splice(0),
    close: () => new Promise((resolve, reject) => server.close((error) => (error ? reject(error) : resolve()))),
  };
}

function matches(pattern: string | RegExp, path: string): boolean {
  return typeof pattern === 'string' ? pattern === path : pattern.test(path);
}

/** Real 256x256 images, different per index, for servers to hand out. */
export function testImage(index: number, format: 'png' | 'jpeg' = 'png'): Uint8Array {
  return renderPlaceholder({ prompt: 'provider test', seed: index, width: 256, height: 256, format });
}

/** A route serving `testImage(n)` at `/files/<n>.png` or `/files/<n>.jpg`, for providers that return URLs. */
export const fileRoute: Route = {
  method: 'GET',
  path: /^\/files\/\d+\.(png|jpg)$/,
  respond: (request) => {
    const [, index, extension] = /^\/files\/(\d+)\.(png|jpg)$/.exec(request.path)!;
    const format = extension === 'png' ? 'png' : 'jpeg';
    return { bytes: testImage(Number(index), format), contentType: `image/${format}` };
  },
};

/** A multipart request's fields: text as strings, files as their name, type and bytes. */
export async function multipartFields(request: RecordedRequest): Promise<Record<string, string | { name: string; type: string; bytes: Uint8Array }>> {
  const form = await new Response(Buffer.from(request.raw), { headers: { 'content-type': String(request.headers['content-type']) } }).formData();
  const fields: Record<string, string | { name: string; type: string; bytes: Uint8Array }> = {};
  for (const [name, value] of form.entries()) {
    fields[name] = typeof value === 'string' ? value : { name: value.name, type: value.type, bytes: new Uint8Array(await value.arrayBuffer()) };
  }
  return fields;
}

export function toBase64(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('base64');
}

/**
 * The one high-level request every provider test sends: every option set, so each provider's
 * mapping (or its warning for what it cannot take) shows in one place.
 */
export const SHARED_REQUEST = {
  prompt: 'a lighthouse at dawn',
  aspectRatio: '16:9',
  count: 2,
  seed: 42,
  steps: 20,
  guidance: 3.5,
  negativePrompt: 'fog',
  safetyChecker: false,
} as const;

export const TEST_KEY = 'test-key-0123456789';

/**
 * Runs one request twice: through the given provider instance, then through the built-in provider
 * configured from `environment` (stubbed for the call; restore with `vi.unstubAllEnvs()`).
 * Returns both results and the requests each run made.
 */
export async function generateBothWays({
  server,
  request,
  providers,
  environment,
}: {
  server: ProviderServer;
  request: GenerateRequest;
  providers: ProvidersOption;
  environment: Record<string, string>;
}): Promise<{ given: Run; builtIn: Run }> {
  server.reset();
  const givenResult = await generateImages(request, { providers });
  const given = { result: givenResult, requests: server.requests() };
  server.reset();
  for (const [name, value] of Object.entries(environment)) vi.stubEnv(name, value);
  const builtInResult = await generateImages(request);
  const builtIn = { result: builtInResult, requests: server.requests() };
  server.reset();
  return { given, builtIn };
}

export type Run = { result: GenerateImagesResult; requests: RecordedRequest[] };

/** The image bytes of a result, as base64, sorted: calls run at once, so their order may vary. */
export const sortedBytes = (images: readonly { uint8Array: Uint8Array }[]) => images.map((image) => toBase64(image.uint8Array)).sort();

/** Request bodies in a fixed order (by their JSON), for calls that run at once and arrive in any order. */
export const inAnyOrder = (bodies: readonly unknown[]) => [...bodies].sort((first, second) => JSON.stringify(first).localeCompare(JSON.stringify(second)));
