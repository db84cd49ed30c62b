import { imageSize } from 'image-size';
import { DEFAULT_MAX_INPUT_IMAGE_BYTES, RATIO_DIMENSIONS, estimateCost, liveModelList, resolveModel, type ModelCapabilities } from './catalog.js';
import { InvalidRequestError, type RequestIssue } from './errors.js';
import { modelTypoIssue, unknownProviderMessage } from './did-you-mean.js';
import { dimensionsForRatio, nearestAspectRatio } from './sizing.js';
import { MAX_SEED, SIZE_PRESETS, parseRequest, type GenerateRequest, type ParsedRequest } from './request.js';

/** A warning from the toolkit (an option dropped or changed) or passed on from the provider. */
export type ImagegenWarning = {
  source: 'imagegen' | 'provider';
  /** The request field it is about, when it is about one. */
  field?: string;
  message: string;
};

/** A reference image, loaded and checked. */
export type ReferenceImage = {
  /** Where it came from: the path or URL given, or `"<bytes>"`. */
  source: string;
  /** Set for http(s) URLs, which are passed on as they are. */
  url?: string;
  /** Set for files, data URLs and bytes. */
  data?: Uint8Array;
  mediaType?: string;
};

/** The request as resolved: feeding it back to `generateImages` reproduces the images. */
export type ResolvedRequest = {
  prompt: string;
  model: string;
  size?: string;
  aspectRatio?: string;
  count: number;
  steps?: number;
  seed?: number;
  negativePrompt?: string;
  guidance?: number;
  referenceImages?: string[];
  loras?: { path: string; scale: number }[];
  safetyChecker: boolean;
  promptUpsampling?: boolean;
  outputFormat?: 'png' | 'jpeg';
  responseFormat?: 'url';
  providerOptions?: Record<string, Record<string, unknown>>;
};

/** One provider call: `n` images, with the seed sent for it. */
export type PlannedCall = { n: number; seed: number | undefined; firstIndex: number };

/** Everything needed to map and send a request, decided before anything is sent. */
export type Plan = {
  provider: string;
  modelId: string;
  model: ModelCapabilities;
  prompt: string;
  /** The size the images are expected to have. */
  width: number;
  height: number;
  /** What is sent: `size` for models sized by dimensions, `aspectRatio` for the others. */
  sizing: { size: `${number}x${number}` } | { aspectRatio: `${number}:${number}` };
  steps: number | undefined;
  negativePrompt: string | undefined;
  guidance: number | undefined;
  loras: { path: string; scale: number }[] | undefined;
  disableSafetyChecker: boolean;
  /** Sent only when the request set it and the model takes it (Together FLUX.2 defaults it on). */
  promptUpsampling: boolean | undefined;
  outputFormat: 'png' | 'jpeg' | undefined;
  /** `url`: keep the provider's URLs instead of bytes (Together only). */
  responseFormat: 'base64' | 'url';
  referenceImages: ReferenceImage[];
  providerOptions: Record<string, Record<string, unknown>> | undefined;
  calls: PlannedCall[];
  warnings: ImagegenWarning[];
  /** Dropped or changed options are errors (the request's `strict`). */
  strict: boolean;
  resolved: ResolvedRequest;
  estimatedCostUsd: number | undefined;
  abortSignal: AbortSignal | undefined;
};

export type PlanOptions = {
  /** Provider names that can be resolved (built-in and given); `'*'` accepts any (a registry). */
  knownProviders: readonly string[];
  /** The provider's canonical name for catalog look-ups, when the app named it differently. */
  catalogProvider?: string | undefined;
  /** Reads a reference image given as a file path (Node entry); without it, paths are rejected. */
  /** Reads a reference image file, refusing one over `maxBytes` (the model's input limit). */
  readFile?: ((path: string, options: { maxBytes: number }) => Promise<Uint8Array>) | undefined;
  /** Source of random seeds, for tests. @default crypto.getRandomValues */
  randomSeed?: (() => number) | undefined;
};

/**
 * Validates a request against the catalog and decides every call. Throws one
 * `InvalidRequestError` listing every problem; sends nothing.
 */
export async function planGeneration(request: GenerateRequest, options: PlanOptions): Promise<Plan> {
  const { parsed, issues } = parseCollectingIssues(request);
  const warnings: ImagegenWarning[] = [];
  const warn = (field: string | undefined, message: string) =>
    warnings.push({ source: 'imagegen', ...(field === undefined ? {} : { field }), message });

  const separator = parsed.model.indexOf(':');
  const provider = parsed.model.slice(0, separator);
  const modelId = parsed.model.slice(separator + 1);
  if (!options.knownProviders.includes(provider) && !options.knownProviders.includes('*')) {
    issues.push({ field: 'model', value: parsed.model, message: unknownProviderMessage(provider, options.knownProviders) });
    throw new InvalidRequestError({ issues });
  }
  const catalogProvider = options.catalogProvider ?? provider;
  const model = resolveModel(catalogProvider, modelId);
  if (!model.known) {
    const live = liveModelList(catalogProvider);
    const typo = modelTypoIssue({ reference: parsed.model, provider, catalogProvider, modelId });
    if (live?.models.some((listed) => listed.id === modelId)) {
      warn('model', `${parsed.model} is listed by ${catalogProvider} (refreshed ${live.fetchedAt}) but not in this release's catalog; using generic ${provider} capabilities, unchecked`);
    } else if (typo !== undefined) {
      issues.push(typo);
    } else {
      warn('model', `${parsed.model} is not in the catalog; using generic ${provider} capabilities, unchecked`);
    }
  }

  const { width, height, sizing } = resolveSize(parsed, model, issues, warn);
  const steps = checkRange('steps', parsed.steps, model.steps, model, issues, warn);
  const guidance = checkRange('guidance', parsed.guidance, model.guidance, model, issues, warn);

  let negativePrompt = parsed.negativePrompt;
  if (negativePrompt !== undefined && !model.negativePrompt) {
    warn('negativePrompt', `${model.displayName} takes no negative prompt; it was not sent`);
    negativePrompt = undefined;
  }

  let loras = parsed.loras;
  if (loras !== undefined && loras.length > model.maxLoras) {
    issues.push({
      field: 'loras',
      value: loras.length,
      message:
        model.maxLoras === 0
          ? `${model.displayName} takes no LoRAs`
          : `${model.displayName} takes at most ${model.maxLoras} LoRAs`,
    });
    loras = undefined;
  }

  let promptUpsampling = parsed.promptUpsampling;
  if (promptUpsampling !== undefined && !model.promptUpsampling) {
    warn('promptUpsampling', `${model.displayName} takes no prompt upsampling switch; it was not sent`);
    promptUpsampling = undefined;
  }

  let disableSafetyChecker = !parsed.safetyChecker;
  if (disableSafetyChecker && !model.safetyCheckerCanBeDisabled) {
    warn('safetyChecker', `the safety checker cannot be disabled on ${model.displayName}; it stays on`);
    disableSafetyChecker = false;
  }

  if (parsed.responseFormat === 'url' && model.provider !== 'togetherai') {
    issues.push({ field: 'responseFormat', value: 'url', message: `only Together returns image URLs; ${model.provider} returns bytes (use "base64")` });
  }
  if (parsed.outputFormat !== undefined && !model.outputFormats.includes(parsed.outputFormat)) {
    issues.push({
      field: 'outputFormat',
      value: parsed.outputFormat,
      message: `${model.displayName} outputs ${model.outputFormats.join(' or ')}`,
    });
  }

  const referenceInputs =
    parsed.referenceImages === undefined
      ? []
      : Array.isArray(parsed.referenceImages)
        ? parsed.referenceImages
        : [parsed.referenceImages];
  if (referenceInputs.length > 0 && model.imageInput.kind === 'none') {
    issues.push({
      field: 'referenceImages',
      value: referenceInputs.map(describeReference),
      message: `${model.displayName} takes no input images; \`imagegen models\` lists the models that do (the "inputs" column)`,
    });
  } else if (model.imageInput.kind !== 'none' && referenceInputs.length > model.imageInput.max) {
    issues.push({
      field: 'referenceImages',
      value: referenceInputs.map(describeReference),
      message: `${model.displayName} takes at most ${model.imageInput.max} input image${model.imageInput.max > 1 ? 's' : ''} (${model.imageInput.kind})`,
    });
  }
  const referenceImages =
    model.imageInput.kind === 'none' ? [] : await loadReferenceImages(referenceInputs, options.readFile, issues, model);

  let seed = parsed.seed;
  if (seed !== undefined && !model.acceptsSeed) {
    warn('seed', `${model.displayName} takes no seed; it was not sent, so results are not reproducible`);
    seed = undefined;
  } else if (seed === undefined && model.acceptsSeed) {
    // A seed we choose and record makes every image reproducible from its sidecar.
    seed = (options.randomSeed ?? randomSeed)();
  }

  if (parsed.strict) {
    for (const warning of warnings) {
      issues.push({
        field: warning.field ?? 'model',
        value: warning.field === undefined ? parsed.model : (parsed as Record<string, unknown>)[warning.field],
        message: `${warning.message} (strict mode turns this into an error)`,
      });
    }
  }
  if (issues.length > 0) throw new InvalidRequestError({ issues });
  // After the strict check: a deprecated model still runs, strict or not; the warning says what to move to.
  if (model.deprecated !== undefined) {
    const { status, date, replacement } = model.deprecated;
    const when = date === undefined ? '' : ` on ${date}`;
    const what = status === 'removed' ? `was removed from ${provider}'s serverless models${when}` : status === 'deprecated' ? `was deprecated${when}` : `is no longer in ${provider}'s model tables`;
    warn('model', `${parsed.model} ${what}; use ${replacement.replace(/^[^:]+:/, `${provider}:`)} instead`);
  }

  const perCall = model.acceptsN ? model.maxImagesPerCall : 1;
  const calls: PlannedCall[] = [];
  for (let firstIndex = 0; firstIndex < parsed.count; firstIndex += perCall) {
    const n = Math.min(perCall, parsed.count - firstIndex);
    // Later calls get the seed moved on, so a count spread over calls does not repeat images.
    calls.push({ n, seed: seed === undefined ? undefined : deriveSeed(seed, firstIndex), firstIndex });
  }

  const resolved: ResolvedRequest = {
    prompt: parsed.prompt,
    model: parsed.model,
    ...('size' in sizing ? { size: sizing.size } : { aspectRatio: sizing.aspectRatio }),
    count: parsed.count,
    ...(steps === undefined ? {} : { steps }),
    ...(seed === undefined ? {} : { seed }),
    ...(negativePrompt === undefined ? {} : { negativePrompt }),
    ...(guidance === undefined ? {} : { guidance }),
    ...(referenceImages.length === 0 ? {} : { referenceImages: referenceImages.map((image) => image.source) }),
    ...(loras === undefined ? {} : { loras }),
    safetyChecker: !disableSafetyChecker,
    ...(promptUpsampling === undefined ? {} : { promptUpsampling }),
    ...(parsed.outputFormat === undefined ? {} : { outputFormat: parsed.outputFormat }),
    ...(parsed.responseFormat === 'url' ? { responseFormat: 'url' as const } : {}),
    ...(parsed.providerOptions === undefined ? {} : { providerOptions: parsed.providerOptions }),
  };

  return {
    provider,
    modelId,
    model,
    prompt: parsed.prompt,
    width,
    height,
    sizing,
    steps,
    negativePrompt,
    guidance,
    loras,
    disableSafetyChecker,
    promptUpsampling,
    outputFormat: parsed.outputFormat,
    responseFormat: parsed.responseFormat,
    referenceImages,
    providerOptions: parsed.providerOptions,
    calls,
    warnings,
    strict: parsed.strict,
    resolved,
    estimatedCostUsd: estimateCost({ model, width, height, images: parsed.count, steps }),
    abortSignal: parsed.abortSignal,
  };
}

type Warn = (field: string | undefined, message: string) => void;

/**
 * Parses the request; when fields fail, parses again without them so the catalog checks still run
 * on the rest, and every problem is reported in one error.
 */
function parseCollectingIssues(request: GenerateRequest): { parsed: ParsedRequest; issues: RequestIssue[] } {
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

function resolveSize(
  parsed: ParsedRequest,
  model: ModelCapabilities,
  issues: RequestIssue[],
  warn: Warn,
): Pick<Plan, 'width' | 'height' | 'sizing'> {
  const limits = model.dimensions;
  let width = limits.default.width;
  let height = limits.default.height;
  let field: 'size' | 'aspectRatio' | undefined;
  if (parsed.size !== undefined) {
    field = 'size';
    const preset = SIZE_PRESETS[parsed.size as keyof typeof SIZE_PRESETS];
    [width, height] = preset ? [preset.width, preset.height] : parsed.size.split('x').map(Number) as [number, number];
    const problems = [checkSide('width', width, limits), checkSide('height', height, limits)].filter(Boolean);
    if (model.allowedSizes !== undefined && !model.allowedSizes.includes(`${width}x${height}`)) {
      issues.push({ field: 'size', value: parsed.size, message: `${model.displayName} takes only ${model.allowedSizes.join(', ')}` });
    } else if (problems.length > 0) {
      issues.push({ field: 'size', value: parsed.size, message: `${problems.join('; ')} for ${model.displayName}` });
    }
  } else if (parsed.aspectRatio !== undefined) {
    field = 'aspectRatio';
    ({ width, height } = dimensionsForRatio(parsed.aspectRatio, limits));
    if (model.allowedSizes !== undefined && !model.allowedSizes.includes(`${width}x${height}`)) {
      // The listed size nearest in shape, at the default size's scale (the list's first tier).
      const sizes = model.allowedSizes.map((size) => size.split('x').map(Number) as [number, number]);
      const area = limits.default.width * limits.default.height;
      const target = ratioOf(parsed.aspectRatio);
      const [best] = [...sizes].sort(
        (a, b) => Math.abs(Math.log(a[0] / a[1] / target)) - Math.abs(Math.log(b[0] / b[1] / target)) || Math.abs(a[0] * a[1] - area) - Math.abs(b[0] * b[1] - area),
      );
      [width, height] = best!;
      // The docs call 1536x672 "21:9": listed sizes are rounded to multiples of 8, so allow a few percent.
      if (Math.abs(Math.log(width / height / target)) > 0.03) {
        warn('aspectRatio', `${model.displayName} takes only listed sizes; sent ${width}x${height}, the nearest to ${parsed.aspectRatio}`);
      }
      return { width, height, sizing: { size: `${width}x${height}` } };
    }
  }

  if (model.sizing === 'aspect-ratio') {
    const ratio = nearestAspectRatio(width / height, model.aspectRatios);
    const table = RATIO_DIMENSIONS[ratio] ?? limits.default;
    if (field === 'size' && (table.width !== width || table.height !== height)) {
      warn('size', `${model.displayName} is sized by aspect ratio; sent aspect_ratio ${ratio} (about ${table.width}x${table.height}) instead of ${width}x${height}`);
    } else if (field === 'aspectRatio' && ratio !== parsed.aspectRatio) {
      warn('aspectRatio', `${model.displayName} takes ${model.aspectRatios.join(', ')}; sent the nearest, ${ratio}, instead of ${parsed.aspectRatio}`);
    }
    return { width: table.width, height: table.height, sizing: { aspectRatio: ratio as `${number}:${number}` } };
  }

  if (field === 'aspectRatio' && RATIO_DIMENSIONS[parsed.aspectRatio!] === undefined) {
    warn('aspectRatio', `${parsed.aspectRatio} is not in the dimension table; sent ${width}x${height}, the nearest multiple of ${limits.multipleOf} at about one megapixel`);
  }
  return { width, height, sizing: { size: `${width}x${height}` } };
}

function checkSide(name: string, value: number, limits: ModelCapabilities['dimensions']): string | undefined {
  if (value % limits.multipleOf !== 0 || value < limits.min || value > limits.max) {
    return `${name} ${value} must be a multiple of ${limits.multipleOf} from ${limits.min} to ${limits.max}`;
  }
  return undefined;
}

function checkRange(
  field: 'steps' | 'guidance',
  value: number | undefined,
  range: { min: number; max: number } | undefined,
  model: ModelCapabilities,
  issues: RequestIssue[],
  warn: Warn,
): number | undefined {
  if (value === undefined) return undefined;
  if (range === undefined) {
    warn(field, `${model.displayName} takes no ${field}; it was not sent`);
    return undefined;
  }
  if (value < range.min || value > range.max) {
    issues.push({ field, value, message: `must be from ${range.min} to ${range.max} for ${model.displayName}` });
    return undefined;
  }
  return value;
}

async function loadReferenceImages(
  inputs: readonly (string | Uint8Array)[],
  readFile: PlanOptions['readFile'],
  issues: RequestIssue[],
  model: ModelCapabilities,
): Promise<ReferenceImage[]> {
  const maxBytes = model.maxInputImageBytes ?? DEFAULT_MAX_INPUT_IMAGE_BYTES;
  const images: ReferenceImage[] = [];
  for (const [index, input] of inputs.entries()) {
    const field = inputs.length > 1 ? `referenceImages.${index}` : 'referenceImages';
    const source = describeReference(input);
    if (typeof input === 'string' && /^https?:\/\//i.test(input)) {
      images.push({ source, url: input });
      continue;
    }
    let data: Uint8Array;
    if (typeof input !== 'string') {
      data = input;
    } else if (input.startsWith('data:')) {
      const match = /^data:([^;,]*)(;base64)?,(.*)$/s.exec(input);
      if (!match?.[2]) {
        issues.push({ field, value: source, message: 'must be a base64 data URL (data:image/png;base64,...)' });
        continue;
      }
      try {
        data = Uint8Array.from(atob(match[3]!), (character) => character.charCodeAt(0));
      } catch {
        issues.push({ field, value: source, message: 'is a data URL with invalid base64' });
        continue;
      }
    } else if (readFile === undefined) {
      issues.push({ field, value: source, message: 'file paths need the Node entry (ai-imagegen/node); pass a URL, data URL or bytes here' });
      continue;
    } else {
      try {
        data = await readFile(input, { maxBytes });
      } catch (error) {
        // The Node reader's own refusals (not a regular file, over the size limit) say what is wrong.
        const message = (error as Error | undefined)?.name === 'ReferenceFileError' ? (error as Error).message : 'file does not exist or cannot be read';
        issues.push({ field, value: source, message });
        continue;
      }
    }
    if (data.length > maxBytes) {
      const megabytes = (bytes: number) => `${(bytes / 1024 / 1024).toFixed(1)} MB`;
      issues.push({ field, value: source, message: `is ${megabytes(data.length)}, over the ${megabytes(maxBytes)} ${model.displayName} takes for an input image` });
      continue;
    }
    const mediaType = sniffImage(data);
    if (mediaType === undefined) {
      issues.push({ field, value: source, message: 'is not an image (PNG, JPEG, WebP or GIF expected)' });
      continue;
    }
    images.push({ source, data, mediaType });
  }
  return images;
}

/** The media type of image bytes, or `undefined` when they are not an image we can read. */
export function sniffImage(data: Uint8Array): string | undefined {
  try {
    const { type } = imageSize(data);
    const types: Record<string, string> = { png: 'image/png', jpg: 'image/jpeg', webp: 'image/webp', gif: 'image/gif' };
    return type === undefined ? undefined : types[type];
  } catch {
    return undefined;
  }
}

function describeReference(input: string | Uint8Array): string {
  if (typeof input !== 'string') return '<bytes>';
  if (input.startsWith('data:')) return `${input.slice(0, Math.min(input.indexOf(',') + 1, 40))}...`;
  return input;
}

/** The seed of the call whose first image has index `index`: moved on by the index, wrapping within 0..MAX_SEED. */
export function deriveSeed(seed: number, index: number): number {
  return (seed + index) % (MAX_SEED + 1);
}

function ratioOf(ratio: string): number {
  const [width, height] = ratio.split(':').map(Number) as [number, number];
  return width / height;
}

function randomSeed(): number {
  const value = new Uint32Array(1);
  crypto.getRandomValues(value);
  return value[0]! % (MAX_SEED + 1);
}
