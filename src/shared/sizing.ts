import type { ModelCapabilities } from './capabilities.js';

/**
 * Sizes in general: the standard ratio table, the named presets drawn from it, and the arithmetic
 * of ratios. What a given model takes is the catalog's.
 */

/** The standard sizes of Together's docs (`images-overview`), also most providers' ~1 MP sizes: ratio → size. */
export const RATIO_DIMENSIONS: Readonly<Record<string, { width: number; height: number }>> = {
  '1:1': { width: 1024, height: 1024 },
  '16:9': { width: 1344, height: 768 },
  '9:16': { width: 768, height: 1344 },
  '3:2': { width: 1248, height: 832 },
  '2:3': { width: 832, height: 1248 },
  '4:3': { width: 1184, height: 864 },
  '3:4': { width: 864, height: 1184 },
};

/** Named sizes, drawn from the table. */
export const SIZE_PRESETS = {
  square: RATIO_DIMENSIONS['1:1']!,
  landscape: RATIO_DIMENSIONS['16:9']!,
  portrait: RATIO_DIMENSIONS['9:16']!,
  photo: RATIO_DIMENSIONS['3:2']!,
  classic: RATIO_DIMENSIONS['4:3']!,
} as const;

export type SizePreset = keyof typeof SIZE_PRESETS;

/** `"16:9"` → 16/9. */
export function ratioValue(ratio: string): number {
  const [width, height] = ratio.split(/[:x]/).map(Number) as [number, number];
  return width / height;
}

/** The ratio among `ratios` nearest to `value` (compared on a log scale, so 2:1 and 1:2 are alike far from 1:1). */
export function nearestAspectRatio(value: number, ratios: readonly string[]): string {
  let best = ratios[0] ?? '1:1';
  let bestDistance = Infinity;
  for (const ratio of ratios) {
    const distance = Math.abs(Math.log(value / ratioValue(ratio)));
    if (distance < bestDistance) [best, bestDistance] = [ratio, distance];
  }
  return best;
}

/** The docs' table when the ratio is in it; otherwise about the default area, snapped and within the limits. */
export function dimensionsForRatio(
  ratio: string,
  limits: ModelCapabilities['dimensions'],
): { width: number; height: number } {
  const table = RATIO_DIMENSIONS[ratio];
  const fits = (side: number) => side >= limits.min && side <= limits.max && side % limits.multipleOf === 0;
  if (table && fits(table.width) && fits(table.height)) return table;
  const value = ratioValue(ratio);
  const area = limits.default.width * limits.default.height;
  const snap = (side: number) =>
    Math.min(limits.max, Math.max(limits.min, Math.round(side / limits.multipleOf) * limits.multipleOf));
  return { width: snap(Math.sqrt(area * value)), height: snap(Math.sqrt(area / value)) };
}
