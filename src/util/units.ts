// Durations and rates as people write them on a command line ("300ms", "120/min").

const UNITS: Record<string, number> = { ms: 1, s: 1000, sec: 1000, m: 60_000, min: 60_000, h: 3_600_000 };

/**
 * Milliseconds in a duration: `"300ms"`, `"2s"`, `"1.5m"`, `"1h"`, or a bare number of milliseconds.
 * @example parseDuration('300ms') // 300
 */
export function parseDuration(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|sec|m|min|h)?\s*$/i.exec(text);
  if (!match) throw new Error(`Invalid duration "${text}": use a number with ms, s, m or h, like "300ms" or "2s"`);
  return Math.round(Number(match[1]) * UNITS[(match[2] ?? 'ms').toLowerCase()]!);
}

const WINDOWS: Record<string, number> = {
  s: 1000, sec: 1000, second: 1000,
  m: 60_000, min: 60_000, minute: 60_000,
  h: 3_600_000, hour: 3_600_000,
};

/**
 * A rate limit written as requests per window: `"60/min"`, `"5/s"`, `"1000/hour"`, `"10/30s"`.
 * @example parseRateLimit('60/min') // { requests: 60, windowMs: 60000 }
 */
export function parseRateLimit(text: string): { requests: number; windowMs: number } {
  const match = /^\s*(\d+)\s*\/\s*(.+?)\s*$/.exec(text);
  const requests = match ? Number(match[1]) : NaN;
  const window = match?.[2]?.toLowerCase() ?? '';
  const windowMs = WINDOWS[window] ?? (/^\d/.test(window) ? safeDuration(window) : undefined);
  if (!(requests > 0) || windowMs === undefined || windowMs <= 0) {
    throw new Error(`Invalid rate limit "${text}": use requests per window, like "60/min", "5/s" or "10/30s"`);
  }
  return { requests, windowMs };
}

/** `parseDuration`, or `undefined` for text that is not a duration. */
export function safeDuration(text: string): number | undefined {
  try {
    return parseDuration(text);
  } catch {
    return undefined;
  }
}

const BYTE_UNITS: Record<string, number> = { b: 1, kb: 1e3, mb: 1e6, gb: 1e9, tb: 1e12, kib: 2 ** 10, mib: 2 ** 20, gib: 2 ** 30, tib: 2 ** 40 };

/**
 * Bytes in a size: `"500MB"`, `"5GB"`, `"1.5GiB"`, or a bare number of bytes.
 * @example parseByteSize('2GB') // 2000000000
 */
export function parseByteSize(text: string): number {
  const match = /^\s*(\d+(?:\.\d+)?)\s*([kmgt]i?b|b)?\s*$/i.exec(text);
  if (!match) throw new Error(`Invalid size "${text}": use a number with B, KB, MB, GB or TB (or KiB, MiB, GiB), like "500MB" or "5GB"`);
  return Math.round(Number(match[1]) * BYTE_UNITS[(match[2] ?? 'b').toLowerCase()]!);
}
