import type { PreparedGeneration } from '../generate.js';
import type { BatchJob } from './input.js';

/** How much a `PlanStore` may hold: plans, and bytes of reference-image data in them. */
export type PlanBudget = { jobs: number; bytes: number };

/**
 * A plan without reference images takes about 1.5 KB (measured: 10,000 plans, 15 MB), so 10,000
 * of them cover most batch files for 15 MB; 64 MiB holds a few of the largest reference images a
 * provider takes, sent as bytes and as their base64 copies. With the check pass's own ~210 MiB for a
 * 1M-line file, that stays under its 300 MB target.
 */
export const DEFAULT_PLAN_BUDGET: PlanBudget = { jobs: 10_000, bytes: 64 * 1024 * 1024 };

/**
 * The plans a batch file's check pass made, kept (within a budget) for the run to take instead of
 * planning those jobs again: their reference files are read once, and the seed chosen when they
 * were checked is the one sent. A job that does not fit is planned again at its turn, so memory
 * stays bounded whatever the file's length.
 */
export class PlanStore {
  readonly budget: PlanBudget;
  readonly #plans = new Map<number, { prepared: PreparedGeneration; request: string; bytes: number }>();
  #bytes = 0;
  #peak = { jobs: 0, bytes: 0 };

  constructor(budget: PlanBudget = DEFAULT_PLAN_BUDGET) {
    this.budget = budget;
  }

  /** Keeps a job's plan if it fits the budget; `false` when it does not (the run plans it again). */
  keep(job: BatchJob, prepared: PreparedGeneration): boolean {
    if (this.#plans.size >= this.budget.jobs || this.#plans.has(job.line)) return false;
    const bytes = referenceBytes(prepared);
    if (this.#bytes + bytes > this.budget.bytes) return false;
    this.#plans.set(job.line, { prepared, request: JSON.stringify(job.request), bytes });
    this.#bytes += bytes;
    this.#peak = { jobs: Math.max(this.#peak.jobs, this.#plans.size), bytes: Math.max(this.#peak.bytes, this.#bytes) };
    return true;
  }

  /**
   * A job's kept plan, given once: the store lets go of it. Only for the request it was made for:
   * a line edited between the check and the run is planned again.
   */
  take(job: BatchJob): PreparedGeneration | undefined {
    const kept = this.#plans.get(job.line);
    if (kept === undefined) return undefined;
    this.#plans.delete(job.line);
    this.#bytes -= kept.bytes;
    return kept.request === JSON.stringify(job.request) ? kept.prepared : undefined;
  }

  /** What it holds now. */
  get size(): { jobs: number; bytes: number } {
    return { jobs: this.#plans.size, bytes: this.#bytes };
  }

  /** The most it has held at once. */
  get peak(): { jobs: number; bytes: number } {
    return { ...this.#peak };
  }
}

/**
 * Reference-image data a plan holds: the loaded bytes, and what its mapped calls carry of them
 * (a provider may send them as base64 data URLs, a copy per call). Plans without reference images
 * hold none worth counting.
 */
export function referenceBytes(prepared: PreparedGeneration): number {
  if (prepared.plan.referenceImages.length === 0) return 0;
  let bytes = 0;
  for (const image of prepared.plan.referenceImages) if (image.kind === 'bytes') bytes += image.data.byteLength;
  for (const mapped of prepared.calls) bytes += dataBytes(mapped.args, 0);
  return bytes;
}

/** Bytes and data URLs in a mapped call's arguments (shared arrays counted again: an overestimate is safe). */
function dataBytes(value: unknown, depth: number): number {
  if (ArrayBuffer.isView(value)) return value.byteLength;
  if (typeof value === 'string') return value.startsWith('data:') ? value.length : 0;
  if (value === null || typeof value !== 'object' || depth > 6) return 0;
  let bytes = 0;
  for (const item of Array.isArray(value) ? value : Object.values(value)) bytes += dataBytes(item, depth + 1);
  return bytes;
}
