import type { IncomingMessage, RequestListener, ServerResponse } from 'node:http';
import { handleGeneration } from './generation.js';
import { handleDownload, handleModels, handleNotFound, handlePreflight, handleReset, handleStats } from './handlers.js';
import { CORS_HEADERS, pathOf } from './http.js';
import { sendResult, type EmulatorState } from './state.js';
import { togetherError } from './validate.js';

const FILES = '/images/files/';

/** The server's request listener: CORS headers on every response, then the route; an unexpected error is a 500. */
export function createRequestListener(state: EmulatorState): RequestListener {
  return (request, response) => {
    const started = performance.now();
    for (const [name, value] of Object.entries(CORS_HEADERS)) response.setHeader(name, value);
    route(state, request, response, started).catch((error: unknown) => {
      if (response.destroyed) return; // The client went away mid-request: nobody to tell.
      if (!response.headersSent) sendResult(state, response, togetherError(500, { message: `Emulator error: ${String(error)}` }));
      else response.destroy();
    });
  };
}

async function route(state: EmulatorState, request: IncomingMessage, response: ServerResponse, started: number): Promise<void> {
  const path = pathOf(request);
  const method = request.method ?? 'GET';
  // Accept paths with or without `/v1`, so a base URL given either way works.
  const apiPath = path.startsWith('/v1/') ? path.slice(3) : path;

  if (method === 'OPTIONS') return handlePreflight(response);
  if (path === '/_emulator/stats' && method === 'GET') return handleStats(state, response);
  if (path === '/_emulator/reset' && method === 'POST') return handleReset(state, response);
  if (apiPath === '/images/generations' && method === 'POST') return handleGeneration(state, request, response, started);
  if (apiPath === '/models' && method === 'GET') return handleModels(state, request, response);
  if (apiPath.startsWith(FILES) && (method === 'GET' || method === 'HEAD')) {
    return handleDownload(state, request, response, apiPath.slice(FILES.length));
  }
  handleNotFound(state, response, method, path);
}
