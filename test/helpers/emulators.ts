import { afterEach, vi } from 'vitest';
import { startEmulator, type Emulator, type EmulatorOptions } from '../../src/emulator/index.js';

/**
 * For suites that run the built-in Together provider against a fresh emulator per test: the
 * returned function starts one and points TOGETHER_API_KEY / TOGETHER_BASE_URL at it; each test's
 * emulators are closed and the environment restored after it.
 */
export function emulatorPerTest(): (options?: EmulatorOptions) => Promise<Emulator> {
  const emulators: Emulator[] = [];
  afterEach(async () => {
    vi.unstubAllEnvs();
    await Promise.all(emulators.splice(0).map((started) => started.close()));
  });
  return async (options = {}) => {
    const started = await startEmulator({ quiet: true, seed: 7, ...options });
    emulators.push(started);
    vi.stubEnv('TOGETHER_API_KEY', 'test-key');
    vi.stubEnv('TOGETHER_BASE_URL', started.url);
    return started;
  };
}
