import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtemp, readdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { memoryIO } from './helpers/cli.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';

// The CLI in a pseudo-terminal, as a person meets it: `script` (util-linux) gives it a terminal of
// 80 columns; what we write to script's stdin reaches the terminal, so "\x03" is a real Ctrl-C
// (the terminal turns it into SIGINT for the CLI's process group).

const ROOT = path.resolve(import.meta.dirname, '..');
const TSX = path.join(ROOT, 'node_modules/tsx/dist/esm/index.mjs');
const KEY = 'sk-terminal-test-1234567';

type Terminal = { child: ChildProcessWithoutNullStreams; output: () => string; waitFor: (pattern: RegExp) => Promise<void>; exit: Promise<number | null> };

function inTerminal(args: string[], { cwd, env = {} }: { cwd: string; env?: Record<string, string> }): Terminal {
  const quoted = args.map((arg) => `'${arg.replaceAll("'", "'\\''")}'`).join(' ');
  const command = `stty cols 80 rows 24; exec '${process.execPath}' --import '${TSX}' '${path.join(ROOT, 'scripts/imagegen.ts')}' ${quoted}`;
  const child = spawn('script', ['-qfec', command, '/dev/null'], {
    cwd,
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', TERM: 'xterm', IMAGEGEN_CACHE_DIR: path.join(cwd, 'cache'), ...env },
  });
  let output = '';
  const waiters: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout.on('data', (chunk: Buffer) => {
    output += chunk.toString();
    for (const waiter of [...waiters]) {
      if (waiter.pattern.test(output)) {
        waiters.splice(waiters.indexOf(waiter), 1);
        waiter.resolve();
      }
    }
  });
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  return {
    child,
    output: () => output,
    waitFor: (pattern) => (pattern.test(output) ? Promise.resolve() : new Promise((resolve) => waiters.push({ pattern, resolve }))),
    exit,
  };
}

/** The bar's renderings: cli-progress draws each from column 1 (`ESC[1G`) to a clear-to-end (`ESC[0K`). */
const barFrames = (raw: string) => [...raw.matchAll(/\x1b\[1G(.*?)\x1b\[0K/g)].map((match) => match[1]!);

let slow: Emulator;
beforeAll(async () => {
  // Answers after ten minutes: a request sent to it stays in flight for the whole test.
  slow = await startEmulator({ apiKey: KEY, quiet: true, latency: '600s' });
});
afterAll(async () => {
  await slow.close();
});

describe('the CLI in a terminal (80 columns)', { timeout: 60_000 }, () => {
  it('Ctrl-C at -r 1/hour: no wait for the next slot, the bar ends, a stop line, the summary intact, exit 130', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-terminal-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\na cat\na dog\nan owl\n');
    const terminal = inTerminal(['batch', 'prompts.txt', '-r', '1/hour', '-s', '64x64', '-o', 'out'], { cwd: folder });
    try {
      // One request goes at once; the next slot is an hour away.
      await terminal.waitFor(/1\/4 \| failed 0/);
      terminal.child.stdin.write('\x03');
      // Exiting at all proves the paced wait was cut: the next slot would have come 3,600 s after
      // the first request, 60 times this test's timeout.
      expect(await terminal.exit).toBe(130);
    } finally {
      terminal.child.kill();
    }
    const raw = terminal.output();
    const frames = barFrames(raw);
    // Before anything finished there is no rate to project an ETA from: a dash, not "ETA 0s".
    expect(frames[0]).toMatch(/ 0\/4 \| failed 0 \| 0 img\/min \| ETA —$/);
    expect(raw).not.toMatch(/ETA 0s/);
    // Once one is done, the ETA is bound by the pacing (3 left at 1/hour), not by the first request's speed.
    expect(frames.filter((frame) => frame.includes(' 1/4 ')).map((frame) => frame.replace(/.* \| /, ''))).toContain('ETA 3h00m');
    for (const frame of frames) {
      expect(frame.length).toBeLessThanOrEqual(80);
      expect(frame).toMatch(/\d\/4 \| failed \d+ \|/);
    }
    // The stop line and the summary each start a line of their own: nothing is written over them.
    expect(raw).toMatch(/\r\nstopping: no new requests, none in flight \(Ctrl-C again to quit now\)\r\nstopped in \d+\.\ds → /);
    expect(raw).toMatch(/\r\n {2}done 1 \(0 cached\), skipped 0 \(done before\), failed 0, not started 3 \(re-run to resume\)\r\n/);
    expect((await readdir(path.join(folder, 'out'))).filter((name) => name.endsWith('.png'))).toHaveLength(1);
  });

  it('Ctrl-C with a request in flight says so; a second Ctrl-C quits at once, saying what is kept and how to resume', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-terminal-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\n');
    const terminal = inTerminal(['batch', 'prompts.txt', '-m', 'togetherai:black-forest-labs/FLUX.1-schnell', '-s', '256x256', '-o', 'out'], {
      cwd: folder,
      env: { TOGETHER_API_KEY: KEY, TOGETHER_BASE_URL: slow.url },
    });
    try {
      await terminal.waitFor(/0\/1 \| failed 0/);
      // The request is on its way to the emulator, which answers in ten minutes.
      while (slow.stats().requests === 0) await new Promise((resolve) => setTimeout(resolve, 20));
      terminal.child.stdin.write('\x03');
      await terminal.waitFor(/waiting for the 1 request in flight \(Ctrl-C again to quit now\)\r\n/);
      terminal.child.stdin.write('\x03');
      expect(await terminal.exit).toBe(130);
    } finally {
      terminal.child.kill();
    }
    expect(terminal.output()).toContain(
      `\r\nquit (Ctrl-C twice): the images written so far are kept in ${path.join(folder, 'out')}, each file whole; run the same command again to resume (done requests are skipped)\r\n`,
    );
    expect(terminal.output()).not.toContain(KEY);
  });
});

describe('one main owns Ctrl-C, for every command (in-process: SIGINT delivered to its handler)', () => {
  it('generate: Ctrl-C cancels the request in flight, says nothing was saved, exit 130', async () => {
    vi.stubEnv('TOGETHER_API_KEY', KEY);
    vi.stubEnv('TOGETHER_BASE_URL', slow.url);
    try {
      const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-terminal-'));
      const io = memoryIO(folder);
      const before = slow.stats().requests;
      const running = runCli(['generate', 'a lighthouse', '-s', '256x256', '-o', 'out'], io);
      while (slow.stats().requests === before) await new Promise((resolve) => setTimeout(resolve, 20));
      process.emit('SIGINT', 'SIGINT');
      expect(await running).toBe(130);
      expect(io.stderrText()).toContain('interrupted (Ctrl-C); nothing was saved');
      expect(await readdir(path.join(folder, 'out'))).toEqual([]);
      // The handler is gone with the command: nothing is left listening.
      expect(process.listenerCount('SIGINT')).toBe(0);
    } finally {
      vi.unstubAllEnvs();
    }
  });

  it('emulator: Ctrl-C closes the server, exit 0', async () => {
    const io = memoryIO();
    const running = runCli(['emulator', '--port', '0', '--quiet'], io);
    while (!io.stdoutText().includes('http://127.0.0.1:')) await new Promise((resolve) => setTimeout(resolve, 20));
    process.emit('SIGINT', 'SIGINT');
    expect(await running).toBe(0);
    expect(process.listenerCount('SIGINT')).toBe(0);
  });
});
