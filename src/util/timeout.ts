import { TimeoutError, type TimeoutFields } from '../errors/errors.js';
import { anySignal } from './any-signal.js';

/** The longest a timer waits: `setTimeout` fires at once past 2^31 - 1 ms (about 24.8 days). */
export const MAX_TIMEOUT_MS = 2_147_483_647;

/** What a `timeoutSignal` says when it fires: everything of a `TimeoutError` but the limit. */
export type TimeoutDescription = Omit<TimeoutFields, 'timeoutMs' | 'cause'>;

/**
 * An `AbortSignal` that aborts after `timeoutMs` with a `TimeoutError` as its reason, saying what
 * timed out and after how long (`AbortSignal.timeout`'s DOMException says neither), or earlier
 * with the reason of `signal` when that one aborts first (Ctrl-C, an app's own signal).
 *
 * Like `AbortSignal.timeout`, its timer never keeps a process alive and needs no clearing; until it
 * fires it holds about 1 KB, so a run keeps (calls started within `timeoutMs`) × 1 KB, whatever its
 * length.
 */
export function timeoutSignal(timeoutMs: number, describe: TimeoutDescription, signal?: AbortSignal): AbortSignal {
  // Callers check the value a user gave with a message of their own; this guards against the rest.
  if (!(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(`timeoutMs must be from 0 to ${MAX_TIMEOUT_MS} milliseconds (got ${timeoutMs})`);
  }
  const controller = new AbortController();
  // Node's timers have `unref`; browsers and edge runtimes return a number and never hold a process.
  setTimeout(() => controller.abort(new TimeoutError({ ...describe, timeoutMs })), timeoutMs).unref?.();
  return signal === undefined ? controller.signal : anySignal([signal, controller.signal]);
}

/**
 * Runs `work` with a `timeoutSignal`, and clears its timer as soon as `work` settles: for a deadline
 * every call gets (`generateImages`' default), whose timers must not outlive the calls. An edge
 * runtime hosted in Node (Vercel's edge-runtime) holds its process for a pending timer it cannot
 * `unref`, and a long run would keep one per call.
 */
export async function withTimeoutSignal<T>(timeoutMs: number, describe: TimeoutDescription, signal: AbortSignal | undefined, work: (signal: AbortSignal) => Promise<T>): Promise<T> {
  if (!(timeoutMs >= 0 && timeoutMs <= MAX_TIMEOUT_MS)) {
    throw new RangeError(`timeoutMs must be from 0 to ${MAX_TIMEOUT_MS} milliseconds (got ${timeoutMs})`);
  }
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(new TimeoutError({ ...describe, timeoutMs })), timeoutMs);
  try {
    return await work(signal === undefined ? controller.signal : anySignal([signal, controller.signal]));
  } finally {
    clearTimeout(timer);
  }
}

/** True for the DOMException of `AbortSignal.timeout` (or anything else named so that is not ours). */
export function isPlatformTimeout(error: unknown): error is Error {
  return error instanceof Error && error.name === 'TimeoutError' && !TimeoutError.isInstance(error);
}
