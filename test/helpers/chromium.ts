/**
 * Debian's Chromium for the browser tests, installed on first need so that `npm test` passes on a
 * fresh machine with nothing installed by hand (CI machines and developers' are Debian, as root).
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * The Chromium executable, installing it with apt-get when it is missing and we may; otherwise the
 * reason it cannot be had, for the test's skip message.
 */
export async function ensureChromium(): Promise<{ path: string } | { skipReason: string }> {
  if (existsSync(CHROMIUM_PATH)) return { path: CHROMIUM_PATH };
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) {
    return { skipReason: `no Chromium at ${CHROMIUM_PATH} and no apt-get to install it` };
  }
  if (process.getuid?.() !== 0) {
    return { skipReason: `no Chromium at ${CHROMIUM_PATH}; install it with \`sudo apt-get install -y chromium\`` };
  }
  process.stderr.write(`Chromium is missing: apt-get install -y chromium (once; the gallery browser test needs it)\n`);
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'chromium']]) {
    const result = await aptGet(args, environment);
    if (result.code !== 0) {
      return { skipReason: `no Chromium at ${CHROMIUM_PATH}, and \`apt-get ${args.join(' ')}\` failed: ${result.output.trim().slice(-500)}` };
    }
  }
  return existsSync(CHROMIUM_PATH) ? { path: CHROMIUM_PATH } : { skipReason: `apt-get installed chromium but ${CHROMIUM_PATH} is not there` };
}

export function aptGet(args: readonly string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn('apt-get', args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (output += chunk));
    child.on('error', (error) => resolve({ code: null, output: String(error) }));
    child.on('close', (code) => resolve({ code, output }));
  });
}
