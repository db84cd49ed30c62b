import { registerSecret } from '../../errors/errors.js';
import { readEnvironment } from '../adapter.js';

/** Where the built-in Together provider finds its key, first one preferred. */
export const TOGETHER_ENVIRONMENT_VARIABLES = ['TOGETHER_API_KEY', 'TOGETHER_AI_API_KEY'] as const;
/** Where it finds a base URL other than Together's (the emulator's, a proxy's). */
export const TOGETHER_BASE_URL_VARIABLE = 'TOGETHER_BASE_URL';
export const TOGETHER_DEFAULT_BASE_URL = 'https://api.together.xyz/v1';

/** The key from `TOGETHER_API_KEY` or `TOGETHER_AI_API_KEY`, or `undefined`. */
export function loadTogetherApiKey(): string | undefined {
  for (const name of TOGETHER_ENVIRONMENT_VARIABLES) {
    const value = readEnvironment(name);
    if (value !== undefined) {
      registerSecret(value);
      return value;
    }
  }
  return undefined;
}

/** The key and base URL given, else the environment's; the base URL without a trailing slash. */
export function loadTogetherSettings({ apiKey, baseURL }: { apiKey?: string | undefined; baseURL?: string | undefined } = {}): {
  apiKey: string | undefined;
  baseURL: string;
} {
  return {
    apiKey: apiKey ?? loadTogetherApiKey(),
    baseURL: (baseURL ?? readEnvironment(TOGETHER_BASE_URL_VARIABLE) ?? TOGETHER_DEFAULT_BASE_URL).replace(/\/+$/, ''),
  };
}
