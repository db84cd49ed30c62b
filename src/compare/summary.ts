import type { ExperimentRow } from './types.js';

/** How one model did across an experiment. */
export type ModelSummary = {
  /** `"provider:modelId"`. */
  model: string;
  /** Cells that produced an image. */
  images: number;
  failures: number;
  /** Median wall time of the calls that produced an image; `undefined` when none reported one. */
  medianLatencyMs: number | undefined;
  /** Sum of the known estimates; `undefined` when no cell had one (unknown price, not free). */
  estimatedCostUsd: number | undefined;
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
    const latencies = doneRows.flatMap((row) => (row.latencyMs === undefined ? [] : [row.latencyMs]));
    // A failed cell can still carry a cost (the provider billed before failing), so every row counts.
    const costs = modelRows.flatMap((row) => (row.estimatedCostUsd === undefined ? [] : [row.estimatedCostUsd]));
    return {
      model,
      images: doneRows.length,
      failures: modelRows.length - doneRows.length,
      medianLatencyMs: median(latencies),
      estimatedCostUsd: costs.length === 0 ? undefined : costs.reduce((sum, cost) => sum + cost, 0),
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
  const header = ['model', 'images', 'failed', 'median ms', 'est. cost'];
  const lines = summary.map((entry) => [
    entry.model,
    formatCount(entry.images),
    formatCount(entry.failures),
    entry.medianLatencyMs === undefined ? '-' : formatCount(Math.round(entry.medianLatencyMs)),
    formatCost(entry.estimatedCostUsd),
  ]);
  if (summary.length > 1) {
    const knownCosts = summary.flatMap((entry) => (entry.estimatedCostUsd === undefined ? [] : [entry.estimatedCostUsd]));
    lines.push([
      'total',
      formatCount(summary.reduce((sum, entry) => sum + entry.images, 0)),
      formatCount(summary.reduce((sum, entry) => sum + entry.failures, 0)),
      // A median of medians would be a different number from the median of all calls; leave it out.
      '',
      formatCost(knownCosts.length === 0 ? undefined : knownCosts.reduce((sum, cost) => sum + cost, 0)),
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
