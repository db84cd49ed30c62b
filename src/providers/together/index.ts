import { imagesPerCall } from '../../shared/capabilities.js';
import type { AnyImageModel } from '../../shared/model-version.js';
import { MissingApiKeyError } from '../../errors/errors.js';
import type { ProviderAdapter } from '../adapter.js';
import { TogetherImageModel } from './image-model.js';
import { listTogetherModels } from './list-models.js';
import { mapTogetherCall } from './map.js';
import { TOGETHER_GENERIC, TOGETHER_MODELS } from './models.js';
import { loadTogetherSettings, TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';

export { TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';

/**
 * Together AI: its catalog (models.ts), its mapping (map.ts), and its own image model
 * (image-model.ts), which sends what `@ai-sdk/togetherai` sends and keeps what that package drops
 * (URL responses, the response id, timings). An app's own `createTogetherAI(...)` models are rebuilt
 * as that model from their configuration, so they keep the app's key, base URL, headers and fetch.
 */
export const together: ProviderAdapter = {
  name: 'togetherai',
  optionsKey: 'togetherai',
  environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES,
  models: TOGETHER_MODELS,
  genericCapabilities: TOGETHER_GENERIC,

  createModel(modelId) {
    const { apiKey, baseURL } = loadTogetherSettings();
    if (apiKey === undefined) {
      throw new MissingApiKeyError({ provider: 'Together AI', environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
    }
    return new TogetherImageModel({ modelId, baseURL, headers: () => ({ authorization: `Bearer ${apiKey}` }), maxImagesPerCall: maxImagesPerCall(modelId) });
  },

  fromAppModel(model: AnyImageModel) {
    const config: unknown = (model as { config?: unknown }).config;
    if (!model.provider.startsWith('togetherai') || !isTogetherConfig(config)) return undefined;
    return new TogetherImageModel({
      modelId: model.modelId,
      baseURL: config.baseURL,
      headers: config.headers ?? (() => ({})),
      fetch: config.fetch,
      maxImagesPerCall: maxImagesPerCall(model.modelId),
    });
  },

  mapCall: mapTogetherCall,

  listModels: listTogetherModels,

  // An app's model the toolkit could not rebuild (a wrapped or custom one) may be the AI SDK's, which
  // warns "aspectRatio is not supported" whenever `size` is passed (upstream PR 17110); the toolkit
  // never passes Together `aspectRatio`, so that warning is always wrong here.
  filterWarnings: (warnings) => warnings.filter((warning) => !(warning.type === 'unsupported' && warning.feature === 'aspectRatio')),
};

function maxImagesPerCall(modelId: string): number {
  const capabilities = TOGETHER_MODELS.find((model) => model.modelId === modelId) ?? TOGETHER_GENERIC;
  return imagesPerCall(capabilities);
}

/**
 * The configuration `@ai-sdk/togetherai`'s image model keeps (2.x and 3.x alike):
 * `{ provider, baseURL, headers(), fetch? }`; 3.x makes `headers` optional.
 */
function isTogetherConfig(config: unknown): config is {
  baseURL: string;
  headers?: () => Record<string, string | undefined>;
  fetch?: typeof globalThis.fetch;
} {
  if (typeof config !== 'object' || config === null) return false;
  const fields = config as Record<string, unknown>;
  return (
    typeof fields.baseURL === 'string' &&
    (fields.headers === undefined || typeof fields.headers === 'function') &&
    (fields.fetch === undefined || typeof fields.fetch === 'function')
  );
}
