import type { IncomingMessage, ServerResponse } from 'node:http';
import { sendJson } from './http.js';
import { describeModel } from './models.js';
import { checkKey, resetState, sendResult, snapshotStats, type EmulatorState } from './state.js';
import { togetherError } from './validate.js';

/** The emulator's endpoints other than generation (`generation.ts`), one function each. */

/** `OPTIONS *`: a CORS preflight (the headers are set on every response). */
export function handlePreflight(response: ServerResponse): void {
  response.writeHead(204).end();
}

/** `GET /_emulator/stats`. */
export function handleStats(state: EmulatorState, response: ServerResponse): void {
  sendJson(response, { status: 200, body: snapshotStats(state) });
}

/** `POST /_emulator/reset`. */
export function handleReset(state: EmulatorState, response: ServerResponse): void {
  resetState(state);
  sendJson(response, { status: 200, body: { reset: true } });
}

/** `GET /v1/models`: Together's list of models, for a key it accepts. */
export function handleModels(state: EmulatorState, request: IncomingMessage, response: ServerResponse): void {
  const denied = checkKey(state, request);
  const { listed, createdAt } = state.models;
  sendResult(state, response, denied ?? { status: 200, body: listed.map((model) => describeModel(model, createdAt)) });
}

/** `GET`/`HEAD /v1/images/files/<file>`: an image behind a `url` response, as Together's CDN serves it. */
export function handleDownload(state: EmulatorState, request: IncomingMessage, response: ServerResponse, file: string): void {
  state.stats.downloads++;
  const finish = (status: number) => state.log?.(`${request.method} /v1/images/files/${file} ${status}`);
  // Together's CDN turns away downloads without a User-Agent; clients must learn to send one.
  if ((request.headers['user-agent'] ?? '').trim() === '') {
    response.writeHead(403, { 'content-type': 'text/plain' }).end('Forbidden: send a non-empty User-Agent header\n');
    return finish(403);
  }
  const image = state.store.get(decodedName(file));
  if (!image) {
    response.writeHead(404, { 'content-type': 'text/plain' }).end('Not found (the image expired or never existed)\n');
    return finish(404);
  }
  response
    .writeHead(200, { 'content-type': image.mediaType, 'content-length': image.bytes.length, 'cache-control': 'private, max-age=3600' })
    .end(image.bytes);
  finish(200);
}

/** Anything else: Together's 404. */
export function handleNotFound(state: EmulatorState, response: ServerResponse, method: string, path: string): void {
  sendResult(state, response, togetherError(404, { message: `No route for ${method} ${path}`, code: 'not_found' }));
}

/** A file name from the path; one that is not valid percent-encoding (`%E0%A4%A`) names no file. */
function decodedName(file: string): string {
  try {
    return decodeURIComponent(file);
  } catch {
    return '';
  }
}
