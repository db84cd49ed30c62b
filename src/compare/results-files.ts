import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { redactSecrets } from '../errors/errors.js';
import { writeFileAtomically } from '../files/files.js';
import type { ExperimentRow } from './types.js';

/** The CSV header, in column order. */
export const RESULTS_CSV_COLUMNS = [
  'prompt',
  'model',
  'provider',
  'seed',
  'settings',
  'status',
  'latency_ms',
  'cached',
  'requests',
  'warnings',
  'estimated_cost_usd',
  'actual_cost_usd',
  'file',
  'error',
] as const;

/**
 * One JSON object per line, every key of `ExperimentRow` on every line (`null` where the row has
 * `undefined`), so line-by-line readers see the same shape everywhere.
 */
export function toJsonLines(rows: readonly ExperimentRow[]): string {
  return rows.map((row) => `${redactSecrets(JSON.stringify(row, (_key, value: unknown) => (value === undefined ? null : value)))}\n`).join('');
}

/**
 * RFC 4180 CSV: a header, then one line per row; CRLF line ends; fields with a comma, quote, CR
 * or LF are quoted, quotes doubled; cells that a spreadsheet would run as a formula start with `'`. Settings read `k=v;k=v`, warnings are joined with ` | `.
 */
export function toCsv(rows: readonly ExperimentRow[]): string {
  const lines = [RESULTS_CSV_COLUMNS.join(',')];
  for (const row of rows) {
    const fields: Record<(typeof RESULTS_CSV_COLUMNS)[number], string> = {
      prompt: row.prompt,
      model: row.model,
      provider: row.provider,
      seed: optional(row.seed),
      settings: Object.entries(row.settings)
        .map(([key, value]) => `${key}=${value}`)
        .join(';'),
      status: row.status,
      latency_ms: optional(row.latencyMs),
      cached: String(row.cached),
      requests: String(row.requests),
      warnings: redactSecrets(row.warnings.map((warning) => warning.message).join(' | ')),
      estimated_cost_usd: optional(row.estimatedCostUsd),
      actual_cost_usd: optional(row.actualCostUsd),
      file: row.file ?? '',
      error: redactSecrets(row.error ?? ''),
    };
    lines.push(RESULTS_CSV_COLUMNS.map((column) => quoteCsvField(fields[column])).join(','));
  }
  return `${lines.join('\r\n')}\r\n`;
}

/**
 * Writes `results.jsonl` and `results.csv` into `folder`, each atomically, and returns their paths.
 *
 * @example
 * const { jsonlPath, csvPath } = await writeResultsFiles({ rows, folder: 'out/compare-20250101-120000' });
 */
export async function writeResultsFiles({
  rows,
  folder,
}: {
  rows: readonly ExperimentRow[];
  folder: string;
}): Promise<{ jsonlPath: string; csvPath: string }> {
  await mkdir(folder, { recursive: true });
  const jsonlPath = path.join(folder, 'results.jsonl');
  const csvPath = path.join(folder, 'results.csv');
  await writeFileAtomically(jsonlPath, toJsonLines(rows));
  // A byte order mark: Excel reads a CSV without one in the system's code page and garbles accents.
  await writeFileAtomically(csvPath, `\uFEFF${toCsv(rows)}`);
  return { jsonlPath, csvPath };
}

function optional(value: number | undefined): string {
  return value === undefined ? '' : String(value);
}

function quoteCsvField(value: string): string {
  const safe = neutraliseFormula(value);
  return /[",\r\n]/.test(safe) ? `"${safe.replaceAll('"', '""')}"` : safe;
}

/**
 * OWASP's advice for spreadsheet export: a cell that starts with `=`, `+`, `-`, `@`, a tab or a
 * carriage return is read as a formula by Excel, LibreOffice and Sheets, so it gets a leading `'`
 * and is shown as text. Plain numbers (a negative seed or cost) stay numbers.
 */
export function neutraliseFormula(value: string): string {
  if (!/^[=+\-@\t\r]/.test(value) || /^[+-]?\d+(\.\d+)?$/.test(value)) return value;
  return `'${value}`;
}
