import { genericAdapter, type ProviderAdapter } from './adapter.js';
import { local } from './local.js';
import { together } from './together.js';

/** The providers the toolkit can build from the environment, by name. */
const adapters = new Map<string, ProviderAdapter>([
  [together.name, together],
  [local.name, local],
]);

/** Adds a built-in provider (each provider file registers itself here). */
export function registerAdapter(adapter: ProviderAdapter): void {
  adapters.set(adapter.name, adapter);
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
