/** Largest seed: Together is reported to reject seeds above 2^31 - 1 (FACTS.md), so seeds stay signed 32-bit integers everywhere. */
export const MAX_SEED = 2_147_483_647;

/**
 * mulberry32: a small, fast seeded generator, good enough to draw placeholder pictures and pick
 * the emulator's faults; the same seed gives the same sequence everywhere (edge-safe).
 */
export function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let value = state;
    value = Math.imul(value ^ (value >>> 15), value | 1);
    value ^= value + Math.imul(value ^ (value >>> 7), value | 61);
    return ((value ^ (value >>> 14)) >>> 0) / 4294967296;
  };
}

/** The seed of the call whose first image has index `index`: moved on by the index, wrapping within 0..MAX_SEED. */
export function deriveSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}

/** A random seed within 0..MAX_SEED. */
export function randomSeed(): number {
  const value = new Uint32Array(1);
  crypto.getRandomValues(value);
  return value[0]! % (MAX_SEED + 1);
}
