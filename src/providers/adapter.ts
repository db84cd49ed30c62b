import type { ImageModelV3, ImageModelV3CallOptions, JSONValue, SharedV3Warning } from '@ai-sdk/provider';
import type { LiveModel, ModelCapabilities } from '../catalog.js';
import type { AnyImageModel } from '../model-version.js';
import type { Plan, PlannedCall } from '../plan.js';

/** What the toolkit hands to `generateImage` for one provider call (model and abort signal aside). */
export type ProviderCall = {
  prompt: string | { text: string; images: (string | Uint8Array)[] };
  n: number;
  maxImagesPerCall: number;
  size?: `${number}x${number}`;
  aspectRatio?: `${number}:${number}`;
  seed?: number;
  providerOptions: Record<string, Record<string, JSONValue>>;
};

/** What a provider's raw response said that the AI SDK drops (Together: `id`, `timings`). */
export type ResponseDetails = {
  id?: string;
  timings?: ({ inference?: number } | undefined)[];
  /** Image URLs, when the provider answered with URLs instead of bytes. */
  urls?: (string | undefined)[];
};

/** Called with each successful raw response body, where the toolkit built the provider itself. */
export type ResponseCapture = (details: ResponseDetails) => void;

/** Everything the toolkit knows about one provider. One file each, under `src/providers/`. */
export type ProviderAdapter = {
  /** Name in `"provider:modelId"` and the catalog. */
  name: string;
  /** The AI SDK `providerOptions` key. */
  optionsKey: string;
  /** Where the built-in provider finds its key, first one preferred. */
  environmentVariables: readonly string[];
  /** Builds the model from the environment (key, base URL). Throws `MissingApiKeyError`. */
  createModel(modelId: string, context: { capture?: ResponseCapture | undefined }): AnyImageModel | Promise<AnyImageModel>;
  /**
   * The app's own model with the raw response details captured as `createModel` captures them, or
   * `undefined` when this model cannot be watched.
   */
  captureResponses?(model: AnyImageModel, capture: ResponseCapture): AnyImageModel | undefined;
  /** Maps a plan's call onto `generateImage` arguments. */
  mapCall(plan: Plan, call: PlannedCall): ProviderCall;
  /** Drops warnings the AI SDK provider is known to raise wrongly for calls the toolkit made. */
  filterWarnings?(warnings: readonly SharedV3Warning[]): SharedV3Warning[];
  /** Reads the provider's live list of image models, where it has one (`imagegen models --refresh`). */
  listModels?(options: { fetch: typeof globalThis.fetch; apiKey?: string | undefined; baseURL?: string | undefined; abortSignal?: AbortSignal | undefined }): Promise<LiveModel[]>;
  /** Applies the catalog to a raw AI SDK call (the `imageModel()` middleware door). */
  transformParams?(params: ImageModelV3CallOptions, model: ModelCapabilities): { params: ImageModelV3CallOptions; warnings: SharedV3Warning[] };
};

/** Maps a plan onto the AI SDK's standard options only: for providers without an adapter of their own. */
export function genericAdapter(name: string): ProviderAdapter {
  return {
    name,
    optionsKey: name,
    environmentVariables: [],
    createModel() {
      throw new Error(`no built-in ${name} provider; pass one in options.providers`);
    },
    mapCall(plan, call) {
      const images = plan.referenceImages.map((image) => image.url ?? image.data!);
      return {
        prompt: images.length > 0 ? { text: plan.prompt, images } : plan.prompt,
        n: call.n,
        maxImagesPerCall: plan.model.acceptsN ? plan.model.maxImagesPerCall : 1,
        ...('size' in plan.sizing ? { size: plan.sizing.size } : { aspectRatio: plan.sizing.aspectRatio }),
        ...(call.seed === undefined ? {} : { seed: call.seed }),
        providerOptions: plan.providerOptions?.[name] ? { [name]: plan.providerOptions[name] as Record<string, JSONValue> } : {},
      };
    },
  };
}

/** `"image/png"` → data URL of the bytes. */
export function toDataUrl(data: Uint8Array, mediaType: string): string {
  let binary = '';
  for (let index = 0; index < data.length; index += 0x8000) {
    binary += String.fromCharCode(...data.subarray(index, index + 0x8000));
  }
  return `data:${mediaType};base64,${btoa(binary)}`;
}

/** Reads an environment variable where there is an environment (not on every edge runtime). */
export function readEnvironment(name: string): string | undefined {
  const value = (globalThis as { process?: { env?: Record<string, string | undefined> } }).process?.env?.[name];
  return value === undefined || value === '' ? undefined : value;
}
