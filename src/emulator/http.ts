import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { HEADERS, type RateLimitState } from './faults.js';
import { togetherError, type EmulatorError } from './validate.js';

/** Reading and writing HTTP for the emulator's handlers: JSON out, bodies in, waits that a client can cut short. */

export type ResponseHeaders = Record<string, string | number>;

/** A status and a JSON body. */
export type JsonResult = { status: number; body: unknown };

const MAX_BODY_BYTES = 50 * 1024 * 1024;

export const CORS_HEADERS = {
  'access-control-allow-origin': '*',
  'access-control-allow-headers': `authorization, content-type, user-agent, ${Object.values(HEADERS).join(', ')}`,
  'access-control-expose-headers': 'retry-after, x-ratelimit-limit, x-ratelimit-remaining, x-ratelimit-reset',
};

export function sendJson(response: ServerResponse, { status, body }: JsonResult, headers: ResponseHeaders = {}): void {
  const text = JSON.stringify(body);
  response
    .writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) })
    .end(text);
}

export function rateLimitHeaders(state: RateLimitState): ResponseHeaders {
  return {
    'x-ratelimit-limit': state.limit,
    'x-ratelimit-remaining': state.remaining,
    'x-ratelimit-reset': Math.ceil(state.resetMs / 1000),
  };
}

/** The body as text, or `undefined` when it is over the limit (the rest is read and dropped). */
export async function readBody(request: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of request) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size > MAX_BODY_BYTES ? undefined : Buffer.concat(chunks).toString('utf8');
}

export function parseJson(text: string): { value: unknown } | { error: EmulatorError } {
  try {
    return { value: JSON.parse(text) as unknown };
  } catch {
    return { error: togetherError(400, { message: 'The request body is not valid JSON', param: 'body', code: 'invalid_json' }) };
  }
}

/** Waits until `deadline` (a `performance.now()` time); `false` when the request or server went away. */
export async function waitUntil(deadline: number, signal: AbortSignal): Promise<boolean> {
  const remaining = deadline - performance.now();
  if (signal.aborted) return false;
  if (remaining <= 0) return true;
  try {
    await sleep(remaining, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** The path without query or trailing slashes (`/` for the root). */
export function pathOf(request: IncomingMessage): string {
  return new URL(request.url ?? '/', 'http://emulator').pathname.replace(/\/+$/, '') || '/';
}
