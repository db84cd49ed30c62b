import {
  DOCUMENTED_MAX_N,
  DOCUMENTED_MAX_SEED,
  DOCUMENTED_MODELS,
  DOCUMENTED_SIZE_RANGE,
  DOCUMENTED_STEPS,
  type DocumentedModel,
} from './documented-models.js';

/**
 * Checks a `POST /v1/images/generations` body the way Together does: required fields, types,
 * ranges, and parameters the model does not take (a 400 naming the parameter). What each model
 * takes comes from `documented-models.ts`, Together's own account, never from the toolkit's catalog.
 */

/** Together's error body (official schema `ErrorData`, with the `id` live responses carry). */
export type TogetherErrorBody = {
  id?: string;
  error: { message: string; type: string; param: string | null; code: string | null };
};

export type EmulatorError = { status: number; body: TogetherErrorBody };

/** A request that passed validation, with every default filled in. */
export type GenerationRequest = {
  model: DocumentedModel;
  prompt: string;
  n: number;
  width: number;
  height: number;
  seed: number | undefined;
  responseFormat: 'url' | 'base64';
  outputFormat: 'jpeg' | 'png';
  disableSafetyChecker: boolean;
};

const byId = new Map(DOCUMENTED_MODELS.map((model) => [model.id, model]));

/** A model Together lists, `undefined` for unknown and retired ids; `extra` are added by the emulator's options. */
export function findDocumentedModel(id: string, extra: readonly DocumentedModel[] = []): DocumentedModel | undefined {
  const model = extra.find((each) => each.id === id) ?? byId.get(id);
  return model?.retired ? undefined : model;
}

const ERROR_KINDS: Record<number, { type: string; code: string; message: string }> = {
  400: { type: 'invalid_request_error', code: 'invalid_request', message: 'Invalid request' },
  401: { type: 'invalid_request_error', code: 'invalid_api_key', message: 'Invalid API key provided. You can find your API key at https://api.together.xyz/settings/api-keys.' },
  402: { type: 'invalid_request_error', code: 'insufficient_credits', message: 'Credit limit exceeded. Image models can only be used with credits: add credits to your account to continue.' },
  403: { type: 'invalid_request_error', code: 'forbidden', message: 'This model is served by a third-party partner and requires sharing data with it; enable data sharing in your account settings.' },
  404: { type: 'invalid_request_error', code: 'not_found', message: 'Not found' },
  408: { type: 'server_error', code: 'request_timeout', message: 'Request timed out' },
  413: { type: 'invalid_request_error', code: 'request_too_large', message: 'Request body too large' },
  422: { type: 'invalid_request_error', code: 'content_policy_violation', message: 'The request was flagged by the safety checker' },
  429: { type: 'rate_limit_exceeded', code: 'rate_limit_exceeded', message: 'You have exceeded the rate limit for this model. Please retry after the time in the retry-after header.' },
  500: { type: 'server_error', code: 'internal_server_error', message: 'Internal server error' },
  502: { type: 'server_error', code: 'bad_gateway', message: 'Bad gateway' },
  503: { type: 'server_error', code: 'service_unavailable', message: 'The server is overloaded or not ready yet.' },
  504: { type: 'server_error', code: 'gateway_timeout', message: 'Gateway timeout: the model took too long to answer.' },
};

/** An error in Together's shape; message, param and code default to the status's usual ones. */
export function togetherError(
  status: number,
  { message, param, code }: { message?: string; param?: string; code?: string } = {},
): EmulatorError {
  const kind = ERROR_KINDS[status] ?? {
    type: status >= 500 ? 'server_error' : 'invalid_request_error',
    code: `http_${status}`,
    message: `HTTP ${status}`,
  };
  return {
    status,
    body: { error: { message: message ?? kind.message, type: kind.type, param: param ?? null, code: code ?? kind.code } },
  };
}

const invalid = (param: string, message: string) => togetherError(400, { message, param, code: 'invalid_parameter' });

const unsupported = (param: string) =>
  togetherError(400, { message: `Unsupported use of '${param}' parameter`, param, code: 'unsupported_parameter' });

const describe = (value: unknown) => JSON.stringify(value) ?? String(value);

type Body = Record<string, unknown>;

/** `undefined` and JSON `null` both mean "not sent", as clients that spread options send nulls. */
const given = (body: Body, name: string) => body[name] !== undefined && body[name] !== null;

/** The validated request, or the error Together would answer with. */
export function validateGeneration(
  input: unknown,
  { extraModels = [] }: { extraModels?: readonly DocumentedModel[] } = {},
): { request: GenerationRequest } | { error: EmulatorError } {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { error: invalid('body', 'The request body must be a JSON object') };
  }
  const body = input as Body;

  if (!given(body, 'prompt')) return { error: invalid('prompt', "'prompt' is a required property") };
  if (typeof body.prompt !== 'string') return { error: invalid('prompt', `'prompt' must be a string, got ${describe(body.prompt)}`) };
  if (body.prompt.trim() === '') return { error: invalid('prompt', "'prompt' must not be empty") };
  if (!given(body, 'model')) return { error: invalid('model', "'model' is a required property") };
  if (typeof body.model !== 'string') return { error: invalid('model', `'model' must be a string, got ${describe(body.model)}`) };

  const model = findDocumentedModel(body.model, extraModels);
  if (!model) {
    return {
      error: togetherError(404, {
        message: `Unable to access model ${body.model}. Please visit https://api.together.ai/models to view the list of supported models.`,
        param: 'model',
        code: 'model_not_found',
      }),
    };
  }

  const error = checkParameters(body, model);
  if (error) return { error };
  const size = resolveSize(body, model);
  if ('error' in size) return { error: size.error };

  return {
    request: {
      model,
      prompt: body.prompt,
      n: given(body, 'n') ? (body.n as number) : 1,
      width: size.width,
      height: size.height,
      seed: given(body, 'seed') ? (body.seed as number) : undefined,
      responseFormat: given(body, 'response_format') ? (body.response_format as 'url' | 'base64') : 'url',
      outputFormat: given(body, 'output_format') ? (body.output_format as 'jpeg' | 'png') : 'jpeg',
      disableSafetyChecker: body.disable_safety_checker === true,
    },
  };
}

/** Everything but the size, in a fixed order so the same body always gets the same message. */
function checkParameters(body: Body, model: DocumentedModel): EmulatorError | undefined {
  for (const check of PARAMETER_CHECKS) {
    const error = check(body, model);
    if (error) return error;
  }
  return undefined;
}

type ParameterCheck = (body: Body, model: DocumentedModel) => EmulatorError | undefined;

/** A check of one optional parameter: skipped when not sent, refused when the docs say the model does not take it. */
const optional =
  (name: string, check: (value: unknown) => EmulatorError | undefined): ParameterCheck =>
  (body, model) => {
    if (!given(body, name)) return undefined;
    if ((model.rejects as readonly string[]).includes(name)) return unsupported(name);
    return check(body[name]);
  };

const integerIn =
  (name: string, min: number, max: number) =>
  (value: unknown): EmulatorError | undefined => {
    if (typeof value !== 'number' || !Number.isInteger(value)) return invalid(name, `'${name}' must be an integer, got ${describe(value)}`);
    if (value < min || value > max) return invalid(name, `'${name}' must be between ${min} and ${max}, got ${value}`);
    return undefined;
  };

const ofType =
  (name: string, type: 'string' | 'boolean') =>
  (value: unknown): EmulatorError | undefined =>
    typeof value === type ? undefined : invalid(name, `'${name}' must be a ${type}, got ${describe(value)}`);

const finiteNumber =
  (name: string) =>
  (value: unknown): EmulatorError | undefined =>
    typeof value === 'number' && Number.isFinite(value) ? undefined : invalid(name, `'${name}' must be a number, got ${describe(value)}`);

const oneOf =
  (name: string, allowed: readonly string[]) =>
  (value: unknown): EmulatorError | undefined =>
    allowed.includes(value as string) ? undefined : invalid(name, `'${name}' must be one of ${allowed.join(', ')}, got ${describe(value)}`);

function checkLoras(loras: unknown): EmulatorError | undefined {
  const isLora = (lora: unknown) =>
    typeof lora === 'object' && lora !== null && typeof (lora as Body).path === 'string' && typeof (lora as Body).scale === 'number';
  if (!Array.isArray(loras) || !loras.every(isLora)) {
    return invalid('image_loras', "'image_loras' must be an array of { path: string, scale: number }");
  }
  // "Apply up to 2 LoRA adapters per image" (api-reference.md).
  if (loras.length > 2) return invalid('image_loras', `'image_loras' takes at most 2 LoRAs, got ${loras.length}`);
  return undefined;
}

const PARAMETER_CHECKS: readonly ParameterCheck[] = [
  optional('n', integerIn('n', 1, DOCUMENTED_MAX_N)),
  optional('steps', integerIn('steps', DOCUMENTED_STEPS.min, DOCUMENTED_STEPS.max)),
  optional('seed', integerIn('seed', -DOCUMENTED_MAX_SEED - 1, DOCUMENTED_MAX_SEED)),
  optional('negative_prompt', ofType('negative_prompt', 'string')),
  optional('guidance_scale', finiteNumber('guidance_scale')),
  optional('guidance', finiteNumber('guidance')),
  optional('prompt_upsampling', ofType('prompt_upsampling', 'boolean')),
  optional('image_url', (value) =>
    isImageReference(value) ? undefined : invalid('image_url', `'image_url' must be an http(s) URL or a data: URI, got ${describe(value)}`),
  ),
  optional('reference_images', (value) =>
    Array.isArray(value) && value.length > 0 && value.every(isImageReference)
      ? undefined
      : invalid('reference_images', "'reference_images' must be a non-empty array of http(s) URLs or data: URIs"),
  ),
  optional('image_loras', checkLoras),
  optional('response_format', oneOf('response_format', ['url', 'base64'])),
  optional('output_format', oneOf('output_format', ['jpeg', 'png'])),
  optional('disable_safety_checker', ofType('disable_safety_checker', 'boolean')),
];

/**
 * Width and height. The official schema has no `aspect_ratio`, and every official example, Kontext
 * included, sends width/height; only prose says some models size by ratio. The toolkit decided for
 * width/height, and the emulator takes exactly that: `aspect_ratio` is refused, so a regression that
 * sends it fails here rather than against the live API.
 */
function resolveSize(body: Body, model: DocumentedModel): { width: number; height: number } | { error: EmulatorError } {
  if (given(body, 'aspect_ratio')) {
    return { error: togetherError(400, { message: "Unsupported use of 'aspect_ratio' parameter: not in the API schema; send width and height", param: 'aspect_ratio', code: 'unsupported_parameter' }) };
  }
  const { min, max, multipleOf } = DOCUMENTED_SIZE_RANGE;
  for (const side of ['width', 'height'] as const) {
    if (!given(body, side)) continue;
    const value = body[side];
    if (typeof value !== 'number' || !Number.isInteger(value)) {
      return { error: invalid(side, `'${side}' must be an integer, got ${describe(value)}`) };
    }
    if (model.sizes === undefined && (value < min || value > max || value % multipleOf !== 0)) {
      return { error: invalid(side, `'${side}' must be a multiple of ${multipleOf} between ${min} and ${max}, got ${value}`) };
    }
  }
  const width = given(body, 'width') ? (body.width as number) : 1024;
  const height = given(body, 'height') ? (body.height as number) : 1024;
  if (model.sizes !== undefined && !model.sizes.includes(`${width}x${height}`)) {
    return { error: invalid('width', `${model.id} takes only these sizes: ${model.sizes.join(', ')}; got ${width}x${height}`) };
  }
  return { width, height };
}

function isImageReference(value: unknown): boolean {
  return typeof value === 'string' && /^(https?:\/\/|data:image\/)/i.test(value);
}
