import type { PreparedGeneration } from '../generate.js';
import type { BatchJob } from './input.js';

/** How much a `PlanStore` may hold: plans, and bytes of reference-image data in them. */
export type PlanBudget = { jobs: number; bytes: number };

/**
 * A kept plan without reference images holds about 2 KB (10,000 of them: 18 MiB of heap), and the
 * heap V8 lets grow around them is larger still: checking a 1M-line file kept 10,000 of them at a
 * peak of 235 MiB (292 MiB with job keys made), where 2,000 cost 210 (258, but up to 319 in
 * repeated runs) against 160–200 (251) keeping none; 500 cost 202–209 (268–286), under the 300 MB
 * target in every run. Planning again is cheap (about 10 µs a job);
 * what a kept plan saves is its reference files read again, which 64 MiB covers for a few dozen
 * jobs (each image held as bytes and, for some providers, as a base64 copy per call).
 */
export const DEFAULT_PLAN_BUDGET: PlanBudget = { jobs: 500, bytes: 64 * 1024 * 1024 };

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
    this.#plans.set(job.line, { prepared: ownCopy(prepared), request: JSON.stringify(job.request), bytes });
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
  if (prepared.plan.mask?.kind === 'bytes') bytes += prepared.plan.mask.data.byteLength;
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

/**
 * A kept plan's own objects, copied (the catalog entry, the model source and bytes are shared).
 * Why: when thousands of the check pass's plans survive, V8 pretenures the places that made them
 * (allocation-site pretenuring), and the plans of every later line, garbage at once, are then made
 * in the old generation: a 1M-line check took 4 s and 120 MiB more. Copies made here leave those
 * places' survival low; only this function's own objects are pretenured, and only kept plans use it.
 */
function ownCopy(prepared: PreparedGeneration): PreparedGeneration {
  // The source stays itself: its model is built once per source (a WeakMap keyed by it).
  const shared = new Set<unknown>([prepared.plan.model, prepared.source]);
  const copies = new Map<object, unknown>();
  const copy = (value: unknown): unknown => {
    if (value === null || typeof value !== 'object' || shared.has(value)) return value;
    const known = copies.get(value);
    if (known !== undefined) return known;
    const prototype: unknown = Object.getPrototypeOf(value);
    if (Array.isArray(value)) {
      const copied: unknown[] = [];
      copies.set(value, copied);
      for (const item of value) copied.push(copy(item));
      return copied;
    }
    if (prototype !== Object.prototype && prototype !== null) return value;
    const copied = Object.create(prototype as object | null) as Record<string, unknown>;
    copies.set(value, copied);
    for (const [key, item] of Object.entries(value)) copied[key] = copy(item);
    return copied;
  };
  return copy(prepared) as PreparedGeneration;
}
