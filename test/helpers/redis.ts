/**
 * Debian's redis-server for the queue, limiter and cache tests: installed on first need (as root,
 * like Chromium for the gallery), else the reason it cannot be had for the skip message. Each test
 * starts its own server on a free port of 127.0.0.1, with no persistence, and stops it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer, Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { aptGet } from './chromium.js';

export const REDIS_SERVER_PATH = '/usr/bin/redis-server';

export async function ensureRedis(): Promise<{ path: string } | { skipReason: string }> {
  if (existsSync(REDIS_SERVER_PATH)) return { path: REDIS_SERVER_PATH };
  if (process.platform !== 'linux' || !existsSync('/usr/bin/apt-get')) return { skipReason: `no redis-server at ${REDIS_SERVER_PATH} and no apt-get to install it` };
  if (process.getuid?.() !== 0) return { skipReason: `no redis-server at ${REDIS_SERVER_PATH}; install it with \`sudo apt-get install -y redis-server\`` };
  process.stderr.write('redis-server is missing: apt-get install -y redis-server (once; the queue tests need it)\n');
  const environment = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
  for (const args of [['update', '-qq'], ['install', '-y', '-qq', '--no-install-recommends', 'redis-server']]) {
    const result = await aptGet(args, environment);
    if (result.code !== 0) return { skipReason: `no redis-server, and \`apt-get ${args.join(' ')}\` failed: ${result.output.trim().slice(-500)}` };
  }
  return existsSync(REDIS_SERVER_PATH) ? { path: REDIS_SERVER_PATH } : { skipReason: `apt-get installed redis-server but ${REDIS_SERVER_PATH} is not there` };
}

export type RedisServer = {
  url: string;
  port: number;
  /** Stops the server (SIGTERM by default; SIGKILL for a crash), and waits for it to end. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same port (empty: it keeps nothing, as configured). */
  start(): Promise<void>;
  /** Stops it for good and removes its folder. */
  close(): Promise<void>;
};

/**
 * A redis-server of our own on a free port; `close()` it when done. No persistence, unless
 * `persist` (an append-only file fsynced on every write, in its own temporary folder: what a
 * BullMQ deployment runs, so a restart keeps the queue; the drill restarts it mid-run).
 */
export async function startRedis({ binary = REDIS_SERVER_PATH, persist = false }: { binary?: string; persist?: boolean } = {}): Promise<RedisServer> {
  const dir = await mkdtemp(path.join(tmpdir(), 'imagegen-redis-'));
  let child: ChildProcess | undefined;
  let port = 0;
  const launch = async () => {
    for (let attempt = 0; ; attempt++) {
      port ||= await freePort();
      child = spawn(binary, ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', persist ? 'yes' : 'no', '--appendfsync', 'always', '--dir', dir, '--protected-mode', 'no', '--loglevel', 'warning'], {
        stdio: ['ignore', 'ignore', 'pipe'],
      });
      if (await listening(port, child)) return;
      // Taken between our look and its bind (another test): another port.
      if (attempt >= 5) throw new Error(`redis-server did not start on 127.0.0.1:${port}`);
      port = 0;
    }
  };
  await launch();
  const server: RedisServer = {
    get url() {
      return `redis://127.0.0.1:${port}`;
    },
    get port() {
      return port;
    },
    async stop(signal: NodeJS.Signals = 'SIGTERM') {
      const running = child;
      child = undefined;
      if (running && running.exitCode === null) {
        const ended = new Promise((resolve) => running.once('exit', resolve));
        running.kill(signal);
        await ended;
      }
    },
    async start() {
      if (child === undefined) await launch();
    },
    async close() {
      await server.stop('SIGKILL');
      await rm(dir, { recursive: true, force: true });
    },
  };
  return server;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Waits until the port answers PING with PONG, or the process ends. */
async function listening(port: number, child: ChildProcess): Promise<boolean> {
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (child.exitCode !== null) return false;
    if (await ping(port)) return true;
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
  child.kill('SIGKILL');
  return false;
}

function ping(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = new Socket();
    socket.setTimeout(500);
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => (socket.destroy(), resolve(false)));
    socket.connect(port, '127.0.0.1', () => socket.write('PING\r\n'));
    socket.once('data', (data) => {
      socket.destroy();
      resolve(data.toString().startsWith('+PONG'));
    });
  });
}
