import type { JSONValue, SharedV3Warning } from '@ai-sdk/provider';
import { bytesToBase64 } from '../util/base64.js';
import { imagesPerCall, type Capabilities, type LiveModel, type ModelCapabilities } from '../shared/capabilities.js';
import type { AnyImageModel } from '../shared/model-version.js';
import type { ImagegenWarning, Plan, PlannedCall } from '../shared/plan.js';

/** What the toolkit hands to `generateImage` for one provider call (model and abort signal aside). */
export type ProviderCall = {
  /** `mask`: in the provider's form (`maskAs`), with the image it repaints first in `images`. */
  prompt: string | { text: string; images: (string | Uint8Array)[]; mask?: string | Uint8Array };
  n: number;
  maxImagesPerCall: number;
  size?: `${number}x${number}`;
  aspectRatio?: `${number}:${number}`;
  seed?: number;
  providerOptions: Record<string, Record<string, JSONValue>>;
};

/** What a provider says about one image beyond its bytes. */
export type ImageMetadata = { seed?: number; id?: string; timings?: { inference?: number } } | undefined;

/** A provider's mapping of one call: the arguments, and the warnings for what it changed (a size snapped). */
export type MappedArgs = { args: ProviderCall; warnings: ImagegenWarning[] };

/** Everything the toolkit knows about one provider. One file each, under `src/providers/`. */
export type ProviderAdapter = {
  /** Name in `"provider:modelId"` and the catalog. */
  name: string;
  /** The AI SDK `providerOptions` key. */
  optionsKey: string;
  /** Where the built-in provider finds its key, first one preferred. */
  environmentVariables: readonly string[];
  /** Its catalog: what each of its models takes. */
  models: readonly ModelCapabilities[];
  /** What an id not in `models` is assumed to take (the generic fallback when absent). */
  genericCapabilities?: Capabilities;
  /** Builds the model from the environment (key, base URL). Throws `MissingApiKeyError`. */
  createModel(modelId: string): AnyImageModel | Promise<AnyImageModel>;
  /**
   * What the provider said per image beyond the bytes, where its AI SDK package drops it (Together:
   * the response id and timings, carried in a response header by the toolkit's own `fetch`). The
   * default reads `providerMetadata[key].images[i]`.
   */
  imageMetadata?(call: { response: { headers?: Record<string, string> } | undefined; providerMetadata: Record<string, unknown> }): ImageMetadata[] | undefined;
  /** Response headers the toolkit's `fetch` added for `imageMetadata`, taken out of the result's responses. */
  privateHeaders?: readonly string[];
  /** Stage 4, map: a plan's call as `generateImage` arguments, with what it had to change. Pure. */
  mapCall(plan: Plan, call: PlannedCall): MappedArgs;
  /** Drops warnings the AI SDK provider is known to raise wrongly for calls the toolkit made. */
  filterWarnings?(warnings: readonly SharedV3Warning[]): SharedV3Warning[];
  /** Reads the provider's live list of image models, where it has one (`imagegen models --refresh`). */
  listModels?(options: { fetch: typeof globalThis.fetch; apiKey?: string | undefined; baseURL?: string | undefined; abortSignal?: AbortSignal | undefined }): Promise<LiveModel[]>;
};

/** Maps a plan onto the AI SDK's standard options only: for providers without an adapter of their own. */
export function genericAdapter(name: string): ProviderAdapter {
  return {
    name,
    optionsKey: name,
    environmentVariables: [],
    models: [],
    createModel() {
      throw new Error(`no built-in ${name} provider; pass one in options.providers`);
    },
    mapCall(plan, call) {
      const images = imageInputs(plan);
      const args: ProviderCall = {
        prompt: images.length > 0 ? { text: plan.prompt, images } : plan.prompt,
        n: call.n,
        maxImagesPerCall: imagesPerCall(plan.model),
        ...('size' in plan.sizing ? { size: plan.sizing.size } : { aspectRatio: plan.sizing.aspectRatio }),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
        providerOptions: plan.providerOptions?.[name] ? { [name]: plan.providerOptions[name] as Record<string, JSONValue> } : {},
      };
      return { args, warnings: [] };
    },
  };
}

/** The plan's input images as AI SDK packages take them: URLs as given, files as their bytes. */
export function imageInputs(plan: Plan): (string | Uint8Array)[] {
  return plan.referenceImages.map((image) => (image.kind === 'url' ? image.url : image.data));
}

/** A toolkit warning about `field`, for `mapCall`. */
export function mapWarning(field: string, message: string): ImagegenWarning {
  return { type: 'other', source: 'imagegen', field, message };
}

/** `"image/png"` → data URL of the bytes. */
export function toDataUrl(data: Uint8Array, mediaType: string): string {
  return `data:${mediaType};base64,${bytesToBase64(data)}`;
}

/** Reads an environment variable where there is an environment (not on every edge runtime). */
export function readEnvironment(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}

/** Reports an option a provider's mapping dropped or changed. */
export type Warn = (field: string, message: string) => void;

/**
 * A `mapCall` written as a function of the plan, the call and `warn`: the warnings it gives are
 * returned with the arguments (reported once per request by the map stage).
 */
export function withWarnings(map: (plan: Plan, call: PlannedCall, warn: Warn) => ProviderCall): (plan: Plan, call: PlannedCall) => MappedArgs {
  return (plan, call) => {
    const warnings: ImagegenWarning[] = [];
    const args = map(plan, call, (field, message) => warnings.push(mapWarning(field, message)));
    return { args, warnings };
  };
}
