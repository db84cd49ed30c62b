import { describe, expect, it } from 'vitest';
import { parseBatchInput } from '../src/batch/input.js';
import { generateImages, parseRequest, type GenerateRequest } from '../src/index.js';

/** Together's field names, as its docs and examples write them, taken as ours or refused with the exact replacement. */

const together = (fields: Record<string, unknown>) => ({ prompt: 'a fox', ...fields }) as unknown as GenerateRequest;

const refusal = (request: unknown): string => {
  try {
    parseRequest(request);
  } catch (error) {
    return (error as Error).message;
  }
  return expect.unreachable('should be refused');
};

describe("Together's field names in a library request", () => {
  it('are taken where they mean the same: n, width + height, negative_prompt, disable_safety_checker, image_url, guidance_scale, output_format', () => {
    const parsed = parseRequest(
      together({ n: 2, width: 512, height: 768, negative_prompt: 'blur', disable_safety_checker: true, image_url: 'https://example.test/cat.png', guidance_scale: 3, output_format: 'jpeg' }),
    );
    expect(parsed).toMatchObject({ count: 2, size: '512x768', negativePrompt: 'blur', safetyChecker: false, referenceImages: 'https://example.test/cat.png', guidance: 3, outputFormat: 'jpeg' });
  });

  it('generateImages takes them too (offline, local:placeholder)', async () => {
    const result = await generateImages(together({ model: 'local:placeholder', n: 2, width: 64, height: 32, seed: 7 }));
    expect(result.images.map((image) => [image.width, image.height])).toEqual([
      [64, 32],
      [64, 32],
    ]);
  });

  it('are refused with the exact replacement where they cannot be taken', () => {
    expect(refusal(together({ n: 2, count: 3 }))).toContain("n: is Together's name for count, which is given too; give only count (got 2)");
    expect(refusal(together({ width: 512 }))).toContain('height: width and height are given together as size: "WxH", e.g. size: "512x768" (got nothing)');
    expect(refusal(together({ width: 512, height: 512, size: 'square' }))).toContain("is Together's name for size, which is given too; give only size");
    expect(refusal(together({ disable_safety_checker: 'yes' }))).toContain('disable_safety_checker: must be true or false; in our names it is safetyChecker: false (disable_safety_checker: true)');
  });

  it('a provider field of its own is pointed at providerOptions, written out', () => {
    expect(refusal(together({ prompt_strength: 0.8 }))).toContain("a provider's own field goes under providerOptions, e.g. providerOptions: { togetherai: { prompt_strength: … } }");
  });
});

describe("Together's field names in batch lines", () => {
  it('JSONL: a line in Together\'s names runs, its values over the defaults (n over -n)', () => {
    const { jobs, errors } = parseBatchInput({
      text: '{"prompt": "a fox", "n": 4, "width": 512, "height": 512, "negative_prompt": "blur", "disable_safety_checker": true}\n',
      format: 'jsonl',
      defaults: { count: 1, model: 'local:placeholder' },
    });
    expect(errors).toEqual([]);
    expect(jobs[0]!.request).toEqual({ prompt: 'a fox', count: 4, size: '512x512', negativePrompt: 'blur', safetyChecker: false, model: 'local:placeholder' });
    // The same request in our names has the same key: a resumed batch does not redo it.
    const ours = parseBatchInput({ text: '{"prompt": "a fox", "count": 4, "size": "512x512", "negativePrompt": "blur", "safetyChecker": false}\n', format: 'jsonl', defaults: { count: 1, model: 'local:placeholder' } });
    expect(ours.jobs[0]!.key).toBe(jobs[0]!.key);
  });

  it('CSV: Together\'s column names are read and typed', () => {
    const { jobs, errors } = parseBatchInput({ text: 'prompt,width,height,n,disable_safety_checker\na fox,512,768,2,true\n', format: 'csv' });
    expect(errors).toEqual([]);
    expect(jobs[0]!.request).toEqual({ prompt: 'a fox', size: '512x768', count: 2, safetyChecker: false });
  });

  it('a value refused under our name is found at the column of Together\'s', () => {
    const { errors } = parseBatchInput({ text: '{"prompt": "a fox", "n": 0}\n', format: 'jsonl' });
    expect(errors).toEqual([{ line: 1, column: 21, message: "count: must be at least 1 (got 0)" }]);
  });

  it('half a size is refused on its line with the replacement', () => {
    const { errors } = parseBatchInput({ text: '{"prompt": "a fox", "width": 512}\n', format: 'jsonl' });
    expect(errors[0]!.message).toContain('width and height are given together as size: "WxH", e.g. size: "512x768"');
  });
});
