import type { LiveModel } from '../../shared/capabilities.js';
import { InvalidApiKeyError, InvalidResponseError, MissingApiKeyError, ProviderError, registerSecret } from '../../errors/errors.js';
import { loadTogetherSettings, TOGETHER_ENVIRONMENT_VARIABLES } from './settings.js';

/**
 * Together's live list of image models: `GET /models` [openapi `ModelInfoList`] lists every model
 * type; image models have `type: "image"`. Key and base URL default to the environment's.
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
  const response = await fetch(`${settings.baseURL}/models`, {
    headers: { authorization: `Bearer ${settings.apiKey}`, accept: 'application/json' },
    ...(abortSignal ? { signal: abortSignal } : {}),
  });
  const text = await response.text();
  if (!response.ok) {
    const fields = { provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, providerMessage: errorMessageOf(text) };
    if (response.status === 401) throw new InvalidApiKeyError({ ...fields, environmentVariables: TOGETHER_ENVIRONMENT_VARIABLES });
    throw new ProviderError(fields);
  }
  let body: unknown;
  try {
    body = JSON.parse(text);
  } catch {
    throw new InvalidResponseError({ provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, detail: 'the model list is not JSON' });
  }
  // The schema says a bare array; OpenAI-style `{ data: [...] }` is accepted too.
  const items = Array.isArray(body) ? body : Array.isArray((body as { data?: unknown })?.data) ? (body as { data: unknown[] }).data : undefined;
  if (items === undefined) {
    throw new InvalidResponseError({ provider: 'togetherai', modelId: 'GET /models', statusCode: response.status, detail: 'the model list is not an array' });
  }
  return items.flatMap((item) => {
    const model = item as { id?: unknown; type?: unknown; display_name?: unknown; organization?: unknown };
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

function errorMessageOf(text: string): string {
  try {
    const body = JSON.parse(text) as { error?: { message?: unknown } | string; message?: unknown };
    const message = typeof body.error === 'string' ? body.error : (body.error?.message ?? body.message);
    if (typeof message === 'string') return message;
  } catch {
    // Not JSON: the text itself, shortened.
  }
  return text.slice(0, 200) || 'no message';
}
