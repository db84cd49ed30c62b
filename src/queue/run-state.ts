// Node-only: what a queued run shares in Redis beside its BullMQ queue: its settings and its circuits.
import type { Redis } from 'ioredis';
import { KEY_PREFIX } from './connection.js';
import type { RunSettings } from './settings.js';

export type { RunSettings, SharedCacheSetting } from './settings.js';

/** The runs being followed: a worker serves each. */
export const RUNS_KEY = `${KEY_PREFIX}:runs`;
const settingsKey = (queue: string) => `${KEY_PREFIX}:run:${queue}`;
/** Providers or models whose jobs are not sent any more, with why: one circuit for all workers. */
export const circuitsKey = (queue: string) => `${KEY_PREFIX}:circuits:${queue}`;

export async function publishRun(redis: Redis, settings: RunSettings): Promise<void> {
  await redis.multi().set(settingsKey(settings.queue), JSON.stringify(settings)).sadd(RUNS_KEY, settings.queue).exec();
}

export async function readRun(redis: Redis, queue: string): Promise<RunSettings | undefined> {
  const text = await redis.get(settingsKey(queue));
  return text === null ? undefined : (JSON.parse(text) as RunSettings);
}

/** The run is over (followed to its end): workers let its queue go; its circuits are forgotten. */
export async function retireRun(redis: Redis, queue: string): Promise<void> {
  await redis.multi().srem(RUNS_KEY, queue).del(settingsKey(queue), circuitsKey(queue)).exec();
}

/** An open circuit: why the jobs under it are not sent, the provider's error, and the line that met it. */
export type OpenCircuit = { notSent: string; reason: string; line: number };

/** Opens a circuit for every worker; `false` when another had opened it already. */
export async function openCircuit(redis: Redis, queue: string, scope: string, circuit: OpenCircuit): Promise<boolean> {
  return (await redis.hsetnx(circuitsKey(queue), scope, JSON.stringify(circuit))) === 1;
}

export async function openCircuits(redis: Redis, queue: string): Promise<Map<string, OpenCircuit>> {
  const stored = Object.entries(await redis.hgetall(circuitsKey(queue)));
  return new Map(stored.map(([scope, value]) => [scope, parseCircuit(value)]));
}

/** Why a job of this provider and model is not sent, when a circuit is open for it (401/402: provider; 403/404: model). */
export function circuitFor(circuits: Map<string, OpenCircuit>, { provider, modelId }: { provider: string; modelId: string }): string | undefined {
  return (circuits.get(provider) ?? circuits.get(`${provider}:${modelId}`))?.notSent;
}

function parseCircuit(value: string): OpenCircuit {
  try {
    const circuit = JSON.parse(value) as Partial<OpenCircuit>;
    if (typeof circuit.notSent === 'string' && typeof circuit.reason === 'string' && typeof circuit.line === 'number') return circuit as OpenCircuit;
  } catch {
    // A circuit another version stored as plain text: its text is all there is.
  }
  return { notSent: value, reason: value, line: 0 };
}
