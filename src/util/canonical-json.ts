// Canonical JSON for job and cache keys: pure, edge-safe (the hash of bytes comes from the caller).

/**
 * The key format. 2 sorts object keys by UTF-16 code unit, the same on every machine. 1 (written
 * before) sorted them with `new Intl.Collator()`, whose order depends on the machine's language:
 * `{height, chaos}` under cs_CZ, `Seed`/`seed` under da_DK. Where the two orders agree (lowercase
 * ASCII field names, nearly every request) the texts and so the keys are the same; where they
 * differ, a job also carries its format-1 key so a journal written before still resumes.
 */
export const KEY_FORMAT = 2;

/** Code-unit order: what `Array.prototype.sort` does without a comparator, on every machine. */
const codeUnitOrder = (left: string, right: string): number => (left < right ? -1 : left > right ? 1 : 0);

/** Format 1's order, for reading journals written before: built lazily, once. */
let legacyOrder: ((left: string, right: string) => number) | undefined;

/** Sorted key lists by the keys in their given order: a batch repeats a few shapes a million times. */
type KeyOrders = { current: readonly string[]; legacy: readonly string[] | undefined };
const keyOrders = new Map<string, KeyOrders>();
const MAX_KEY_ORDERS = 1000;

function sortedKeys(item: object): KeyOrders {
  const keys = Object.keys(item);
  const shape = keys.join('\u0000');
  let orders = keyOrders.get(shape);
  if (orders === undefined) {
    const current = [...keys].sort(codeUnitOrder);
    legacyOrder ??= new Intl.Collator().compare;
    const legacy = [...keys].sort(legacyOrder);
    orders = { current, legacy: legacy.every((key, index) => key === current[index]) ? undefined : legacy };
    if (keyOrders.size < MAX_KEY_ORDERS) keyOrders.set(shape, orders);
  }
  return orders;
}

/** How bytes (`Uint8Array`) appear in the text: the caller's SHA-256, hex (Node's is synchronous, Web Crypto's is not). */
type CanonicalOptions = { hashBytes: (data: Uint8Array) => string };

/** JSON with keys sorted by code unit, bytes as `sha256:<hash>`: equal values give equal text on every machine. */
export function canonicalJsonOf(value: unknown, { hashBytes }: CanonicalOptions): string {
  return canonicalText(value, 'current', hashBytes);
}

/**
 * The canonical text in both key formats: `legacy` only when it differs from `current` (some
 * object's keys sort differently under this machine's collator), so most requests hash once.
 */
export function canonicalJsonFormats(value: unknown, { hashBytes }: CanonicalOptions): { current: string; legacy: string | undefined } {
  let differs = false;
  const current = canonicalText(value, 'current', hashBytes, () => (differs = true));
  return { current, legacy: differs ? canonicalText(value, 'legacy', hashBytes) : undefined };
}

function canonicalText(value: unknown, format: keyof KeyOrders, hashBytes: (data: Uint8Array) => string, onDifference?: () => void): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Uint8Array) return `sha256:${hashBytes(item)}`;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      const orders = sortedKeys(item);
      if (orders.legacy !== undefined) onDifference?.();
      const sorted = Object.create(null) as Record<string, unknown>;
      for (const key of orders[format] ?? orders.current) sorted[key] = (item as Record<string, unknown>)[key];
      return sorted;
    }
    return item;
  });
}

/** Lowercase hex of bytes (a digest), without Node's Buffer. */
export function bytesToHex(bytes: Uint8Array): string {
  let hex = '';
  for (const byte of bytes) hex += byte.toString(16).padStart(2, '0');
  return hex;
}
