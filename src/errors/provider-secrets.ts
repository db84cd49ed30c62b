// Keys inside the app's own provider instances, so they are redacted like the environment's.
import { registerSecret } from './errors.js';

/** Header names that carry a credential in the @ai-sdk packages (Authorization, x-key, x-goog-api-key, …). */
const CREDENTIAL_HEADER = /authorization|api[-_]?key|^x-key$|token|secret/i;
/** The scheme word before a credential in an Authorization header. */
const SCHEME = /^(bearer|key|token|basic)\s+/i;

/**
 * Registers for redaction the credentials an AI SDK image model will send. The @ai-sdk providers
 * keep them on the model as `config.headers` (an object, or a function, sometimes async, that
 * loads the key); a few also keep `config.apiKey`. Anything else (a wrapped model, a custom one)
 * exposes nothing, and nothing is registered. Never throws: a missing key is the provider's to
 * report when the call is made.
 */
export async function registerProviderSecrets(model: unknown): Promise<void> {
  const config = (model as { config?: { headers?: unknown; apiKey?: unknown } } | null)?.config;
  if (config === null || typeof config !== 'object') return;
  if (typeof config.apiKey === 'string') registerSecret(config.apiKey);
  let headers: unknown;
  try {
    headers = typeof config.headers === 'function' ? await (config.headers as () => unknown)() : config.headers;
  } catch {
    return;
  }
  if (headers === null || typeof headers !== 'object') return;
  for (const [name, value] of Object.entries(headers as Record<string, unknown>)) {
    if (typeof value !== 'string' || !CREDENTIAL_HEADER.test(name)) continue;
    registerSecret(value);
    registerSecret(value.replace(SCHEME, '').trim());
  }
}
