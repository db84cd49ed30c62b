import { tool, wrapImageModel, type Tool } from 'ai';
import { z } from 'zod/v4';
import type { ModelCapabilities } from './models/catalog.js';
import { checkConcurrency, generateImages, type GenerateImagesOptions, type GenerateImagesResult } from './generate.js';
import { Budget, costOfDelivery } from './pipeline/budget.js';
import { resolveTelemetry, telemetryOptionsOf } from './telemetry/settings.js';
import type { GeneratedImage } from './image.js';
import { DEFAULT_MODEL, MAX_SEED, type GenerateRequest } from './pipeline/parse.js';
import { resolveModelReference } from './models/resolve-model.js';
import { InvalidRequestError, RetiredModelError } from './errors/errors.js';

/** What the language model may pass to the tool (fields appear only where a model takes them). */
export type ImageGenerationToolInput = {
  prompt: string;
  model?: string;
  aspectRatio?: string;
  count?: number;
  seed?: number;
  negativePrompt?: string;
  steps?: number;
  referenceImages?: string[];
  mask?: string;
};

/** The compact result the tool returns: no image bytes, only what describes and locates them. */
export type ImageGenerationToolOutput = {
  model: string;
  count: number;
  /** `"WxH"` of the images. */
  size: string;
  /** The seed of the request (each image's own is in `images`): pass it again to reproduce. */
  seed: number | undefined;
  images: {
    index: number;
    seed: number | undefined;
    width: number;
    height: number;
    mediaType: string;
    /** Where the app saved it (what `onImages` returned) or the provider's URL, when there is one. */
    location?: string;
  }[];
  warnings: string[];
  /** Calls that failed while others succeeded: fewer images than asked for. */
  errors?: string[];
  /** With `maxCostUsd` or `budget`: what this call cost (actual where reported, else estimated) and what is left. */
  budget?: { costUsd: number | undefined; spentUsd: number; remainingUsd: number };
};

export type ImageGenerationToolOptions = Pick<GenerateImagesOptions, 'maxRetries' | 'concurrency' | 'providers' | 'randomSeed' | 'telemetry' | 'experimental_telemetry'> & {
  /** The model used when the language model names none: `"provider:modelId"`. @default "togetherai:black-forest-labs/FLUX.1-schnell" */
  model?: string;
  /** Models the language model may choose from (`model` is always one of them). @default [model] */
  models?: readonly string[];
  /**
   * Request fields for every call (e.g. `size`, `outputFormat`, `guidance`, `safetyChecker`); the
   * language model's arguments win where it gives the same field.
   */
  defaults?: Omit<GenerateRequest, 'prompt' | 'model'>;
  /** Most images in one call. @default 4 */
  maxCount?: number;
  /**
   * Receives the images of each call, e.g. to save or upload them; may return where each one went
   * (a path or URL, in order), which the tool reports to the language model.
   */
  onImages?: (
    images: readonly GeneratedImage[],
    context: { toolCallId: string; result: GenerateImagesResult },
  ) => void | readonly (string | undefined)[] | Promise<void | readonly (string | undefined)[]>;
  /**
   * Runs before anything is sent, with the request about to be made: throw when the images could
   * not be kept (the folder `onImages` saves to is read-only, full, or a file), and the call ends as
   * a tool error with nothing paid for. The Node entry's `checkCanKeep` is the toolkit's own check.
   * @example canKeep: ({ request }) => checkCanKeep({ folder: 'out', requests: [request], field: 'out' })
   */
  canKeep?: (context: { request: GenerateRequest; toolCallId: string }) => void | Promise<void>;
  /**
   * Show the images to the language model as media content in the tool result. Turn it off for
   * models that cannot take images in tool results. @default true
   */
  sendImagesToModel?: boolean;
  /** Replaces the tool's description. */
  description?: string;
  /**
   * The most every call of this tool together may cost, in USD, as an agent may loop: a call whose
   * estimate would pass what is left is refused as a tool error the language model can read,
   * with nothing sent. Each call is charged its actual cost where the provider reports it.
   */
  maxCostUsd?: number;
  /** A budget shared with other tools or requests, instead of `maxCostUsd`. */
  budget?: Budget;
};

type MediaPart =
  | { type: 'text'; text: string }
  | { type: 'image-data'; data: string; mediaType: string }
  | { type: 'image-url'; url: string };

const DEFAULT_MAX_COUNT = 4;

// The images behind each output object, for `toModelOutput`: the output itself stays small JSON,
// and an output that went through JSON (a chat's stored messages) simply has no bytes here.
const imagesByOutput = new WeakMap<object, readonly GeneratedImage[]>();

/**
 * An AI SDK tool that lets a language model generate images, for `generateText`, `streamText` and
 * agents. Its input schema offers what the chosen models take (from the catalog); bad arguments come
 * back as a tool error the model can read, with nothing sent; the images reach the model as media
 * content and the app through `onImages`, never as base64 text in the conversation.
 *
 * @example
 * const { text } = await generateText({
 *   model: openai('gpt-5'),
 *   tools: { generateImage: imageGenerationTool({ model: 'togetherai:black-forest-labs/FLUX.1-schnell', onImages: save }) },
 *   stopWhen: stepCountIs(3),
 *   prompt: 'Draw a lighthouse at dawn',
 * });
 */
export function imageGenerationTool(
  options: ImageGenerationToolOptions = {},
): Tool<ImageGenerationToolInput, ImageGenerationToolOutput> {
  // Each model as generateImages resolves it (a bare id gets its provider; an app's alias for a
  // provider looks up that provider's catalog); a bad reference is refused here, when the tool is made.
  const resolved = [...new Set([options.model ?? DEFAULT_MODEL, ...(options.models ?? [])])].map((reference) => {
    try {
      return resolveModelReference(reference, options.providers);
    } catch (error) {
      // A retired model keeps its own error (it names the replacement); other refusals say which option.
      if (!InvalidRequestError.isInstance(error) || RetiredModelError.isInstance(error)) throw error;
      throw new TypeError(`imageGenerationTool: model ${JSON.stringify(reference)} ${error.issues.map((issue) => issue.message).join('; ')}`);
    }
  });
  const modelReferences = [...new Set(resolved.map((model) => model.reference))] as [string, ...string[]];
  const models = modelReferences.map((reference) => resolved.find((model) => model.reference === reference)!.target.model);
  checkConcurrency(options.concurrency);
  // Bad telemetry settings are the app's mistake: refused now, not as a tool error the model reads.
  resolveTelemetry(options);
  const maxCount = options.maxCount ?? DEFAULT_MAX_COUNT;
  const sendImages = options.sendImagesToModel ?? true;
  if (options.maxCostUsd !== undefined && options.budget !== undefined) throw new TypeError('imageGenerationTool: give maxCostUsd or budget, not both');
  // One budget for the tool's life: every call an agent makes is charged to it.
  const budget = options.budget ?? (options.maxCostUsd === undefined ? undefined : new Budget({ maxUsd: options.maxCostUsd, field: 'maxCostUsd' }));

  return tool<ImageGenerationToolInput, ImageGenerationToolOutput>({
    description: options.description ?? describeTool(models, sendImages),
    inputSchema: inputSchema({ modelReferences, models, maxCount }),
    async execute(input, { toolCallId, abortSignal }) {
      const request: GenerateRequest = {
        ...options.defaults,
        ...withoutUndefined(input),
        prompt: input.prompt,
        model: input.model ?? modelReferences[0],
      };
      // Before the paid call: images onImages could not keep would be paid for and thrown away.
      await options.canKeep?.({ request, toolCallId });
      const result = await generateImages(
        request,
        {
          ...(abortSignal === undefined ? {} : { abortSignal }),
          ...(options.providers === undefined ? {} : { providers: options.providers }),
          ...(options.maxRetries === undefined ? {} : { maxRetries: options.maxRetries }),
          ...(options.concurrency === undefined ? {} : { concurrency: options.concurrency }),
          ...(options.randomSeed === undefined ? {} : { randomSeed: options.randomSeed }),
          ...(budget === undefined ? {} : { budget }),
          ...telemetryOptionsOf(options),
        },
      );
      const locations = (await options.onImages?.(result.images, { toolCallId, result })) ?? [];
      // A shared budget may have been charged by others meanwhile: the call's own cost is the result's.
      const costUsd = costOfDelivery({ actualCostUsd: result.actualCostUsd, estimatedCostUsd: result.estimatedCostUsd, delivered: result.images.length, requested: result.request.count });
      const output = {
        ...summarize(result, locations),
        ...(budget === undefined ? {} : { budget: { costUsd, spentUsd: budget.spentUsd, remainingUsd: budget.remainingUsd } }),
      };

      imagesByOutput.set(output, result.images);
      return output;
    },
    toModelOutput({ output }) {
      const text: MediaPart = { type: 'text', text: JSON.stringify(output) };
      if (!sendImages) return { type: 'content', value: [text] };
      const images = imagesByOutput.get(output);
      const parts: MediaPart[] = images
        ? images.flatMap((image): MediaPart[] => {
            return [{ type: 'image-data', data: image.base64, mediaType: image.mediaType }];
          })
        : output.images.flatMap((image): MediaPart[] =>
            image.location !== undefined && /^https?:\/\//.test(image.location) ? [{ type: 'image-url', url: image.location }] : [],
          );
      // ai 6's part types; ai 7 still takes them, but warns, so it gets its own `file` parts.
      const value = usesFileParts() ? [text, ...parts.map(toFilePart)] : [text, ...parts];
      return { type: 'content', value: value as MediaPart[] };
    },
  });
}

function inputSchema({
  modelReferences,
  models,
  maxCount,
}: {
  modelReferences: [string, ...string[]];
  models: ModelCapabilities[];
  maxCount: number;
}): z.ZodType<ImageGenerationToolInput> {
  const ratios = [...new Set(models.flatMap((model) => model.aspectRatios))] as [string, ...string[]];
  const steps = models.flatMap((model) => (model.steps ? [model.steps] : []));
  const takesImages = models.some((model) => model.imageInput.kind !== 'none');
  const takesMask = models.some((model) => model.acceptsMask === true);
  const shape = {
    prompt: z
      .string()
      .trim()
      .min(1)
      .describe('What the image shows: subject, setting, style, lighting, composition. A detailed visual description in English.'),
    ...(modelReferences.length > 1
      ? { model: z.enum(modelReferences).optional().describe(`Which image model to use. Default: ${modelReferences[0]}.`) }
      : {}),
    ...(ratios.length > 0
      ? { aspectRatio: z.enum(ratios).optional().describe('Shape of the image as width:height, e.g. 16:9 for landscape, 9:16 for a phone screen. Default: 1:1.') }
      : {}),
    count: z.number().int().min(1).max(maxCount).optional().describe(`How many images to make, 1 to ${maxCount}. Default: 1.`),
    seed: z
      .number()
      .int()
      .min(0)
      .max(MAX_SEED)
      .optional()
      .describe('Seed for reproducible results: reuse the seed of an earlier image with a changed prompt to vary it. Omit for a random one.'),
    ...(models.some((model) => model.negativePrompt)
      ? { negativePrompt: z.string().trim().min(1).optional().describe('What the image must not show, e.g. "text, watermark, blur".') }
      : {}),
    ...(steps.length > 0
      ? {
          steps: z
            .number()
            .int()
            .min(Math.min(...steps.map((range) => range.min)))
            .max(Math.max(...steps.map((range) => range.max)))
            .optional()
            .describe(`Diffusion steps: more is slower and more detailed. Default: ${steps[0]!.default}; leave it out unless asked.`),
        }
      : {}),
    ...(takesImages
      ? {
          referenceImages: z
            .array(z.string().url())
            .min(1)
            .optional()
            .describe('http(s) URLs of images to edit or to use as reference, when the user gave some.'),
        }
      : {}),
    ...(takesMask
      ? {
          mask: z
            .string()
            .url()
            .optional()
            .describe('http(s) URL of a mask for the first reference image, when the user gave one: white (or transparent) where to repaint, black where to keep.'),
        }
      : {}),
  };
  return z.strictObject(shape) as unknown as z.ZodType<ImageGenerationToolInput>;
}

function describeTool(models: ModelCapabilities[], sendImages: boolean): string {
  // Display names carry their own parentheses ("FLUX.1 [schnell] (Turbo)"): named after "with", not inside more.
  const displayNames = models.map((model) => model.displayName);
  const names = displayNames.length > 1 ? `${displayNames.slice(0, -1).join(', ')} or ${displayNames.at(-1)}` : (displayNames[0] ?? '');
  return (
    `Generate images from a text description with ${names}. ` +
    `Returns the size, seed and location of each image${sendImages ? ', and shows you the images' : ''}. ` +
    'Write the prompt as a detailed visual description; ask for several images only when the user wants options.'
  );
}

function summarize(result: GenerateImagesResult, locations: readonly (string | undefined)[]): ImageGenerationToolOutput {
  const first = result.images[0];
  return {
    model: result.request.model,
    count: result.images.length,
    size: first ? `${first.width}x${first.height}` : (result.request.size ?? ''),
    seed: result.request.seed,
    images: result.images.map((image, position) => {
      const location = locations[position];
      return {
        index: image.index,
        seed: image.seed,
        width: image.width,
        height: image.height,
        mediaType: image.mediaType,
        ...(location === undefined ? {} : { location }),
      };
    }),
    warnings: result.warnings.map((warning) => warning.message),
    ...(result.errors.length > 0 ? { errors: result.errors.map((error) => error.message) } : {}),
  };
}

function withoutUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

let fileParts: boolean | undefined;

/**
 * Whether the installed `ai` is 7 or later, where media in tool results are `file` parts (`image-data`
 * is a deprecated alias there and ai 6 has no `file`). ai 7's `wrapImageModel` returns a v4 model.
 */
function usesFileParts(): boolean {
  fileParts ??=
    (wrapImageModel({
      model: {
        specificationVersion: 'v3',
        provider: 'probe',
        modelId: 'probe',
        maxImagesPerCall: 1,
        doGenerate: () => Promise.reject(new Error('never called')),
      },
      middleware: { specificationVersion: 'v3' },
    }).specificationVersion as string) !== 'v3';
  return fileParts;
}

function toFilePart(part: MediaPart): unknown {
  if (part.type === 'image-data') return { type: 'file', mediaType: part.mediaType, data: { type: 'data', data: part.data } };
  if (part.type === 'image-url') return { type: 'file', mediaType: 'image', data: { type: 'url', url: new URL(part.url) } };
  return part;
}
