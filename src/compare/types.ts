import type { ImagegenWarning } from '../pipeline/plan.js';

/**
 * One cell of an experiment matrix (prompt × model × seed × settings) and how it went: one row of
 * results.jsonl / results.csv, one cell of the contact sheet and the gallery.
 */
export type ExperimentRow = {
  /** Position of the prompt in the experiment, from 0 (rows of the grid are prompt × seed). */
  promptIndex: number;
  prompt: string;
  /** `"provider:modelId"`. */
  model: string;
  provider: string;
  modelId: string;
  seed: number | undefined;
  /** The settings varied in this column, e.g. `{ steps: 4 }`; `{}` when none vary. */
  settings: Record<string, string | number | boolean>;
  /** Column label: the model plus its settings, e.g. `"togetherai:black-forest-labs/FLUX.1-schnell steps=4"`. */
  column: string;
  /** `not-run`: the experiment was stopped (Ctrl-C) before the cell started; a re-run does it. */
  status: 'done' | 'failed' | 'not-run';
  /** Image file, relative to the experiment folder (done rows), as in every result (schema/result.schema.json). */
  file: string | undefined;
  width: number | undefined;
  height: number | undefined;
  mediaType: string | undefined;
  /** Position among the images of its request (always 0: a cell asks for one image). */
  index: number | undefined;
  /** Wall time of the provider call that made the image; `undefined` when cached or failed. */
  latencyMs: number | undefined;
  /** Served from the cache of seeded requests: no call, no cost, no latency. */
  cached: boolean;
  /** HTTP requests the cell took, retries included. */
  requests: number;
  warnings: ImagegenWarning[];
  estimatedCostUsd: number | undefined;
  /** What the provider reported the image cost; `undefined` where it reports nothing (or failed rows). */
  actualCostUsd: number | undefined;
  /** Why the cell failed (failed rows). */
  error: string | undefined;
};
