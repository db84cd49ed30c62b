import type { ModelCapabilities } from './capabilities.js';

/**
 * The plan's types: what the plan stage decides and the providers' pure mappings read. They live
 * here, below both, so that providers depend on shared types and never on the pipeline.
 */

/** A reference image, loaded and checked: a URL passed on as it is, or the bytes of a file, data URL or buffer. */
export type ReferenceImage =
  | { readonly kind: 'url'; readonly source: string; readonly url: string }
  | { readonly kind: 'bytes'; readonly source: string; readonly data: Uint8Array; readonly mediaType: string };

/**
 * A warning: the AI SDK's own (`type`: `unsupported`, `compatibility` or `other`, so a result's
 * warnings are the AI SDK's `Warning`s), with where it came from, the request field it is about, and
 * its text. The toolkit's own (an option dropped or changed) are `other`.
 */
export type ImagegenWarning =
  | { type: 'other'; source: 'imagegen' | 'provider'; field?: string; message: string }
  | { type: 'unsupported' | 'compatibility'; feature: string; details?: string; source: 'provider'; field?: string; message: string };

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
  mask?: string;
  loras?: { path: string; scale: number }[];
  safetyChecker: boolean;
  promptUpsampling?: boolean;
  outputFormat?: 'png' | 'jpeg';
  providerOptions?: Record<string, Record<string, unknown>>;
};

/** One provider call: `n` images, with the seed sent for it. */
export type PlannedCall = { readonly n: number; readonly seed: number | undefined; readonly firstIndex: number };

/** Everything needed to map and send a request, decided before anything is sent. */
export type Plan = {
  readonly provider: string;
  readonly modelId: string;
  readonly model: ModelCapabilities;
  readonly prompt: string;
  /** The size the images are expected to have. */
  readonly width: number;
  readonly height: number;
  /** What is sent: `size` for models sized by dimensions, `aspectRatio` for the others. */
  readonly sizing: { readonly size: `${number}x${number}` } | { readonly aspectRatio: `${number}:${number}` };
  readonly steps: number | undefined;
  readonly negativePrompt: string | undefined;
  readonly guidance: number | undefined;
  readonly loras: readonly { readonly path: string; readonly scale: number }[] | undefined;
  readonly disableSafetyChecker: boolean;
  /** Sent only when the request set it and the model takes it (Together FLUX.2 defaults it on). */
  readonly promptUpsampling: boolean | undefined;
  readonly outputFormat: 'png' | 'jpeg' | undefined;
  readonly referenceImages: readonly ReferenceImage[];
  /** Where the first input image is repainted (models with `acceptsMask`), as given: each provider converts it to its form. */
  readonly mask?: ReferenceImage | undefined;
  readonly providerOptions: Readonly<Record<string, Record<string, unknown>>> | undefined;
  readonly calls: readonly PlannedCall[];
  /** Options the plan dropped or changed (strict mode makes them errors). */
  readonly warnings: readonly ImagegenWarning[];
  /** Dropped or changed options are errors (the request's `strict`). */
  readonly strict: boolean;
  readonly resolved: ResolvedRequest;
  readonly estimatedCostUsd: number | undefined;
};

/** Which model a request names: its provider, id and catalog entry. */
export type Target = { provider: string; modelId: string; model: ModelCapabilities };

