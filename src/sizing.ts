import { RATIO_DIMENSIONS, type ModelCapabilities } from './capabilities.js';

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
