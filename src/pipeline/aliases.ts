import type { RequestIssue } from '../errors/errors.js';

/**
 * Together's names for the request's fields (its API's, which people copy from its docs and
 * examples): taken as ours where they mean the same, or refused with the exact replacement. Applied
 * before the schema, in `parseRequest` and to each batch line before the defaults go under it.
 */

/** Together's field → ours, where a value means the same under both names. */
const SAME_MEANING: Readonly<Record<string, string>> = {
  n: 'count',
  negative_prompt: 'negativePrompt',
  aspect_ratio: 'aspectRatio',
  guidance_scale: 'guidance',
  image_url: 'referenceImages',
  reference_images: 'referenceImages',
  image_loras: 'loras',
  output_format: 'outputFormat',
  response_format: 'responseFormat',
  prompt_upsampling: 'promptUpsampling',
};

/** Together's fields this module knows, with the type a CSV cell under that name is read as. */
export const TOGETHER_FIELD_TYPES: Readonly<Record<string, 'number' | 'boolean' | 'json' | 'list' | 'string'>> = {
  n: 'number',
  width: 'number',
  height: 'number',
  guidance_scale: 'number',
  disable_safety_checker: 'boolean',
  prompt_upsampling: 'boolean',
  image_loras: 'json',
  image_url: 'string',
  reference_images: 'list',
  negative_prompt: 'string',
  aspect_ratio: 'string',
  output_format: 'string',
  response_format: 'string',
};

/** Whether `name` is one of Together's field names this module takes. */
// Own keys only: `__proto__` (or `toString`) on a line is an unknown field, not one of Together's.
export const isTogetherField = (name: string): boolean => Object.hasOwn(TOGETHER_FIELD_TYPES, name);

/**
 * The request with Together's field names put into ours, the issues of those that cannot be (both
 * names given, half a size, a value of the wrong type), and, for each of our fields filled from
 * one of Together's, the name it was given under (for a batch line's columns).
 */
export function withOurFieldNames(request: unknown): { request: unknown; issues: RequestIssue[]; renamed: Record<string, string> } {
  if (request === null || typeof request !== 'object' || Array.isArray(request) || !Object.keys(request).some(isTogetherField)) {
    return { request, issues: [], renamed: {} };
  }
  const result: Record<string, unknown> = {};
  const issues: RequestIssue[] = [];
  const renamed: Record<string, string> = {};
  const given = request as Record<string, unknown>;
  const take = (theirs: string, ours: string, value: unknown) => {
    if (ours in given || ours in result) {
      issues.push({ field: theirs, value: given[theirs], message: `is Together's name for ${ours}, which is given too; give only ${ours}` });
      return;
    }
    result[ours] = value;
    renamed[ours] = theirs;
  };
  for (const [name, value] of Object.entries(given)) {
    if (!isTogetherField(name)) {
      result[name] ??= value;
      continue;
    }
    if (name === 'width' || name === 'height') continue;
    if (name === 'disable_safety_checker') {
      if (typeof value === 'boolean') take(name, 'safetyChecker', !value);
      else issues.push({ field: name, value, message: 'must be true or false; in our names it is safetyChecker: false (disable_safety_checker: true)' });
      continue;
    }
    take(name, SAME_MEANING[name]!, value);
  }
  if ('width' in given || 'height' in given) {
    const { width, height } = given;
    const whole = (side: unknown): side is number => typeof side === 'number' && Number.isInteger(side) && side > 0;
    if (whole(width) && whole(height)) take('width' in given ? 'width' : 'height', 'size', `${width}x${height}`);
    else {
      issues.push({
        field: 'width' in given && !whole(width) ? 'width' : 'height',
        value: 'width' in given && !whole(width) ? width : height,
        message: `width and height are given together as size: "WxH", e.g. size: "${whole(width) ? width : 1024}x${whole(height) ? height : 768}"`,
      });
    }
  }
  return { request: result, issues, renamed };
}
