import { RetiredModelError } from '../errors/errors.js';
import type { ModelCapabilities } from '../shared/capabilities.js';

/**
 * Which catalog models are retired, decided in one place. A model is retired when its provider
 * removed it, or when the date it was deprecated for has passed: a call to it can only fail (the
 * provider answers 404), so it is refused before anything is sent. A model announced as deprecated
 * for a later date, or one only missing from the provider's tables, still runs, with a warning.
 */
export function isRetired(model: ModelCapabilities, now: Date = new Date()): boolean {
  const deprecation = model.deprecated;
  if (deprecation === undefined) return false;
  if (deprecation.status === 'removed') return true;
  return deprecation.status === 'deprecated' && deprecation.date !== undefined && deprecation.date <= now.toISOString().slice(0, 10);
}

/**
 * Throws a `RetiredModelError` naming the replacement when `model` is retired. `reference` is the
 * model as the caller wrote it; the replacement is given under the same provider name.
 */
export function refuseRetiredModel(model: ModelCapabilities, reference: string, now: Date = new Date()): void {
  if (!isRetired(model, now)) return;
  const { date } = model.deprecated!;
  throw new RetiredModelError({
    model: reference,
    replacement: replacementFor(model, reference),
    retiredOn: date,
    reason: `${model.displayName} was retired by ${model.provider}${date === undefined ? '' : ` on ${date}`} and no longer runs`,
  });
}

/** The catalog's replacement, under the provider name the caller used (`together:` stays `together:`). */
export function replacementFor(model: ModelCapabilities, reference: string): string {
  const replacement = model.deprecated?.replacement ?? '';
  const separator = reference.indexOf(':');
  return separator < 0 ? replacement : replacement.replace(/^[^:]+:/, `${reference.slice(0, separator)}:`);
}
