import { distance } from 'fastest-levenshtein';

/**
 * Which of a list of names a mistyped one was most likely meant as (edit distance), for
 * suggestions in errors; names that differ only in their digits are different versions, not typos.
 */

/** The candidate `value` was most likely meant as, or `undefined` when none is close. */
export function closestName(value: string, candidates: Iterable<string>): string | undefined {
  const folded = value.toLowerCase();
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const candidate of candidates) {
    if (candidate === value) return undefined;
    const lower = candidate.toLowerCase();
    // A different version number is a different model, not a slip of the keyboard.
    if (lower !== folded && maskDigits(lower) === maskDigits(folded)) continue;
    const edits = distance(folded, lower);
    if (edits < bestDistance) [best, bestDistance] = [candidate, edits];
  }
  return best !== undefined && bestDistance <= allowedEdits(value) ? best : undefined;
}

/**
 * One edit in short names, two from 8 characters. Not more: sibling models differ by three or four
 * (`FLUX.2-dev` / `FLUX.2-max`), so a new sibling must not read as a typo of an old one.
 */
function allowedEdits(value: string): number {
  return value.length >= 8 ? 2 : 1;
}

const maskDigits = (text: string) => text.replace(/\d+/g, '#');
