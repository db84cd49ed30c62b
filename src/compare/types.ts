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
  seed: number | undefined;
  /** The settings varied in this column, e.g. `{ steps: 4 }`; `{}` when none vary. */
  settings: Record<string, string | number | boolean>;
  /** Column label: the model plus its settings, e.g. `"togetherai:black-forest-labs/FLUX.1-schnell steps=4"`. */
  column: string;
  status: 'done' | 'failed';
  /** Image file, relative to the experiment folder (done rows). */
  path: string | undefined;
  width: number | undefined;
  height: number | undefined;
  /** Wall time of the provider call that made the image, in milliseconds. */
  latencyMs: number | undefined;
  /** HTTP requests the cell took, retries included. */
  requests: number;
  warnings: string[];
  estimatedCostUsd: number | undefined;
  /** Why the cell failed (failed rows). */
  error: string | undefined;
};
