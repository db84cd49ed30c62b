import { roundUsd } from '../pipeline/cost.js';
import type { ExperimentRow } from './types.js';

/** How one model did across an experiment. */
export type ModelSummary = {
  /** `"provider:modelId"`. */
  model: string;
  /** Cells that produced an image (cached ones included). */
  images: number;
  /** Of `images`, those served from the cache (no call: left out of the latency median). */
  cached: number;
  failures: number;
  /** Cells not started because the experiment was stopped. */
  notRun: number;
  /** Median wall time of the provider calls that produced an image; `undefined` when none did. */
  medianLatencyMs: number | undefined;
  /** Sum of the known estimates; `undefined` when no cell had one (unknown price, not free). */
  estimatedCostUsd: number | undefined;
  /** Sum of what the provider reported; `undefined` when no cell had it (the provider reports nothing). */
  actualCostUsd: number | undefined;
};

/**
 * Per-model totals of an experiment, in the order the models first appear in `rows`.
 *
 * @example
 * const summary = summarize(rows);
 * process.stdout.write(`${formatSummaryTable(summary)}\n`);
 */
export function summarize(rows: readonly ExperimentRow[]): ModelSummary[] {
  const rowsByModel = new Map<string, ExperimentRow[]>();
  for (const row of rows) {
    const modelRows = rowsByModel.get(row.model) ?? [];
    modelRows.push(row);
    rowsByModel.set(row.model, modelRows);
  }
  return [...rowsByModel].map(([model, modelRows]) => {
    const doneRows = modelRows.filter((row) => row.status === 'done');
    // Failed calls are left out of the latency: a timeout or an instant 400 says nothing about
    // how fast the model draws.
    // Cached cells made no call: a 0 would only pull the median down.
    const latencies = doneRows.flatMap((row) => (row.cached || row.latencyMs === undefined ? [] : [row.latencyMs]));
    // A failed cell can still carry a cost (the provider billed before failing), so every row counts.
    const costs = modelRows.flatMap((row) => (row.estimatedCostUsd === undefined ? [] : [row.estimatedCostUsd]));
    const actualCosts = modelRows.flatMap((row) => (row.actualCostUsd === undefined ? [] : [row.actualCostUsd]));
    return {
      model,
      images: doneRows.length,
      cached: doneRows.filter((row) => row.cached).length,
      failures: modelRows.filter((row) => row.status === 'failed').length,
      notRun: modelRows.filter((row) => row.status === 'not-run').length,
      medianLatencyMs: median(latencies),
      estimatedCostUsd: costs.length === 0 ? undefined : costs.reduce((sum, cost) => sum + cost, 0),
      actualCostUsd: actualCosts.length === 0 ? undefined : roundUsd(actualCosts.reduce((sum, cost) => sum + cost, 0)),
    };
  });
}

/**
 * An aligned plain-text table of a summary for the terminal, with a total line when there is more
 * than one model. Unknown values print as `-`.
 *
 * @example
 * formatSummaryTable(summarize(rows));
 * // model                 images  failed  median ms  est. cost
 * // togetherai:flux-dev        4       0      1,840    $0.1000
 */
export function formatSummaryTable(summary: readonly ModelSummary[]): string {
  // Columns that would be all zeros are left out; the failed column always shows.
  const withCached = summary.some((entry) => entry.cached > 0);
  const withNotRun = summary.some((entry) => entry.notRun > 0);
  // Shown only where some provider reported what it charged.
  const withActual = summary.some((entry) => entry.actualCostUsd !== undefined);
  const header = ['model', 'images', ...(withCached ? ['cached'] : []), 'failed', ...(withNotRun ? ['not run'] : []), 'median ms', 'est. cost', ...(withActual ? ['actual cost'] : [])];
  const lines = summary.map((entry) => [
    entry.model,
    formatCount(entry.images),
    ...(withCached ? [formatCount(entry.cached)] : []),
    formatCount(entry.failures),
    ...(withNotRun ? [formatCount(entry.notRun)] : []),
    entry.medianLatencyMs === undefined ? (entry.cached > 0 && entry.cached === entry.images ? 'cached' : '-') : formatCount(Math.round(entry.medianLatencyMs)),
    formatCost(entry.estimatedCostUsd),
    ...(withActual ? [formatCost(entry.actualCostUsd)] : []),
  ]);
  if (summary.length > 1) {
    const knownCosts = summary.flatMap((entry) => (entry.estimatedCostUsd === undefined ? [] : [entry.estimatedCostUsd]));
    const knownActual = summary.flatMap((entry) => (entry.actualCostUsd === undefined ? [] : [entry.actualCostUsd]));
    const total = (pick: (entry: ModelSummary) => number) => formatCount(summary.reduce((sum, entry) => sum + pick(entry), 0));
    lines.push([
      'total',
      total((entry) => entry.images),
      ...(withCached ? [total((entry) => entry.cached)] : []),
      total((entry) => entry.failures),
      ...(withNotRun ? [total((entry) => entry.notRun)] : []),
      // A median of medians would be a different number from the median of all calls; leave it out.
      '',
      formatCost(knownCosts.length === 0 ? undefined : knownCosts.reduce((sum, cost) => sum + cost, 0)),
      ...(withActual ? [formatCost(knownActual.reduce((sum, cost) => sum + cost, 0))] : []),
    ]);
  }
  const table = [header, ...lines];
  const widths = header.map((_, column) => Math.max(...table.map((cells) => (cells[column] ?? '').length)));
  return table
    .map((cells) =>
      cells
        .map((cell, column) => {
          const width = widths[column] ?? 0;
          // The model column reads left to right; numbers line up on their last digit.
          return column === 0 ? cell.padEnd(width) : cell.padStart(width);
        })
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function median(values: readonly number[]): number | undefined {
  if (values.length === 0) return undefined;
  const sorted = [...values].sort((left, right) => left - right);
  const middle = Math.floor(sorted.length / 2);
  const upper = sorted[middle]!;
  return sorted.length % 2 === 1 ? upper : (sorted[middle - 1]! + upper) / 2;
}

function formatCount(value: number): string {
  // A fixed locale, so the table reads the same on every machine and in snapshots.
  return value.toLocaleString('en-US');
}

/** `$0.0123`: four decimals, because one image often costs a fraction of a cent. */
export function formatCost(value: number | undefined): string {
  return value === undefined ? '-' : `$${value.toFixed(4)}`;
}
