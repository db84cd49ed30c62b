/**
 * The emulator in a process of its own, for benchmarks that time the client: its rendering and
 * garbage collection then run on the other core instead of the timed thread. Sends its URL when
 * listening; answers `{ type: 'bodies', count }` with the last request bodies, `{ type: 'calls' }`
 * with each generation call's start time and outcome, `{ type: 'stats' }` with its stats; closes
 * on `close`. Options for `startEmulator` may come as JSON in the first argument.
 */
import { startEmulator, type EmulatorOptions } from '../src/emulator/index.js';

const given = JSON.parse(process.argv[2] ?? '{}') as EmulatorOptions;
const calls: { startedAt: number; outcome: string }[] = [];
const emulator = await startEmulator({
  port: 0,
  seed: 1,
  ...given,
  quiet: false,
  log: (line) => {
    const match = /^POST \/v1\/images\/generations (\S+) (\d+)ms/.exec(line);
    if (match) calls.push({ startedAt: Date.now() - Number(match[2]), outcome: match[1]! });
  },
});
process.on('message', async (message: { type: 'bodies'; count: number } | { type: 'calls' } | { type: 'stats' } | { type: 'close' }) => {
  if (message.type === 'bodies') {
    process.send?.({ type: 'bodies', bodies: emulator.requests().slice(-message.count).map((request) => request.body) });
  } else if (message.type === 'calls') {
    process.send?.({ type: 'calls', calls });
  } else if (message.type === 'stats') {
    process.send?.({ type: 'stats', stats: emulator.stats() });
  } else {
    await emulator.close();
    process.disconnect?.();
  }
});
process.send?.({ type: 'url', url: emulator.url });
