import { closestName } from '../util/closest-name.js';
import { isLiveModel, listModels, liveModelList } from './catalog.js';
import { ADVICE } from '../errors/doors.js';
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
    message: `not a known model; did you mean "${suggested}"? (if it is a new model, ${ADVICE.refreshModels.library} learns the provider's live list)`,
  };
}

/**
 * The known model a reference without a provider most likely means, across every provider, as
 * `"provider:modelId"`: a model whose id ends in the same name first (`FLUX.2-dev` →
 * `togetherai:black-forest-labs/FLUX.2-dev`, never another provider's `flux-dev`), else the nearest
 * id by edit distance. `undefined` when none is close.
 */
export function suggestAnyModel(reference: string): string | undefined {
  const models = listModels().filter((model) => model.provider !== 'local');
  const name = (id: string) => id.slice(id.lastIndexOf('/') + 1);
  const wanted = name(reference);
  const sameName = models.filter((model) => name(model.modelId) === wanted || name(model.modelId).toLowerCase() === wanted.toLowerCase());
  const exactCase = sameName.filter((model) => name(model.modelId) === wanted);
  const [first] = exactCase.length > 0 ? exactCase : sameName;
  if (first !== undefined) return `${first.provider}:${first.modelId}`;
  // The nearest full id, else the nearest name (`FLUX.2-dv` → FLUX.2-dev), the catalog's first owner of a name kept.
  const byId = new Map(models.map((model) => [model.modelId, `${model.provider}:${model.modelId}`]));
  const byName = new Map<string, string>();
  for (const model of models) if (!byName.has(name(model.modelId))) byName.set(name(model.modelId), `${model.provider}:${model.modelId}`);
  const idMatch = closestName(reference, byId.keys());
  if (idMatch !== undefined) return byId.get(idMatch);
  const nameMatch = closestName(wanted, byName.keys());
  return nameMatch === undefined ? undefined : byName.get(nameMatch);
}

/** Why an id with no provider in front of it cannot be used: no catalog knows it. */
export function bareIdMessage(reference: string): string {
  const suggestion = suggestAnyModel(reference);
  return (
    `is not a model any provider's catalog knows${suggestion === undefined ? '.' : `; did you mean "${suggestion}"?`}` +
    ' Name its provider as "provider:modelId" (e.g. "togetherai:black-forest-labs/FLUX.2-dev"), or learn the live list with `imagegen models --refresh`.'
  );
}
