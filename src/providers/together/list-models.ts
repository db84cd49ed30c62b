import { APICallError } from '@ai-sdk/provider';
import { createJsonErrorResponseHandler, createJsonResponseHandler, getFromApi } from '@ai-sdk/provider-utils';
import { z } from 'zod';
import type { LiveModel } from '../../shared/capabilities.js';
import { InvalidApiKeyError, InvalidResponseError, MissingApiKeyError, ProviderError, registerSecret } from '../../errors/errors.js';
import { loadTogetherSettings, TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';

const call = { provider: 'togetherai', modelId: 'GET /models' };

// The schema says a bare array; OpenAI-style `{ data: [...] }` is accepted too. Items are read
// loosely: one odd entry must not cost the whole list.
const modelListSchema = z.union([z.array(z.unknown()), z.object({ data: z.array(z.unknown()) })]);
const errorSchema = z.unknown();

/**
 * Together's live list of image models: `GET /models` [openapi `ModelInfoList`] lists every model
 * type; image models have `type: "image"`. Key and base URL default to the environment's. Goes
 * through provider-utils' `getFromApi`; the deadline and the size cap are the given `fetch`'s
 * (`fetchLiveModels` passes one that has both).
 */
export async function listTogetherModels({
  fetch,
  apiKey,
  baseURL,
  abortSignal,
}: {
  fetch: typeof globalThis.fetch;
  apiKey?: string | undefined;
  baseURL?: string | undefined;
  abortSignal?: AbortSignal | undefined;
}): Promise<LiveModel[]> {
  const settings = loadTogetherSettings({ apiKey, baseURL });
  if (settings.apiKey === undefined) {
    throw new MissingApiKeyError({ provider: 'Together AI', environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
  }
  registerSecret(settings.apiKey);
  let body: z.infer<typeof modelListSchema>;
  try {
    ({ value: body } = await getFromApi({
      url: `${settings.baseURL}/models`,
      headers: { authorization: `Bearer ${settings.apiKey}`, accept: 'application/json' },
      fetch,
      ...(abortSignal ? { abortSignal } : {}),
      successfulResponseHandler: createJsonResponseHandler(modelListSchema),
      failedResponseHandler: createJsonErrorResponseHandler({ errorSchema, errorToMessage: errorMessageOf }),
    }));
  } catch (error) {
    throw toListError(error);
  }
  const items = Array.isArray(body) ? body : body.data;
  return items.flatMap((item) => {
    const model = item as { id?: unknown; type?: unknown; display_name?: unknown; organization?: unknown } | null;
    if (typeof model?.id !== 'string' || model.type !== 'image') return [];
    return [
      {
        id: model.id,
        ...(typeof model.display_name === 'string' ? { displayName: model.display_name } : {}),
        ...(typeof model.organization === 'string' ? { organization: model.organization } : {}),
      },
    ];
  });
}

/** What `getFromApi` threw, as the toolkit's errors; a timeout or cancel passes through as it came. */
function toListError(error: unknown): unknown {
  if (!APICallError.isInstance(error)) return error;
  const statusCode = error.statusCode;
  if (statusCode === undefined) return new ProviderError({ ...call, message: `Could not reach togetherai for GET /models: ${error.message}`, cause: error });
  if (statusCode >= 200 && statusCode < 300) {
    // A cap or a timeout hit while the body was read comes wrapped: pass it on as itself.
    if (error.cause instanceof Error && (error.cause.name === 'DownloadLimitError' || error.cause.name === 'TimeoutError' || error.cause.name === 'AbortError')) {
      return error.cause.name === 'DownloadLimitError' ? new InvalidResponseError({ ...call, statusCode, detail: error.cause.message, cause: error }) : error.cause;
    }
    return new InvalidResponseError({ ...call, statusCode, detail: 'the model list is not JSON, or not an array', cause: error });
  }
  const fields = { ...call, statusCode, providerMessage: error.message, cause: error };
  if (statusCode === 401) return new InvalidApiKeyError({ ...fields, environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
  return new ProviderError(fields);
}

function errorMessageOf(body: unknown): string {
  const error = (body as { error?: { message?: unknown } | string; message?: unknown } | null) ?? {};
  const message = typeof error.error === 'string' ? error.error : (error.error?.message ?? error.message);
  return typeof message === 'string' ? message : 'no message';
}
