// Node-only: where the queue lives (a Redis URL), and BullMQ, loaded on first use (an optional peer).
import { createHash } from 'node:crypto';
import { ImagegenError, InvalidRequestError } from '../errors/errors.js';

type BullMQ = typeof import('bullmq');

/** A Redis server and database, from `redis://[user:password@]host:port[/db]` (or `rediss://` for TLS). */
export type RedisTarget = {
  host: string;
  port: number;
  db: number;
  username?: string;
  password?: string;
  tls: boolean;
  /** `host:port/db`, never the password: for messages. */
  label: string;
};

/** Reads a Redis URL; a bad one is refused naming the flag, the value (without a password) and what is allowed. */
export function parseRedisUrl(value: string, field = '--queue'): RedisTarget {
  const refuse = (message: string): never => {
    throw new InvalidRequestError({ issues: [{ field, value: value.replace(/\/\/[^@/]*@/, '//***@'), message }] });
  };
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return refuse('must be a Redis URL: redis://HOST:PORT[/DB], e.g. redis://127.0.0.1:6379/0');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:') refuse('must start with redis:// (or rediss:// for TLS), e.g. redis://127.0.0.1:6379/0');
  if (url.hostname === '') refuse('must name a host: redis://HOST:PORT[/DB]');
  const port = url.port === '' ? 6379 : Number(url.port);
  const database = url.pathname === '' || url.pathname === '/' ? '0' : url.pathname.slice(1);
  if (!/^\d{1,2}$/.test(database)) refuse(`the database after the port must be a number from 0 to 15 (got "${database}")`);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  return {
    host,
    port,
    db: Number(database),
    ...(url.username === '' ? {} : { username: decodeURIComponent(url.username) }),
    ...(url.password === '' ? {} : { password: decodeURIComponent(url.password) }),
    tls: url.protocol === 'rediss:',
    label: `${url.hostname}:${port}/${database}`,
  };
}

/**
 * ioredis options for BullMQ: commands wait for a lost connection to come back instead of failing
 * (`maxRetriesPerRequest: null`, which BullMQ's workers require), reconnecting every second at most.
 */
export function connectionOptions(target: RedisTarget) {
  return {
    host: target.host,
    port: target.port,
    db: target.db,
    ...(target.username === undefined ? {} : { username: target.username }),
    ...(target.password === undefined ? {} : { password: target.password }),
    ...(target.tls ? { tls: {} } : {}),
    maxRetriesPerRequest: null,
    enableOfflineQueue: true,
    retryStrategy: (times: number) => Math.min(times * 100, 1000),
  };
}

let loaded: Promise<BullMQ> | undefined;

/** BullMQ, on first use: only queued runs and workers need it, so it is an optional peer (with ioredis). */
export function loadBullMQ(feature = 'imagegen batch --queue and imagegen worker'): Promise<BullMQ> {
  loaded ??= import('bullmq');
  return loaded.catch((error: unknown) => {
    loaded = undefined;
    throw missingPackage(error, feature, 'bullmq ioredis');
  });
}

/** The error for an optional peer that is not installed (any other import error is rethrown as it is). */
export function missingPackage(error: unknown, feature: string, packages: string): unknown {
  const { code } = (error ?? {}) as { code?: unknown };
  if (code !== 'ERR_MODULE_NOT_FOUND' && code !== 'MODULE_NOT_FOUND') return error;
  return new ImagegenError({ kind: 'missing-package', message: `${feature} needs ${packages}, not installed. Run: npm install ${packages}`, cause: error });
}

/** Keys of our own beside BullMQ's (`bull:<queue>:...`). */
export const KEY_PREFIX = 'imagegen';

/**
 * The queue of a run: named for its output folder (the path every machine mounts it at), so running
 * the same command again finds the same queue and its journal, and two runs into two folders never mix.
 */
export function queueNameFor(outDir: string): string {
  return `imagegen-${createHash('sha256').update(outDir).digest('hex').slice(0, 16)}`;
}

/**
 * Waits for a new client's first connection: a Redis that cannot be reached at the start is an
 * error naming it (later outages are waited out, since work is under way by then).
 */
export async function connected(client: import('ioredis').Redis, target: RedisTarget, field = '--queue', timeoutMs = 10_000): Promise<void> {
  if (client.status === 'ready') return;
  let lastError: Error | undefined;
  const onError = (error: Error) => (lastError = error);
  client.on('error', onError);
  try {
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timeout')), timeoutMs);
      client.once('ready', () => {
        clearTimeout(timer);
        resolve();
      });
    });
  } catch {
    client.disconnect();
    throw new InvalidRequestError({
      issues: [
        {
          field,
          value: target.label,
          message: `cannot reach Redis at ${target.label} (${lastError?.message ?? 'no answer'} for ${timeoutMs / 1000} s); start it (e.g. redis-server --port ${target.port}) or check the URL`,
        },
      ],
    });
  } finally {
    client.off('error', onError);
  }
}
