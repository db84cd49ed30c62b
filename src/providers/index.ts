import { genericAdapter, type ProviderAdapter } from './adapter.js';
import { amazonBedrock } from './amazon-bedrock.js';
import { blackForestLabs } from './black-forest-labs.js';
import { deepinfra } from './deepinfra.js';
import { fal } from './fal.js';
import { fireworks } from './fireworks.js';
import { google } from './google.js';
import { local } from './local.js';
import { luma } from './luma.js';
import { openai } from './openai.js';
import { replicate } from './replicate.js';
import { together } from './together/index.js';
import { xai } from './xai.js';

/**
 * The built-in providers, in one explicit list: nothing registers itself on import. Each adapter
 * carries its catalog; its AI SDK package is imported only when a model is first created.
 */
const BUILT_IN: readonly ProviderAdapter[] = [together, local, openai, fal, replicate, blackForestLabs, google, xai, luma, deepinfra, fireworks, amazonBedrock];

const adapters = new Map<string, ProviderAdapter>(BUILT_IN.map((adapter) => [adapter.name, adapter]));

/** The built-in providers' adapters, in the order `imagegen models` lists them. */
export function builtInAdapters(): readonly ProviderAdapter[] {
  return BUILT_IN;
}

/** Names of the providers the toolkit can build itself. */
export function builtInProviderNames(): string[] {
  return [...adapters.keys()];
}

/** The adapter for a provider name, or `undefined` when it has none built in. */
export function findAdapter(name: string): ProviderAdapter | undefined {
  return adapters.get(name);
}

/** The adapter for a name, falling back to the AI SDK's standard options only. */
export function adapterFor(name: string): ProviderAdapter {
  return adapters.get(name) ?? genericAdapter(name);
}
