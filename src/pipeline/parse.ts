import { z } from 'zod/v4';
import { InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import { withOurFieldNames } from './aliases.js';
import { MAX_SEED } from '../util/random.js';
import { SIZE_PRESETS, type SizePreset } from '../shared/sizing.js';

export { SIZE_PRESETS, type SizePreset } from '../shared/sizing.js';

/**
 * Stage 1, parse: the high-level request, the same whatever the provider, checked by its schema.
 * Nothing here knows a model; the plan stage applies the catalog.
 */

export const DEFAULT_MODEL = 'togetherai:black-forest-labs/FLUX.1-schnell';
export const MAX_COUNT = 100;
// The seed range lives beside the generator (random.ts), which the emulator loads without this schema.
export { MAX_SEED };

const presetNames = Object.keys(SIZE_PRESETS) as [SizePreset, ...SizePreset[]];

const referenceImageSchema = z.union([
  z.string().min(1, 'must be a file path, an http(s) URL or a data URL'),
  z.custom<Uint8Array>((value) => value instanceof Uint8Array, { message: 'must be a file path, URL, data URL, Uint8Array or Buffer' }),
]);

/** The deepest `providerOptions` taken; real ones are three or four levels. */
const MAX_PROVIDER_OPTIONS_DEPTH = 32;

/** The high-level request, the same whatever the provider. */
export const generateRequestSchema = z
  .object({
    /** What to draw. */
    prompt: z.string().trim().min(1, 'must be a non-empty string'),
    /**
     * `"provider:modelId"`, or an id the catalog knows under one provider (`black-forest-labs/FLUX.2-dev`
     * is Together's), or a string for the app's registry. @default "togetherai:black-forest-labs/FLUX.1-schnell"
     */
    model: z
      .string()
      .regex(/^\S(?:.*\S)?$/s, 'must be "provider:modelId" or a model id, e.g. "togetherai:black-forest-labs/FLUX.1-schnell"')
      .default(DEFAULT_MODEL),
    /** `"WxH"` or a preset: square, landscape, portrait, photo, classic. */
    size: z
      .union([
        z.enum(presetNames),
        z.string().regex(/^\d+x\d+$/, `must be "WxH" (e.g. "1024x768") or one of ${presetNames.join(', ')}`),
      ])
      .optional(),
    /** `"W:H"`, e.g. `"16:9"`. */
    aspectRatio: z
      .string()
      .regex(/^[1-9]\d*:[1-9]\d*$/, 'must be "W:H" with positive whole numbers, e.g. "16:9"')
      .optional(),
    /** How many images. @default 1 */
    count: z
      .number()
      .int('must be a whole number')
      .min(1, 'must be at least 1')
      .max(MAX_COUNT, `must be at most ${MAX_COUNT} in one request (use batch for more)`)
      .default(1),
    steps: z.number().int('must be a whole number').positive('must be a positive whole number').optional(),
    seed: z.number().int('must be a whole number').min(0, 'must be 0 or more').max(MAX_SEED, `must be at most ${MAX_SEED}`).optional(),
    negativePrompt: z.string().trim().min(1, 'must be a non-empty string when given').optional(),
    guidance: z.number().finite('must be a finite number').optional(),
    referenceImages: z.union([referenceImageSchema, z.array(referenceImageSchema).min(1, 'must not be empty')]).optional(),
    /**
     * Where to repaint the first reference image (inpainting, edits), for models that take a mask:
     * white on black, or transparent where to repaint. File path, http(s) URL, data URL or bytes.
     */
    mask: z.union(referenceImageSchema.options, 'must be a file path, an http(s) URL, a data URL, a Uint8Array or a Buffer').optional(),
    /** LoRAs for models that take them (`image_loras`). */
    loras: z
      .array(z.object({ path: z.string().url('must be a URL'), scale: z.number().finite() }).strict())
      .optional(),
    /** Whether the provider's safety checker runs. @default true */
    safetyChecker: z.boolean().default(true),
    /** Let the provider rewrite the prompt (Together FLUX.2 `prompt_upsampling`, on there unless set to false). */
    promptUpsampling: z.boolean().optional(),
    outputFormat: z.enum(['png', 'jpeg'], 'must be png or jpeg').optional(),
    /**
     * How images come back: `base64` (bytes). `url` is refused before sending: Together can answer
     * with URLs, but `@ai-sdk/togetherai` reads only base64 (vercel/ai issue 11490). @default "base64"
     */
    responseFormat: z.enum(['base64', 'url'], 'must be base64 or url').default('base64'),
    /** Raw provider options, merged last over what the toolkit maps (keyed by provider name). */
    providerOptions: z
      .record(z.string(), z.record(z.string(), z.unknown()))
      .refine((value) => nestingDepth(value, MAX_PROVIDER_OPTIONS_DEPTH) <= MAX_PROVIDER_OPTIONS_DEPTH, {
        message: `must be nested at most ${MAX_PROVIDER_OPTIONS_DEPTH} levels deep (no provider takes more; deeper ones overflow the stack on the way out)`,
      })
      .optional(),
    /** Make any dropped or changed option an error instead of a warning. @default false */
    strict: z.boolean().default(false),
  })
  .strict();

export type GenerateRequest = z.input<typeof generateRequestSchema>;
export type ParsedRequest = z.output<typeof generateRequestSchema>;

/** Parses a request, or throws one `InvalidRequestError` listing every problem. */
export function parseRequest(given: unknown, context?: string): ParsedRequest {
  const { request, issues: aliasIssues } = withOurFieldNames(given);
  const result = generateRequestSchema.safeParse(request);
  const issues: RequestIssue[] = [...aliasIssues, ...(result.success ? [] : zodIssues(result.error, request))];
  if (result.success && result.data.size !== undefined && result.data.aspectRatio !== undefined) {
    issues.push({
      field: 'aspectRatio',
      value: result.data.aspectRatio,
      message: `give either size or aspectRatio, not both (size is ${JSON.stringify(result.data.size)})`,
    });
  }
  if (issues.length > 0 || !result.success) {
    throw new InvalidRequestError({ issues, ...(context === undefined ? {} : { context }) });
  }
  return result.data;
}

/** Turns zod issues into field / value / allowed triples. */
export function zodIssues(error: z.ZodError, input: unknown): RequestIssue[] {
  return error.issues.map((issue) => {
    const field = issue.path.map(String).join('.') || '(request)';
    if (issue.code === 'unrecognized_keys') {
      return {
        field: issue.keys.join(', '),
        value: issue.keys.map((name) => valueAt(input, [...issue.path, name])),
        message: `unknown field${issue.keys.length > 1 ? 's' : ''}; allowed: ${Object.keys(generateRequestSchema.shape).join(', ')}${rawFieldHint(issue.keys)}`,
      };
    }
    const value = valueAt(input, issue.path);
    const message =
      issue.code === 'invalid_type' && value === undefined
        ? 'is required'
        : issue.code === 'invalid_type' && issue.expected !== 'int'
          ? `must be ${issue.expected}`
          : issue.message;
    return { field, value, message };
  });
}

/** For provider-style names (`prompt_strength`): the raw options they belong in, written out. */
function rawFieldHint(keys: readonly string[]): string {
  const raw = keys.filter((key) => key.includes('_'));
  if (raw.length === 0) return '';
  return `; a provider's own field goes under providerOptions, e.g. providerOptions: { togetherai: { ${raw.map((key) => `${key}: …`).join(', ')} } }`;
}

/** The value at a schema issue's path in the input, for messages that show what was given. */
export function valueAt(input: unknown, path: readonly PropertyKey[]): unknown {
  let current = input;
  for (const segment of path) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<PropertyKey, unknown>)[segment];
  }
  return current;
}

/**
 * Parses the request; when fields fail, parses again without them so the catalog checks still run
 * on the rest, and every problem is reported in one error.
 */
export function parseCollectingIssues(request: unknown): { parsed: ParsedRequest; issues: RequestIssue[] } {
  try {
    return { parsed: parseRequest(request), issues: [] };
  } catch (error) {
    if (!InvalidRequestError.isInstance(error) || request === null || typeof request !== 'object') throw error;
    const failed = new Set(error.issues.flatMap((issue) => issue.field.split(', ').map((field) => field.split('.')[0]!)));
    const rest: Record<string, unknown> = { ...request };
    for (const field of failed) delete rest[field];
    if (failed.has('prompt')) rest.prompt = 'prompt';
    if (failed.has('size') || failed.has('aspectRatio')) {
      delete rest.size;
      delete rest.aspectRatio;
    }
    try {
      return { parsed: parseRequest(rest), issues: [...error.issues] };
    } catch {
      throw error;
    }
  }
}

/** How deep objects and arrays nest in `value`, counting no further than `limit + 1` (so a 5,000-deep one costs no more). */
function nestingDepth(value: unknown, limit: number, depth = 0): number {
  if (value === null || typeof value !== 'object' || depth > limit) return depth;
  let deepest = depth + 1;
  for (const child of Object.values(value)) {
    deepest = Math.max(deepest, nestingDepth(child, limit, depth + 1));
    if (deepest > limit) break;
  }
  return deepest;
}
