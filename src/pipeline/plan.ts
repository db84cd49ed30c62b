import { imagesPerCall } from '../shared/capabilities.js';
import { estimateCost, isLiveModel, liveModelList, resolveModel, type ModelCapabilities } from '../models/catalog.js';
import { InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import { modelTypoIssue, unknownProviderMessage } from '../models/did-you-mean.js';
import { dimensionsForRatio, nearestAspectRatio, RATIO_DIMENSIONS, SIZE_PRESETS } from '../shared/sizing.js';
import { describeReference } from './load.js';
import type { ReferenceImage } from '../shared/plan.js';
import { deriveSeed, randomSeed } from '../util/random.js';
import type { ParsedRequest } from './parse.js';

/**
 * Stage 3, plan: the catalog's rules applied to a parsed request and its loaded images. Pure and
 * synchronous: every call is decided here, every option the model does not take is dropped with a
 * warning or refused with an issue, and nothing after this stage decides anything about the request.
 */

export type { ImagegenWarning, Plan, PlannedCall, ResolvedRequest, Target } from '../shared/plan.js';
import type { ImagegenWarning, Plan, PlannedCall, ResolvedRequest, Target } from '../shared/plan.js';

/**
 * Finds the catalog entry for the request's model. An unknown provider is refused at once; an
 * unknown id is a typo (an issue) or a model the catalog does not know yet (a warning).
 */
export function resolveTarget(
  reference: string,
  options: {
    /** Provider names that can be resolved (built-in and given); `'*'` accepts any (a registry). */
    knownProviders: readonly string[];
    /** The provider's canonical name for catalog look-ups, when the app named it differently. */
    catalogProvider?: string | undefined;
  },
): { target: Target; issues: RequestIssue[]; warnings: ImagegenWarning[] } {
  const separator = reference.indexOf(':');
  const provider = reference.slice(0, separator);
  const modelId = reference.slice(separator + 1);
  if (!options.knownProviders.includes(provider) && !options.knownProviders.includes('*')) {
    throw new InvalidRequestError({ issues: [{ field: 'model', value: reference, message: unknownProviderMessage(provider, options.knownProviders) }] });
  }
  const catalogProvider = options.catalogProvider ?? provider;
  const model = resolveModel(catalogProvider, modelId);
  const issues: RequestIssue[] = [];
  const warnings: ImagegenWarning[] = [];
  if (!model.known) {
    const live = liveModelList(catalogProvider);
    const typo = modelTypoIssue({ reference, provider, catalogProvider, modelId });
    if (live !== undefined && isLiveModel(catalogProvider, modelId)) {
      warnings.push(warning('model', `${reference} is listed by ${catalogProvider} (refreshed ${live.fetchedAt}) but not in this release's catalog; using generic ${provider} capabilities, unchecked`));
    } else if (typo !== undefined) {
      issues.push(typo);
    } else {
      warnings.push(warning('model', `${reference} is not in the catalog; using generic ${provider} capabilities, unchecked`));
    }
  }
  return { target: { provider, modelId, model }, issues, warnings };
}

/**
 * The reference images a request gives, checked against how many the model takes before any is
 * read: a model that takes none gets none loaded.
 */
export function referenceInputs(parsed: ParsedRequest, model: ModelCapabilities): { inputs: (string | Uint8Array)[]; issues: RequestIssue[] } {
  const given = parsed.referenceImages;
  const inputs = given === undefined ? [] : Array.isArray(given) ? given : [given];
  const input = model.imageInput;
  if (inputs.length > 0 && input.kind === 'none') {
    return {
      inputs: [],
      issues: [{ field: 'referenceImages', value: inputs.map(describeReference), message: `${model.displayName} takes no input images; \`imagegen models\` lists the models that do (the "inputs" column)` }],
    };
  }
  if (input.kind !== 'none' && inputs.length > input.max) {
    return {
      inputs: [],
      issues: [{ field: 'referenceImages', value: inputs.map(describeReference), message: `${model.displayName} takes at most ${input.max} input image${input.max > 1 ? 's' : ''} (${input.kind})` }],
    };
  }
  return { inputs, issues: [] };
}

export type PlanOptions = {
  /** Source of random seeds when the request has none. `false`: choose none (the raw `imageModel()` door). @default crypto.getRandomValues */
  randomSeed?: (() => number) | false | undefined;
};

/**
 * Applies the target model's rules to a parsed request: sizes, ranges, options the model does not
 * take, the seed, and how the count is split into calls. Returns the plan with the issues found.
 */
export function planGeneration(
  parsed: ParsedRequest,
  { provider, modelId, model }: Target,
  referenceImages: readonly ReferenceImage[],
  options: PlanOptions = {},
): { plan: Plan; issues: RequestIssue[] } {
  const issues: RequestIssue[] = [];
  const warnings: ImagegenWarning[] = [];
  const warn: Warn = (field, message) => warnings.push(warning(field, message));

  const { width, height, sizing } = resolveSize(parsed, model, issues, warn);
  const steps = checkRange('steps', parsed.steps, model.steps, model, issues, warn);
  const guidance = checkRange('guidance', parsed.guidance, model.guidance, model, issues, warn);
  const negativePrompt = takenOrDropped(parsed.negativePrompt, model.negativePrompt, () => warn('negativePrompt', `${model.displayName} takes no negative prompt; it was not sent`));
  const promptUpsampling = takenOrDropped(parsed.promptUpsampling, model.promptUpsampling === true, () =>
    warn('promptUpsampling', `${model.displayName} takes no prompt upsampling switch; it was not sent`),
  );
  const loras = checkLoras(parsed.loras, model, issues);

  let disableSafetyChecker = !parsed.safetyChecker;
  if (disableSafetyChecker && !model.safetyCheckerCanBeDisabled) {
    warn('safetyChecker', `the safety checker cannot be disabled on ${model.displayName}; it stays on`);
    disableSafetyChecker = false;
  }
  if (parsed.responseFormat === 'url' && model.provider !== 'togetherai') {
    issues.push({ field: 'responseFormat', value: 'url', message: `only Together returns image URLs; ${model.provider} returns bytes (use "base64")` });
  }
  if (parsed.outputFormat !== undefined && !model.outputFormats.includes(parsed.outputFormat)) {
    issues.push({ field: 'outputFormat', value: parsed.outputFormat, message: `${model.displayName} outputs ${model.outputFormats.join(' or ')}` });
  }

  let seed = parsed.seed;
  if (seed !== undefined && !model.acceptsSeed) {
    warn('seed', `${model.displayName} takes no seed; it was not sent, so results are not reproducible`);
    seed = undefined;
  } else if (seed === undefined && model.acceptsSeed && options.randomSeed !== false) {
    // A seed we choose and record makes every image reproducible from its sidecar.
    seed = (options.randomSeed ?? randomSeed)();
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

  const plan: Plan = {
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
    calls: splitCalls(parsed.count, model, seed),
    warnings,
    strict: parsed.strict,
    resolved,
    estimatedCostUsd: estimateCost({ model, width, height, images: parsed.count, steps }),
  };
  return { plan, issues };
}

/**
 * The count as calls of at most the model's per-call limit. Later calls get the seed moved on, so a
 * count spread over calls does not repeat images.
 */
function splitCalls(count: number, model: ModelCapabilities, seed: number | undefined): PlannedCall[] {
  const perCall = imagesPerCall(model);
  const calls: PlannedCall[] = [];
  for (let firstIndex = 0; firstIndex < count; firstIndex += perCall) {
    calls.push({ n: Math.min(perCall, count - firstIndex), seed: seed === undefined ? undefined : deriveSeed(seed, firstIndex), firstIndex });
  }
  return calls;
}

/**
 * The warning for a model its provider retired, naming the replacement. Not a change the toolkit
 * made, so strict mode lets it through: a deprecated model still runs.
 */
export function deprecationWarning({ provider, model, resolved }: Plan): ImagegenWarning | undefined {
  if (model.deprecated === undefined) return undefined;
  const { status, date, replacement } = model.deprecated;
  const when = date === undefined ? '' : ` on ${date}`;
  const what =
    status === 'removed' ? `was removed from ${provider}'s serverless models${when}` : status === 'deprecated' ? `was deprecated${when}` : `is no longer in ${provider}'s model tables`;
  return warning('model', `${resolved.model} ${what}; use ${replacement.replace(/^[^:]+:/, `${provider}:`)} instead`);
}

type Warn = (field: string | undefined, message: string) => void;

function warning(field: string | undefined, message: string): ImagegenWarning {
  return { source: 'imagegen', ...(field === undefined ? {} : { field }), message };
}

/** The value when the model takes it; else `undefined`, after `drop` says so. */
function takenOrDropped<Value>(value: Value | undefined, taken: boolean, drop: () => void): Value | undefined {
  if (value === undefined || taken) return value;
  drop();
  return undefined;
}

function checkLoras(loras: ParsedRequest['loras'], model: ModelCapabilities, issues: RequestIssue[]): ParsedRequest['loras'] {
  if (loras === undefined || loras.length <= model.maxLoras) return loras;
  issues.push({
    field: 'loras',
    value: loras.length,
    message: model.maxLoras === 0 ? `${model.displayName} takes no LoRAs` : `${model.displayName} takes at most ${model.maxLoras} LoRAs`,
  });
  return undefined;
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

function ratioOf(ratio: string): number {
  const [width, height] = ratio.split(':').map(Number) as [number, number];
  return width / height;
}
