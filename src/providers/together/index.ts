import { MissingApiKeyError } from '../../errors/errors.js';
import type { ProviderAdapter } from '../adapter.js';
import { loadPackage } from '../lazy-adapter.js';
import { listTogetherModels } from './list-models.js';
import { mapTogetherCall } from './map.js';
import { readTogetherMetadata, TOGETHER_METADATA_HEADER, togetherMetadataFetch } from './metadata-fetch.js';
import { TOGETHER_GENERIC, TOGETHER_MODELS } from './models.js';
import { loadTogetherSettings, TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';

export { TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';
export { togetherMetadataFetch } from './metadata-fetch.js';

/**
 * Together AI, through its AI SDK package like every other provider: the built-in model is
 * `createTogetherAI({ apiKey, baseURL, fetch }).image(modelId)`, and an app's own
 * `togetherai.image(id)` is used as it is. What the package falls short on is made up through its
 * public doors: `n` up to 4 in one request by `generateImage`'s `maxImagesPerCall` (from the
 * catalog), Together's own fields in `providerOptions.togetherai` (map.ts), and the response id,
 * seeds and timings by the `fetch` given to `createTogetherAI` (metadata-fetch.ts).
 */
export const together: ProviderAdapter = {
  name: 'togetherai',
  optionsKey: 'togetherai',
  environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES,
  models: TOGETHER_MODELS,
  genericCapabilities: TOGETHER_GENERIC,

  async createModel(modelId) {
    const { createTogetherAI } = await togetherPackage();
    const { apiKey, baseURL } = loadTogetherSettings();
    if (apiKey === undefined) {
      throw new MissingApiKeyError({ provider: 'Together AI', environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
    }
    return createTogetherAI({ apiKey, baseURL, fetch: togetherMetadataFetch() }).image(modelId);
  },

  mapCall: mapTogetherCall,

  imageMetadata: ({ response }) => readTogetherMetadata(response?.headers),
  privateHeaders: [TOGETHER_METADATA_HEADER],

  listModels: listTogetherModels,

  // `@ai-sdk/togetherai` warns "aspectRatio is not supported" whenever `size` is passed (upstream
  // PR 17110); the toolkit never passes Together `aspectRatio`, so that warning is always wrong here.
  filterWarnings: (warnings) => warnings.filter((warning) => !(warning.type === 'unsupported' && warning.feature === 'aspectRatio')),
};

let loaded: Promise<typeof import('@ai-sdk/togetherai')> | undefined;

/**
 * `@ai-sdk/togetherai`, imported once: a required peer, so bundlers may resolve it (a literal
 * specifier), loaded on first use so that the CLI's other commands and the local provider do not
 * pay for it. Each request builds its model from it (the key is read then); the import is not
 * repeated per request (a dynamic import costs about a millisecond even when cached).
 */
function togetherPackage(): Promise<typeof import('@ai-sdk/togetherai')> {
  loaded ??= loadPackage({ provider: 'Together AI', packageName: '@ai-sdk/togetherai', importPackage: () => import('@ai-sdk/togetherai') }).catch((error: unknown) => {
    loaded = undefined;
    throw error;
  });
  return loaded;
}
