import type { ImageModelV3 } from '@ai-sdk/provider';
import { errorMessage, InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import type { ProviderAdapter } from '../providers/adapter.js';
import { builtInProviderNames, findAdapter } from '../providers/index.js';
import { forInstalledAi, type AnyImageModel } from '../shared/model-version.js';
import type { ImagegenWarning, Target } from '../shared/plan.js';
import { liveModelList, listModels, resolveModel } from './catalog.js';
import { bareIdMessage, modelTypoIssue, unknownProviderMessage } from './did-you-mean.js';
import { refuseRetiredModel } from './retired.js';

/**
 * The one place a model reference becomes a model: a `"provider:modelId"` string, a bare id the
 * catalog knows under one provider (`black-forest-labs/FLUX.2-dev`), or a string for the app's own
 * registry, resolved against the app's providers and then the built-in ones, to where its model
 * comes from and its catalog entry, or one typed error (`InvalidRequestError`).
 */

/**
 * An AI SDK provider instance that makes image models (`createTogetherAI({ ... })`,
 * `customProvider({ imageModels })`), of AI SDK 6 (v3 models) or AI SDK 7 (v4 models).
 */
export type ImageProviderLike = {
  imageModel?(modelId: string): AnyImageModel;
  image?(modelId: string): AnyImageModel;
};

/** An AI SDK provider registry (`createProviderRegistry({ ... }, { separator })`) of AI SDK 6 or 7. */
export type ProviderRegistryLike = { imageModel(id: never): AnyImageModel };

/**
 * How an app brings its own keys, base URLs and `fetch`:
 * - provider instances by name: `{ togetherai: createTogetherAI({ ... }), openai: createOpenAI() }`;
 * - one provider instance: `createOpenAI({ ... })` (a bare model id goes to it);
 * - a registry: `{ registry: createProviderRegistry({ ... }) }`, given model strings untouched (any separator).
 * Names not given fall back to the built-in providers, configured from the environment.
 */
export type ProvidersOption = Record<string, ImageProviderLike> | ImageProviderLike | { registry: ProviderRegistryLike };

/** A model reference resolved to where its model comes from. */
export type ModelSource =
  | { kind: 'built-in'; adapter: ProviderAdapter; providerName: string; modelId: string }
  | {
      kind: 'given';
      /** The app's model, used as it is. */
      model: AnyImageModel;
      providerName: string;
      modelId: string;
      /** The provider's name in the catalog ("togetherai" for a model whose provider is "togetherai.image"). */
      catalogProvider: string;
    };

/** A reference resolved: its model's source, its catalog entry, and what the catalog had to say. */
export type ResolvedModel = {
  /** `"provider:modelId"` (a registry's string as it was given): what results and sidecars record. */
  reference: string;
  source: ModelSource;
  target: Target;
  /** Typos of known ids, for the request's one `InvalidRequestError`. */
  issues: RequestIssue[];
  /** Ids no catalog knows: run with generic capabilities, unchecked. */
  warnings: ImagegenWarning[];
};

/**
 * Resolves a model reference. Unknown providers, ambiguous bare ids and ids no provider knows are
 * thrown at once (`InvalidRequestError`); a typo of a known id is returned as an issue.
 */
export function resolveModelReference(reference: string, providers?: ProvidersOption): ResolvedModel {
  const source = findSource(reference, providers);
  const catalogProvider = source.kind === 'given' ? source.catalogProvider : source.adapter.name;
  const resolved = source.kind === 'given' && source.providerName === REGISTRY ? reference : `${source.providerName}:${source.modelId}`;
  const model = resolveModel(catalogProvider, source.modelId);
  // A model its provider retired can only fail: refused at every door, naming the replacement.
  refuseRetiredModel(model, resolved);
  const issues: RequestIssue[] = [];
  const warnings: ImagegenWarning[] = [];
  if (!model.known) {
    const live = liveModelList(catalogProvider);
    const typo = modelTypoIssue({ reference: resolved, provider: source.providerName, catalogProvider, modelId: source.modelId });
    if (live?.models.some((listed) => listed.id === source.modelId)) {
      warnings.push(warning(`${resolved} is listed by ${catalogProvider} (refreshed ${live.fetchedAt}) but not in this release's catalog; using generic ${catalogProvider} capabilities, unchecked`));
    } else if (typo !== undefined) {
      issues.push(typo);
    } else {
      warnings.push(warning(`${resolved} is not in the catalog; using generic ${catalogProvider} capabilities, unchecked`));
    }
  }
  return { reference: resolved, source, target: { provider: source.providerName, modelId: source.modelId, model }, issues, warnings };
}

/** Names that resolve as `"name:…"`, for messages: the app's providers' and the built-in ones. */
export function knownProviderNames(providers: ProvidersOption | undefined): string[] {
  const given = providers === undefined || isSingleProvider(providers) || isRegistryOption(providers) ? [] : Object.keys(providers);
  return [...new Set([...given, ...builtInProviderNames()])];
}

/** Splits `"provider:modelId"` at its first colon (`""` as the provider when there is none). */
export function splitModelReference(reference: string): { providerName: string; modelId: string } {
  const separator = reference.indexOf(':');
  return separator < 0 ? { providerName: '', modelId: reference } : { providerName: reference.slice(0, separator), modelId: reference.slice(separator + 1) };
}

/**
 * The providers whose catalog or refreshed live list has exactly this id: where a bare id belongs.
 * The local placeholder is left out: its ids are for `local:` only.
 */
export function providersWithModel(modelId: string): string[] {
  const names = new Set<string>();
  for (const model of listModels()) if (model.modelId === modelId && model.provider !== 'local') names.add(model.provider);
  for (const name of builtInProviderNames()) if (liveModelList(name)?.models.some((listed) => listed.id === modelId)) names.add(name);
  return [...names];
}

const REGISTRY = 'registry';

function findSource(reference: string, providers: ProvidersOption | undefined): ModelSource {
  if (providers !== undefined && isRegistryOption(providers)) {
    const fromRegistry = fromRegistryModel(providers.registry, reference);
    if (fromRegistry.source !== undefined) return fromRegistry.source;
    // What the registry does not have may still be a built-in provider's (local:placeholder).
    const builtIn = builtInSource(reference);
    if (builtIn !== undefined) return builtIn;
    throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message: `the provider registry has no such image model (${fromRegistry.reason})` }] });
  }
  const { providerName, modelId } = splitModelReference(reference);
  if (providers !== undefined && isSingleProvider(providers)) {
    const single = fromSingleProvider(providers, reference, providerName, modelId);
    if (single !== undefined) return single;
  } else if (providers !== undefined && providerName !== '' && Object.hasOwn(providers, providerName)) {
    return given(providerName, modelId, createFrom(providers[providerName] as ImageProviderLike, modelId, reference, `options.providers.${providerName}`));
  }
  const builtIn = builtInSource(reference);
  if (builtIn !== undefined) return builtIn;
  // Not "provider:…" with a provider anyone knows: a bare id, looked up in every catalog.
  const owners = providersWithModel(reference);
  if (owners.length === 1) return findSource(`${owners[0]}:${reference}`, providers);
  const known = knownProviderNames(providers);
  if (owners.length > 1) {
    const candidates = owners.map((owner) => `"${owner}:${reference}"`).join(', ');
    throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message: `is the id of a model of more than one provider; name one: ${candidates}` }] });
  }
  const message = providerName !== '' && !/\s|\//.test(providerName) ? unknownProviderMessage(providerName, known) : bareIdMessage(reference);
  throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message }] });
}

function builtInSource(reference: string): ModelSource | undefined {
  const { providerName, modelId } = splitModelReference(reference);
  const adapter = providerName === '' ? undefined : findAdapter(providerName);
  return adapter === undefined ? undefined : { kind: 'built-in', adapter, providerName, modelId };
}

/**
 * One provider instance: the reference's id goes to it unless the reference names another known
 * provider ("togetherai:…" beside an OpenAI instance). A registry given this way still works: what
 * it cannot make from the id, it is given whole. `undefined` when the instance is not the one.
 */
function fromSingleProvider(provider: ImageProviderLike, reference: string, providerName: string, modelId: string): ModelSource | undefined {
  const factory = factoryOf(provider, reference, 'options.providers');
  const attempt = (id: string): AnyImageModel | undefined => {
    try {
      return factory(id);
    } catch {
      return undefined;
    }
  };
  const otherKnown = providerName !== '' && findAdapter(providerName) !== undefined;
  const model = attempt(providerName === '' ? reference : modelId);
  if (model !== undefined) {
    const name = catalogProviderOf(model, providerName);
    if (providerName === '' || name === providerName || !otherKnown) return given(providerName || name, model.modelId, model);
    return undefined;
  }
  const whole = providerName === '' ? undefined : attempt(reference);
  if (whole !== undefined) return given(catalogProviderOf(whole, providerName), whole.modelId, whole);
  if (providerName === '' || otherKnown) return undefined;
  // Named for this instance, which has no such model: create it once more to say why.
  return given(providerName, modelId, createFrom(provider, modelId, reference, 'options.providers'));
}

function fromRegistryModel(registry: ProviderRegistryLike, reference: string): { source?: ModelSource; reason: string } {
  if (typeof registry?.imageModel !== 'function') {
    throw new InvalidRequestError({ issues: [{ field: 'providers.registry', value: typeof registry, message: 'must be an AI SDK provider registry (createProviderRegistry(...))' }] });
  }
  try {
    const model = (registry.imageModel as (id: string) => AnyImageModel)(reference);
    const catalogProvider = catalogProviderOf(model, REGISTRY);
    return { source: { kind: 'given', model, providerName: REGISTRY, modelId: model.modelId, catalogProvider }, reason: '' };
  } catch (error) {
    return { reason: errorMessage(error) };
  }
}

function given(providerName: string, modelId: string, model: AnyImageModel): ModelSource {
  return { kind: 'given', model, providerName, modelId, catalogProvider: catalogProviderOf(model, providerName) };
}

/** The AI SDK names providers "togetherai.image": the part before the dot finds the catalog. */
function catalogProviderOf(model: AnyImageModel, fallback: string): string {
  return (typeof model.provider === 'string' ? model.provider.split('.')[0] : undefined) || fallback;
}

function factoryOf(provider: ImageProviderLike, reference: string, where: string): (id: string) => AnyImageModel {
  const factory = provider?.imageModel ?? provider?.image;
  if (typeof factory !== 'function') {
    throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message: `${where} has no imageModel() or image() method` }] });
  }
  return (id) => factory.call(provider, id);
}

function createFrom(provider: ImageProviderLike, modelId: string, reference: string, where: string): AnyImageModel {
  const factory = factoryOf(provider, reference, where);
  try {
    return factory(modelId);
  } catch (error) {
    throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message: `${where} has no such image model (${errorMessage(error)})` }] });
  }
}

function isSingleProvider(providers: ProvidersOption): providers is ImageProviderLike {
  return typeof (providers as ImageProviderLike).imageModel === 'function' || typeof (providers as ImageProviderLike).image === 'function';
}

function isRegistryOption(providers: ProvidersOption): providers is { registry: ProviderRegistryLike } {
  const keys = Object.keys(providers);
  return keys.length === 1 && keys[0] === 'registry' && !isSingleProvider(providers);
}

function warning(message: string): ImagegenWarning {
  return { type: 'other', source: 'imagegen', field: 'model', message };
}

const instantiated = new WeakMap<ModelSource, Promise<ImageModelV3>>();

/**
 * The source's model as a v3 model, built once per source: a request's key check and every one of
 * its calls share it. A built-in model is built from the environment (a missing key rejects); an
 * app's is taken as it is.
 */
export function instantiateModel(source: ModelSource): Promise<ImageModelV3> {
  let model = instantiated.get(source);
  if (model === undefined) {
    model = source.kind === 'built-in'
      ? Promise.resolve().then(async () => forInstalledAi(await source.adapter.createModel(source.modelId)))
      : Promise.resolve().then(() => forInstalledAi(source.model));
    instantiated.set(source, model);
  }
  return model;
}
