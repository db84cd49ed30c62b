/**
 * The emulator's stand-in for Together's safety checker: a word list. Together's checker "detects
 * NSFW words" and answers 422 unless `disable_safety_checker` is set on a model that allows it.
 */

/** Words that trigger the checker by default: obvious ones, so everyday prompts never do. */
export const DEFAULT_SAFETY_WORDS: readonly string[] = ['nsfw', 'nude', 'nudity', 'naked', 'gore', 'porn'];

const escape = (word: string) => word.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** A matcher for whole words (and their plurals), case-insensitive. */
export function createSafetyChecker(words: readonly string[] = DEFAULT_SAFETY_WORDS): (prompt: string) => string | undefined {
  const usable = words.map((word) => word.trim()).filter((word) => word !== '');
  if (usable.length === 0) return () => undefined;
  const pattern = new RegExp(`\\b(${usable.map(escape).join('|')})s?\\b`, 'i');
  return (prompt) => pattern.exec(prompt)?.[1]?.toLowerCase();
}
