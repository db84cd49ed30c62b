import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createRequestListener } from './routes.js';
import { createEmulatorState, resetState, snapshotStats } from './state.js';
import type { Emulator, EmulatorOptions } from './types.js';

/**
 * Starts a local server that answers like Together's image API, for offline development, `curl`,
 * Together's SDKs and the AI SDK provider, with latency, rate limits and faults on demand.
 * @example
 * const emulator = await startEmulator({ latency: '300ms', rateLimit: '60/min', seed: 1 });
 * process.env.TOGETHER_BASE_URL = emulator.url;
 * // ...
 * await emulator.close();
 */
export async function startEmulator(options: EmulatorOptions = {}): Promise<Emulator> {
  const host = options.host ?? '127.0.0.1';
  const state = createEmulatorState(options);
  const server = createServer(createRequestListener(state));

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  state.origin = `http://${host.includes(':') ? `[${host}]` : host}:${port}`;

  let closing: Promise<void> | undefined;
  return {
    url: `${state.origin}/v1`,
    port,
    stats: () => snapshotStats(state),
    requests: () => [...state.recorded],
    reset: () => resetState(state),
    close() {
      closing ??= new Promise<void>((resolve, reject) => {
        for (const controller of state.pending) controller.abort();
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      });
      return closing;
    },
  };
}
