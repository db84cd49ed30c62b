/**
 * The emulator in a process of its own, for benchmarks that time the client: its rendering and
 * garbage collection then run on the other core instead of the timed thread. Sends its URL when
 * listening; answers `{ type: 'bodies', count }` with the last request bodies; closes on `close`.
 */
import { startEmulator } from '../src/emulator/index.js';

const emulator = await startEmulator({ port: 0, seed: 1, quiet: true });
process.on('message', async (message: { type: 'bodies'; count: number } | { type: 'close' }) => {
  if (message.type === 'bodies') {
    process.send?.({ type: 'bodies', bodies: emulator.requests().slice(-message.count).map((request) => request.body) });
  } else {
    await emulator.close();
    process.disconnect?.();
  }
});
process.send?.({ type: 'url', url: emulator.url });
