import { closestName } from '../util/closest-name.js';
import { isLiveModel, listModels, liveModelList } from './catalog.js';
import type { RequestIssue } from '../errors/errors.js';

export { closestName } from '../util/closest-name.js';

/**
 * Typo detection for model references: an id that is not in the catalog (nor in a refreshed live
 * list) but a slip away from one that is, is refused with a suggestion instead of being sent to 404
 * (or, for `local:`, to quietly succeed). Ids that differ from a known one only in their digits
 * (`FLUX.3-pro` against `FLUX.2-pro`) read as a newer version, not a typo, and are let through.
 */

/**
 * The known model a reference is probably a typo of (`"togetherai:black-forest-labs/FLUX.1-schnell"`
 * for `"togetherai:black-forest-labs/FLUX.1-shnell"`), looking at the provider's catalog models and
 * its refreshed live list; `undefined` when the id is known or far from every known one.
 */
export function suggestModel(provider: string, modelId: string): string | undefined {
  const ids = new Set([
    ...listModels({ provider }).map((model) => model.modelId),
    ...(liveModelList(provider)?.models.map((model) => model.id) ?? []),
  ]);
  if (ids.has(modelId)) return undefined;
  const match = closestName(modelId, ids);
  return match === undefined ? undefined : `${provider}:${match}`;
}



/** "unknown provider", with the name it was probably meant to be. */
export function unknownProviderMessage(provider: string, known: readonly string[]): string {
  const suggestion = closestName(provider, known);
  return `unknown provider "${provider}"${suggestion === undefined ? '' : `; did you mean "${suggestion}"?`} (available: ${known.join(', ')})`;
}

/**
 * The request issue for a model reference that looks like a typo of a known model (and is not in
 * the provider's refreshed live list), or `undefined`. `provider` is the name in the reference,
 * `catalogProvider` the catalog it was looked up in (they differ when an app names Together otherwise).
 */
export function modelTypoIssue({
  reference,
  provider,
  catalogProvider,
  modelId,
}: {
  reference: string;
  provider: string;
  catalogProvider: string;
  modelId: string;
}): RequestIssue | undefined {
  if (isLiveModel(catalogProvider, modelId)) return undefined;
  const suggestion = suggestModel(catalogProvider, modelId);
  if (suggestion === undefined) return undefined;
  const suggested = catalogProvider === provider ? suggestion : `${provider}:${suggestion.slice(catalogProvider.length + 1)}`;
  return {
    field: 'model',
    value: reference,
    message: `not a known model; did you mean "${suggested}"? (if it is a new model, \`imagegen models --refresh\` learns the provider's live list)`,
  };
}
