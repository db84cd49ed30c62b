import path from 'node:path';
import { prepareGeneration } from '../generate.js';
import { readImageFile } from '../files/files.js';
import type { Plan } from '../pipeline/plan.js';
import type { ProvidersOption } from '../models/resolve-model.js';
import type { BatchJob } from './input.js';
import { Journal } from './journal.js';

export type DryRunEstimate = {
  /** Requests that would be sent (before retries). */
  requests: number;
  images: number;
  megapixels: number;
  /** Sum of the catalog's estimates; models without a price count as 0 and are listed. */
  estimatedCostUsd: number;
  /** Already done in the output folder: would be skipped. */
  alreadyDone: number;
  unpricedModels: string[];
  /** Models not in the catalog: they would run with generic capabilities, unchecked. */
  unknownModels: string[];
  /** Deprecated models used, with the date and the replacement. */
  deprecatedModels: { model: string; status: string; date: string | null; replacement: string }[];
  byModel: Record<string, { requests: number; images: number; megapixels: number; estimatedCostUsd: number }>;
};

/** What a batch would send and cost, from the catalog; sends nothing. Plans each job once. */
export async function estimateBatch({
  jobs,
  outDir,
  providers,
}: {
  jobs: readonly BatchJob[];
  outDir: string;
  providers?: ProvidersOption | undefined;
}): Promise<DryRunEstimate> {
  const estimator = await createEstimate({ outDir });
  for (const job of jobs) {
    // A done job is not planned: it would be skipped.
    if (await estimator.isDone(job)) {
      estimator.countDone();
      continue;
    }
    const { plan } = await prepareGeneration(job.request, {
      ...(providers === undefined ? {} : { providers }),
      readFile: readImageFile,
      checkKey: false,
    });
    await estimator.add(job, plan);
  }
  return estimator.finish();
}

/**
 * Adds up a dry run's estimate one planned job at a time (so the pass that checks a batch file
 * makes it, without keeping the jobs). Jobs the output folder's journal has done count as such.
 */
export async function createEstimate({ outDir }: { outDir: string }): Promise<{
  /** Whether jobs need their keys to be told apart from done ones (the journal has entries). */
  needsKeys: boolean;
  isDone: (job: BatchJob) => Promise<boolean>;
  /** Counts a planned job: as done (would be skipped) when the journal has it, else what it sends; `true` for the latter. */
  add: (job: BatchJob, plan: Plan) => Promise<boolean>;
  /** Counts a job found done beforehand (not planned). */
  countDone: () => void;
  finish: () => DryRunEstimate;
}> {
  const folder = path.resolve(outDir);
  const journal = await Journal.read(folder);
  const estimate: DryRunEstimate = { requests: 0, images: 0, megapixels: 0, estimatedCostUsd: 0, alreadyDone: 0, unpricedModels: [], unknownModels: [], deprecatedModels: [], byModel: {} };
  const isDone = (job: BatchJob) => journal.isDone(job.key, folder, job.legacyKey);
  const countDone = () => void estimate.alreadyDone++;
  const add = async (job: BatchJob, plan: Plan) => {
    if (await isDone(job)) {
      countDone();
      return false;
    }
    const images = plan.resolved.count;
    const megapixels = (plan.width * plan.height * images) / 1e6;
    const cost = plan.estimatedCostUsd ?? 0;
    if (plan.estimatedCostUsd === undefined && !estimate.unpricedModels.includes(plan.resolved.model)) {
      estimate.unpricedModels.push(plan.resolved.model);
    }
    if (!plan.model.known && !estimate.unknownModels.includes(plan.resolved.model)) estimate.unknownModels.push(plan.resolved.model);
    const deprecation = plan.model.deprecated;
    if (deprecation !== undefined && !estimate.deprecatedModels.some((each) => each.model === plan.resolved.model)) {
      estimate.deprecatedModels.push({ model: plan.resolved.model, status: deprecation.status, date: deprecation.date ?? null, replacement: deprecation.replacement });
    }
    const model = (estimate.byModel[plan.resolved.model] ??= { requests: 0, images: 0, megapixels: 0, estimatedCostUsd: 0 });
    for (const target of [estimate, model]) {
      target.requests += plan.calls.length;
      target.images += images;
      target.megapixels += megapixels;
      target.estimatedCostUsd += cost;
    }
    return true;
  };
  const finish = (): DryRunEstimate => {
    const round = (value: number, digits: number) => Math.round(value * 10 ** digits) / 10 ** digits;
    const byModel = Object.fromEntries(
      Object.entries(estimate.byModel).map(([model, part]) => [model, { ...part, megapixels: round(part.megapixels, 3), estimatedCostUsd: round(part.estimatedCostUsd, 6) }]),
    );
    return { ...estimate, megapixels: round(estimate.megapixels, 3), estimatedCostUsd: round(estimate.estimatedCostUsd, 6), byModel };
  };
  return { needsKeys: journal.entries.size > 0, isDone, add, countDone, finish };
}
