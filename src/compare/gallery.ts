import { createHash } from 'node:crypto';
import { access, mkdir } from 'node:fs/promises';
import path from 'node:path';
import { redactSecrets } from '../errors/errors.js';
import { writeFileAtomically } from '../files/files.js';
import { experimentGrid, type GridColumn, type GridRow } from './contact-sheet.js';
import { formatCost, summarize } from './summary.js';
import type { ExperimentRow } from './types.js';

/**
 * Writes `index.html` into the experiment folder: one self-contained page (inline CSS and JS, no
 * URL outside the folder) with the same grid as the contact sheet, each cell's image, model, seed,
 * latency, estimated cost and warnings, failed cells with their reason, and filters by model
 * (`#filter-model`) and prompt (`#filter-prompt`). Images are linked by relative path, so the
 * folder can be zipped and opened anywhere. A done row whose image file is missing is shown as
 * failed with that reason, rather than as a broken image.
 *
 * @example
 * const { path } = await writeGallery({ rows, folder: 'out/compare-1', title: 'FLUX schnell vs dev' });
 */
export async function writeGallery({
  rows,
  folder,
  title,
}: {
  rows: readonly ExperimentRow[];
  folder: string;
  title: string;
}): Promise<{ path: string }> {
  await mkdir(folder, { recursive: true });
  const galleryPath = path.join(folder, 'index.html');
  const checkedRows = await Promise.all(
    rows.map(async (row): Promise<ExperimentRow> => {
      if (row.status !== 'done' || row.file === undefined) return row;
      const exists = await access(path.resolve(folder, row.file)).then(
        () => true,
        () => false,
      );
      return exists ? row : { ...row, status: 'failed', error: `image file missing: ${row.file}` };
    }),
  );
  await writeFileAtomically(galleryPath, renderGalleryHtml({ rows: checkedRows, title }));
  return { path: galleryPath };
}

/**
 * The gallery page as a string. Every piece of text from the experiment is HTML-escaped, and a
 * Content-Security-Policy allows only the page's own script and style (by hash) and images from
 * the page's own origin, so even a prompt that slipped past escaping could not run or fetch anything.
 *
 * Stable hooks for tests: `#filter-model` (values are `row.model`), `#filter-prompt` (values are
 * `promptIndex`), `#grid`; cells are `td.cell#cell-<row>-<column>` with `data-status`
 * (`done`, `failed`, `missing`), `data-model`, `data-column`, `data-prompt-index`, `data-seed`.
 */
export function renderGalleryHtml({ rows, title }: { rows: readonly ExperimentRow[]; title: string }): string {
  const grid = experimentGrid(rows);
  const models = [...new Set(grid.columns.map((column) => column.model))];
  const prompts = [...new Map(grid.rows.map((gridRow) => [gridRow.promptIndex, gridRow.prompt])).entries()];
  const failures = rows.filter((row) => row.status === 'failed').length;
  const contentSecurityPolicy = [
    "default-src 'none'",
    // `file:` so the unzipped folder also works when opened straight from disk.
    "img-src 'self' file: data:",
    `style-src '${sha256(GALLERY_STYLE)}'`,
    `script-src '${sha256(GALLERY_SCRIPT)}'`,
    "base-uri 'none'",
    "form-action 'none'",
  ].join('; ');

  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${contentSecurityPolicy}">
<meta name="generator" content="ai-imagegen">
<title>${escapeHtml(title)}</title>
<link rel="icon" href="data:,">
<style>${GALLERY_STYLE}</style>
</head>
<body>
<header class="page-header">
<h1>${escapeHtml(title)}</h1>
<p class="counts">${prompts.length} ${plural(prompts.length, 'prompt')} × ${grid.columns.length} ${plural(grid.columns.length, 'column')} · ${rows.length - failures} ${plural(rows.length - failures, 'image')} · <span class="${failures > 0 ? 'counts-failed' : ''}">${failures} failed</span></p>
</header>
<section class="overview">
${summaryTable(rows)}
<div class="filters">
<label>Model <select id="filter-model" data-filter="model"><option value="">All models</option>${models.map((model) => `<option value="${escapeHtml(model)}">${escapeHtml(model)}</option>`).join('')}</select></label>
<label>Prompt <select id="filter-prompt" data-filter="prompt"><option value="">All prompts</option>${prompts.map(([promptIndex, prompt]) => `<option value="${promptIndex}">#${promptIndex + 1} ${escapeHtml(excerpt(prompt, 60))}</option>`).join('')}</select></label>
</div>
</section>
<main class="grid-scroll">
<table id="grid" class="grid">
<thead><tr><th class="corner" scope="col"></th>${grid.columns.map(columnHeader).join('')}</tr></thead>
<tbody>
${grid.rows.map((gridRow, rowIndex) => gridRowHtml(gridRow, rowIndex, grid.columns)).join('\n')}
</tbody>
</table>
</main>
<script>${GALLERY_SCRIPT}</script>
</body>
</html>
`;
}

function summaryTable(rows: readonly ExperimentRow[]): string {
  const summary = summarize(rows);
  // The actual cost column only where some provider reported what it charged.
  const withActual = summary.some((entry) => entry.actualCostUsd !== undefined);
  const lines = summary.map(
    (entry) =>
      `<tr><th scope="row">${escapeHtml(entry.model)}</th><td>${entry.images}</td><td${entry.failures > 0 ? ' class="counts-failed"' : ''}>${entry.failures}</td><td>${entry.medianLatencyMs === undefined ? '–' : formatMilliseconds(entry.medianLatencyMs)}</td><td>${entry.estimatedCostUsd === undefined ? '–' : formatCost(entry.estimatedCostUsd)}</td>${withActual ? `<td>${entry.actualCostUsd === undefined ? '–' : formatCost(entry.actualCostUsd)}</td>` : ''}</tr>`,
  );
  return `<table class="summary" id="summary"><thead><tr><th scope="col">Model</th><th scope="col">Images</th><th scope="col">Failed</th><th scope="col">Median latency</th><th scope="col">Est. cost</th>${withActual ? '<th scope="col">Actual cost</th>' : ''}</tr></thead><tbody>${lines.join('')}</tbody></table>`;
}

function columnHeader(column: GridColumn, columnIndex: number): string {
  const settings = Object.entries(column.settings)
    .map(([key, value]) => `<span class="setting">${escapeHtml(`${key}=${value}`)}</span>`)
    .join('');
  return `<th class="column-header" scope="col" data-model="${escapeHtml(column.model)}" data-column="${escapeHtml(column.label)}" data-column-index="${columnIndex}"><div class="column-model">${breakable(column.model)}</div>${settings === '' ? '' : `<div class="settings">${settings}</div>`}</th>`;
}

function gridRowHtml(gridRow: GridRow, rowIndex: number, columns: readonly GridColumn[]): string {
  const seed = gridRow.seed === undefined ? 'no seed' : `seed ${gridRow.seed}`;
  const repeat = gridRow.repeat > 0 ? ` (${gridRow.repeat + 1})` : '';
  const header = `<th class="row-header" scope="row"><div class="prompt-number">Prompt #${gridRow.promptIndex + 1}</div><div class="prompt-text" title="${escapeHtml(gridRow.prompt)}">${escapeHtml(gridRow.prompt)}</div><div class="seed">${seed}${repeat}</div></th>`;
  const cells = columns.map((column, columnIndex) => cellHtml({ cell: gridRow.cells[columnIndex], column, columnIndex, gridRow, rowIndex }));
  return `<tr class="grid-row" id="row-${rowIndex}" data-prompt-index="${gridRow.promptIndex}" data-seed="${gridRow.seed ?? ''}">${header}${cells.join('')}</tr>`;
}

function cellHtml({
  cell,
  column,
  columnIndex,
  gridRow,
  rowIndex,
}: {
  cell: ExperimentRow | undefined;
  column: GridColumn;
  columnIndex: number;
  gridRow: GridRow;
  rowIndex: number;
}): string {
  const imageUrl = cell?.status === 'done' ? relativeImageUrl(cell.file) : undefined;
  const status = cell === undefined ? 'missing' : imageUrl === undefined ? 'failed' : 'done';
  const attributes = `id="cell-${rowIndex}-${columnIndex}" class="cell cell-${status}" data-status="${status}" data-model="${escapeHtml(column.model)}" data-column="${escapeHtml(column.label)}" data-column-index="${columnIndex}" data-prompt-index="${gridRow.promptIndex}" data-seed="${gridRow.seed ?? ''}"`;
  if (cell === undefined) {
    return `<td ${attributes}><div class="frame frame-missing"><div class="frame-title">no result</div><div class="frame-reason">the experiment recorded nothing for this cell</div></div></td>`;
  }
  const reason =
    cell.status === 'failed'
      ? (cell.error ?? 'no reason given')
      : cell.file === undefined
        ? 'no image path recorded'
        : `image path outside the experiment folder: ${cell.file}`;
  const frame =
    imageUrl === undefined
      ? `<div class="frame frame-failed"><div class="frame-title">✕ failed</div><div class="frame-reason" title="${escapeHtml(redactSecrets(reason))}">${escapeHtml(redactSecrets(reason))}</div></div>`
      : `<a class="frame" href="${imageUrl}" target="_blank" rel="noopener"><img src="${imageUrl}" alt="${escapeHtml(`${cell.model}, seed ${cell.seed ?? 'none'}: ${excerpt(cell.prompt, 100)}`)}"${cell.width !== undefined && cell.height !== undefined ? ` width="${cell.width}" height="${cell.height}"` : ''}></a>`;
  const facts = [
    cell.seed === undefined ? 'no seed' : `seed ${cell.seed}`,
    // A cached cell made no call and cost nothing: "cached" says so, where "0 ms $0.0000" would mislead.
    cell.cached ? 'cached' : cell.latencyMs === undefined ? undefined : formatMilliseconds(cell.latencyMs),
    cell.cached || cell.estimatedCostUsd === undefined ? undefined : formatCost(cell.estimatedCostUsd),
    // What the provider reported it charged, where it reports that.
    cell.cached || cell.actualCostUsd === undefined ? undefined : `actual ${formatCost(cell.actualCostUsd)}`,
    cell.width !== undefined && cell.height !== undefined && status === 'done' ? `${cell.width}×${cell.height}` : undefined,
    // One request is the normal case; more means retries, which is worth seeing.
    cell.requests > 1 ? `${cell.requests} requests` : undefined,
  ].filter((fact) => fact !== undefined);
  const warnings =
    cell.warnings.length === 0
      ? ''
      : `<ul class="warnings">${cell.warnings.map((warning) => `<li class="warning"><span class="warning-icon" aria-label="warning">⚠</span> ${escapeHtml(redactSecrets(warning.message))}</li>`).join('')}</ul>`;
  return `<td ${attributes} data-warnings="${cell.warnings.length}">${frame}<div class="caption"><div class="caption-model">${breakable(cell.model)}</div><div class="facts">${facts.map((fact) => `<span>${escapeHtml(fact)}</span>`).join('')}</div>${warnings}</div></td>`;
}

/** The image's URL relative to index.html, or `undefined` when the path would leave the folder. */
function relativeImageUrl(imagePath: string | undefined): string | undefined {
  if (imagePath === undefined) return undefined;
  const segments = imagePath.replaceAll('\\', '/').split('/');
  const leavesFolder = path.isAbsolute(imagePath) || /^[a-z][a-z0-9+.-]*:/i.test(imagePath) || segments.some((segment) => segment === '..');
  if (leavesFolder || segments.every((segment) => segment === '' || segment === '.')) return undefined;
  return escapeHtml(segments.filter((segment) => segment !== '' && segment !== '.').map(encodeURIComponent).join('/'));
}

/** Lets long model ids wrap after `/` and `:` instead of stretching the column. */
function breakable(text: string): string {
  return escapeHtml(text).replace(/([/:])/g, '$1<wbr>');
}

function excerpt(text: string, length: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length <= length ? flat : `${flat.slice(0, length - 1).trimEnd()}…`;
}

function formatMilliseconds(milliseconds: number): string {
  return `${Math.round(milliseconds).toLocaleString('en-US')} ms`;
}

function plural(count: number, word: string): string {
  return count === 1 ? word : `${word}s`;
}

function sha256(text: string): string {
  return `sha256-${createHash('sha256').update(text, 'utf8').digest('base64')}`;
}

function escapeHtml(text: string): string {
  return text.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;').replaceAll('"', '&quot;').replaceAll("'", '&#39;');
}

// Filters hide whole columns (every element carrying the chosen data-model) and whole rows; they
// run once at load too, because browsers restore <select> values on reload.
const GALLERY_SCRIPT = `
(() => {
  const grid = document.getElementById('grid');
  const modelFilter = document.getElementById('filter-model');
  const promptFilter = document.getElementById('filter-prompt');
  const apply = () => {
    const model = modelFilter.value;
    const prompt = promptFilter.value;
    for (const element of grid.querySelectorAll('[data-model]')) element.hidden = model !== '' && element.dataset.model !== model;
    for (const row of grid.querySelectorAll('tbody tr')) row.hidden = prompt !== '' && row.dataset.promptIndex !== prompt;
  };
  modelFilter.addEventListener('change', apply);
  promptFilter.addEventListener('change', apply);
  apply();
})();
`;

const GALLERY_STYLE = `
:root { --cell: 224px; --ink: #1d1d1f; --muted: #6b6b70; --line: #e3e3e6; --page: #f6f6f7; --card: #ffffff;
  --failed: #b3261e; --failed-bg: #fdecea; --warn: #7a4b00; --warn-bg: #fff4d6; --warn-line: #f0c65a; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; background: var(--page); color: var(--ink);
  font: 13px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
.page-header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 4px 16px; padding: 14px 20px 6px; }
h1 { margin: 0; font-size: 20px; font-weight: 650; }
.counts { margin: 0; color: var(--muted); }
.counts-failed { color: var(--failed); font-weight: 600; }
.overview { display: flex; flex-wrap: wrap; align-items: flex-start; gap: 12px 24px; padding: 4px 20px 14px; }
.filters { display: flex; flex-direction: column; gap: 8px; }
.filters label { display: flex; align-items: center; justify-content: space-between; gap: 8px; color: var(--muted); font-weight: 600; }
.filters select { width: 300px; padding: 4px 6px; font: inherit; color: var(--ink);
  border: 1px solid #c9c9ce; border-radius: 6px; background: var(--card); }
.summary { border-collapse: separate; border-spacing: 0; background: var(--card); border: 1px solid var(--line); border-radius: 8px; }
.summary th, .summary td { padding: 4px 12px; border-bottom: 1px solid var(--line); text-align: right; font-variant-numeric: tabular-nums; }
.summary th[scope="row"], .summary thead th:first-child { text-align: left; font-weight: 600; }
.summary thead th { color: var(--muted); font-weight: 600; font-size: 12px; }
.summary tbody tr:last-child > * { border-bottom: 0; }
.grid-scroll { overflow: auto; padding: 0 20px 20px; }
.grid { border-collapse: separate; border-spacing: 8px; margin: -8px; }
.grid thead th { position: sticky; top: 0; z-index: 2; background: var(--page); }
.corner { left: 0; z-index: 3 !important; }
.column-header { width: var(--cell); max-width: var(--cell); padding: 4px 2px; text-align: left; vertical-align: top; }
.column-model { font-weight: 650; font-size: 13px; }
.settings { display: flex; flex-wrap: wrap; gap: 4px; margin-top: 4px; }
.setting { padding: 1px 6px; border-radius: 999px; background: #e4e4ec; color: #3a3a40; font-size: 11px; font-weight: 500; }
.row-header { position: sticky; left: 0; z-index: 1; width: 170px; max-width: 170px; padding: 6px 10px 6px 0; text-align: left;
  vertical-align: top; font-weight: 400; background: var(--page); }
.prompt-number { font-weight: 650; }
.prompt-text { display: -webkit-box; -webkit-line-clamp: 6; -webkit-box-orient: vertical; overflow: hidden; margin: 2px 0 6px; }
.seed { color: var(--muted); font-variant-numeric: tabular-nums; }
.cell { width: var(--cell); max-width: var(--cell); padding: 0; vertical-align: top; background: var(--card);
  border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
.frame { display: flex; align-items: center; justify-content: center; width: 100%; height: var(--cell);
  background: #ececef; overflow: hidden; }
.frame img { display: block; max-width: 100%; max-height: 100%; width: auto; height: auto; object-fit: contain; }
.frame-failed, .frame-missing { flex-direction: column; align-items: flex-start; justify-content: flex-start; gap: 6px; padding: 14px; }
.frame-failed { background: var(--failed-bg); color: var(--failed); }
.frame-missing { background: #f0f0f2; color: var(--muted); }
.frame-title { font-size: 16px; font-weight: 700; }
.frame-reason { color: var(--ink); overflow-wrap: anywhere; display: -webkit-box; -webkit-line-clamp: 9; -webkit-box-orient: vertical; overflow: hidden; }
.caption { padding: 6px 10px 10px; font-size: 12px; }
.caption-model { font-weight: 600; }
.facts { display: flex; flex-wrap: wrap; gap: 0 10px; color: var(--muted); font-variant-numeric: tabular-nums; }
.warnings { list-style: none; margin: 6px 0 0; padding: 0; display: grid; gap: 4px; }
.warning { padding: 3px 8px; border-radius: 6px; background: var(--warn-bg); border: 1px solid var(--warn-line); color: var(--warn); overflow-wrap: anywhere; }
.warning-icon { font-weight: 700; }
`;
