import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { OverlayOptions } from 'sharp';
import { redactSecrets } from '../errors/errors.js';
import { writeFileAtomically } from '../files/files.js';
import { loadSharp } from '../files/sharp.js';
import type { ExperimentRow } from './types.js';

/** Width of the left column that names each grid row (prompt and seed). */
export const CONTACT_SHEET_LABEL_WIDTH = 200;
/** Height of the top row that names each column (model and settings). */
export const CONTACT_SHEET_HEADER_HEIGHT = 64;
/** Space around and between cells. */
export const CONTACT_SHEET_GAP = 8;

/** One column of the grid: a model with one combination of settings. */
export type GridColumn = { label: string; model: string; settings: ExperimentRow['settings'] };

/** One line of the grid: a prompt with a seed, and what each column made for it. */
export type GridRow = {
  promptIndex: number;
  prompt: string;
  seed: number | undefined;
  /**
   * 0 unless the same prompt, seed and column appear more than once (no seed given, several images
   * per cell): each repeat gets its own grid row rather than being dropped.
   */
  repeat: number;
  /** By column index; `undefined` where the experiment has no row for that cell. */
  cells: Array<ExperimentRow | undefined>;
};

export type ExperimentGrid = { columns: GridColumn[]; rows: GridRow[] };

/**
 * The layout shared by the contact sheet and the gallery: rows are prompt × seed (by prompt index,
 * then seed, rows without a seed last), columns are the distinct `column` values in first-seen order.
 */
export function experimentGrid(rows: readonly ExperimentRow[]): ExperimentGrid {
  const columns: GridColumn[] = [];
  const columnIndexes = new Map<string, number>();
  const gridRows = new Map<string, GridRow>();
  const seenCells = new Map<string, number>();
  for (const row of rows) {
    let columnIndex = columnIndexes.get(row.column);
    if (columnIndex === undefined) {
      columnIndex = columns.length;
      columnIndexes.set(row.column, columnIndex);
      columns.push({ label: row.column, model: row.model, settings: row.settings });
    }
    const cellKey = JSON.stringify([row.promptIndex, row.seed ?? null, columnIndex]);
    const repeat = seenCells.get(cellKey) ?? 0;
    seenCells.set(cellKey, repeat + 1);
    const rowKey = JSON.stringify([row.promptIndex, row.seed ?? null, repeat]);
    let gridRow = gridRows.get(rowKey);
    if (gridRow === undefined) {
      gridRow = { promptIndex: row.promptIndex, prompt: row.prompt, seed: row.seed, repeat, cells: [] };
      gridRows.set(rowKey, gridRow);
    }
    gridRow.cells[columnIndex] = row;
  }
  const sorted = [...gridRows.values()].sort(
    (left, right) =>
      left.promptIndex - right.promptIndex ||
      (left.seed ?? Number.POSITIVE_INFINITY) - (right.seed ?? Number.POSITIVE_INFINITY) ||
      left.repeat - right.repeat,
  );
  // Fill holes so every grid row has exactly one entry per column.
  for (const gridRow of sorted) gridRow.cells = columns.map((_, index) => gridRow.cells[index]);
  return { columns, rows: sorted };
}

/**
 * The exact pixel size of a contact sheet:
 * `width = LABEL_WIDTH + columns × cellSize + (columns + 1) × GAP`,
 * `height = HEADER_HEIGHT + rows × cellSize + (rows + 1) × GAP`
 * (200, 64 and 8 pixels).
 *
 * @example
 * contactSheetSize({ rows: 4, columns: 3, cellSize: 256 }); // { width: 1000, height: 1128 }
 */
export function contactSheetSize({ rows, columns, cellSize }: { rows: number; columns: number; cellSize: number }): {
  width: number;
  height: number;
} {
  return {
    width: CONTACT_SHEET_LABEL_WIDTH + columns * cellSize + (columns + 1) * CONTACT_SHEET_GAP,
    height: CONTACT_SHEET_HEADER_HEIGHT + rows * cellSize + (rows + 1) * CONTACT_SHEET_GAP,
  };
}

/** The largest side of one sheet: under 16384, the most librsvg, sharp and most viewers take. */
export const CONTACT_SHEET_MAX_SIDE = 16_000;
/** Cells are never drawn smaller than this; past it, the sheet is split into pages instead. */
export const CONTACT_SHEET_MIN_CELL = 32;

/**
 * How an experiment fits on sheets no larger than `maxSide`: cells shrink (down to
 * `CONTACT_SHEET_MIN_CELL`) until the columns fit across, then rows, and columns if they still do
 * not fit, are split into pages.
 *
 * @example
 * contactSheetLayout({ rows: 440, columns: 10, cellSize: 256 }); // { cellSize: 256, rowsPerPage: 60, columnsPerPage: 10, pages: 8 }
 */
export function contactSheetLayout({ rows, columns, cellSize, maxSide = CONTACT_SHEET_MAX_SIDE }: { rows: number; columns: number; cellSize: number; maxSide?: number }): {
  cellSize: number;
  rowsPerPage: number;
  columnsPerPage: number;
  pages: number;
} {
  const fitting = (room: number, count: number) => Math.floor((room - CONTACT_SHEET_GAP) / Math.max(1, count)) - CONTACT_SHEET_GAP;
  const cell = Math.max(CONTACT_SHEET_MIN_CELL, Math.min(cellSize, fitting(maxSide - CONTACT_SHEET_LABEL_WIDTH, columns)));
  const columnsPerPage = Math.max(1, Math.min(columns, Math.floor((maxSide - CONTACT_SHEET_LABEL_WIDTH - CONTACT_SHEET_GAP) / (cell + CONTACT_SHEET_GAP))));
  const rowsPerPage = Math.max(1, Math.min(rows, Math.floor((maxSide - CONTACT_SHEET_HEADER_HEIGHT - CONTACT_SHEET_GAP) / (cell + CONTACT_SHEET_GAP))));
  const pages = Math.max(1, Math.ceil(rows / rowsPerPage) * Math.ceil(columns / columnsPerPage));
  return { cellSize: cell, rowsPerPage, columnsPerPage, pages };
}

/** `contact-sheet.png`, then `contact-sheet-2.png`, `contact-sheet-3.png`, … beside it. */
export function contactSheetPagePath(outputPath: string, page: number): string {
  if (page === 1) return outputPath;
  const extension = path.extname(outputPath);
  return `${outputPath.slice(0, outputPath.length - extension.length)}-${page}${extension}`;
}

/**
 * Draws the experiment as labelled PNGs: a header with the column labels, a left column with
 * "prompt #n / seed s", each image fitted (contain) into a `cellSize` square, failed cells as a red
 * tile with the reason. Image paths are read relative to `folder`; an image that cannot be read is
 * drawn as failed rather than failing the sheet. Prompt numbers are shown from 1. Any experiment
 * fits: past `CONTACT_SHEET_MAX_SIDE` the cells shrink, then the sheet is split into pages
 * (`contact-sheet-2.png`, …); `path`, `width` and `height` are the first page's.
 *
 * @example
 * await makeContactSheet({ rows, folder: 'out/compare-1', outputPath: 'out/compare-1/contact-sheet.png' });
 */
export async function makeContactSheet({
  rows,
  folder,
  outputPath,
  cellSize = 256,
  maxSide = CONTACT_SHEET_MAX_SIDE,
}: {
  rows: readonly ExperimentRow[];
  folder: string;
  outputPath: string;
  /** @default 256 */
  cellSize?: number;
  /** @default 16000 */
  maxSide?: number;
}): Promise<{ path: string; pages: string[]; width: number; height: number; rows: number; columns: number; cellSize: number }> {
  if (!Number.isInteger(cellSize) || cellSize < 16) throw new RangeError(`cellSize must be an integer of at least 16, got ${cellSize}`);
  // Loaded before anything is drawn, so a missing sharp is one clear error for the whole sheet.
  await loadSharp('The contact sheet of imagegen compare');
  const grid = experimentGrid(rows);
  const layout = contactSheetLayout({ rows: grid.rows.length, columns: grid.columns.length, cellSize, maxSide });
  await mkdir(path.dirname(path.resolve(outputPath)), { recursive: true });
  const pages: string[] = [];
  let first: { width: number; height: number } | undefined;
  for (let rowStart = 0; rowStart < Math.max(1, grid.rows.length); rowStart += layout.rowsPerPage) {
    for (let columnStart = 0; columnStart < Math.max(1, grid.columns.length); columnStart += layout.columnsPerPage) {
      const columnIndexes = grid.columns.map((_, index) => index).slice(columnStart, columnStart + layout.columnsPerPage);
      const page = {
        columns: columnIndexes.map((index) => grid.columns[index]!),
        rows: grid.rows.slice(rowStart, rowStart + layout.rowsPerPage).map((gridRow) => ({ ...gridRow, cells: columnIndexes.map((index) => gridRow.cells[index]) })),
      };
      const pagePath = contactSheetPagePath(outputPath, pages.length + 1);
      const size = await drawPage({ grid: page, folder, outputPath: pagePath, cellSize: layout.cellSize });
      first ??= size;
      pages.push(pagePath);
    }
  }
  return { path: outputPath, pages, ...first!, rows: grid.rows.length, columns: grid.columns.length, cellSize: layout.cellSize };
}

async function drawPage({ grid, folder, outputPath, cellSize }: { grid: ExperimentGrid; folder: string; outputPath: string; cellSize: number }): Promise<{ width: number; height: number }> {
  const sharp = await loadSharp('The contact sheet of imagegen compare');
  const { width, height } = contactSheetSize({ rows: grid.rows.length, columns: grid.columns.length, cellSize });
  const cellLeft = (columnIndex: number) => CONTACT_SHEET_LABEL_WIDTH + CONTACT_SHEET_GAP + columnIndex * (cellSize + CONTACT_SHEET_GAP);
  const cellTop = (rowIndex: number) => CONTACT_SHEET_HEADER_HEIGHT + CONTACT_SHEET_GAP + rowIndex * (cellSize + CONTACT_SHEET_GAP);

  const svg: string[] = [];
  /** Drawn over the images: the marks of cells whose column settings were not sent as set. */
  const marks: string[] = [];
  const images: OverlayOptions[] = [];
  grid.columns.forEach((column, columnIndex) => {
    // The settings are what tell two columns of one model apart: they get the last line whatever
    // the model name leaves.
    const lineLength = charactersPerLine(cellSize, HEADER_FONT_SIZE);
    const settings = Object.entries(column.settings).map(([name, value]) => `${name}=${value}`).join(' ');
    const lines = [...wrapText(shortModelName(column.model, lineLength * 2), lineLength, settings ? 2 : 3), ...(settings ? wrapText(settings, lineLength, 1) : [])];
    svg.push(textBlock({ lines, x: cellLeft(columnIndex), y: 14, fontSize: HEADER_FONT_SIZE, fill: TEXT_COLOR, bold: true }));
  });
  const tiles = grid.rows.flatMap((gridRow, rowIndex) => {
    svg.push(rowLabel({ gridRow, top: cellTop(rowIndex), cellSize }));
    return gridRow.cells.map(async (cell, columnIndex) => {
      const left = cellLeft(columnIndex);
      const top = cellTop(rowIndex);
      if (cell === undefined) return tile({ left, top, cellSize, background: EMPTY_BACKGROUND, title: 'no result', titleColor: MUTED_COLOR, reason: '' });
      if (cell.status !== 'done') return tile({ left, top, cellSize, background: FAILED_BACKGROUND, title: cell.status === 'not-run' ? 'not run' : 'failed', titleColor: FAILED_COLOR, reason: cell.error ?? 'no reason given' });
      try {
        const input = await sharp(imageFilePath(folder, cell.file))
          .resize(cellSize, cellSize, { fit: 'contain', background: CELL_BACKGROUND })
          .png()
          .toBuffer();
        images.push({ input, left, top });
        const unsent = unsentSettings(cell, grid.columns[columnIndex]!);
        if (unsent.length > 0) marks.push(unsentMark({ left, top, cellSize, settings: unsent }));
        return '';
      } catch (error) {
        return tile({ left, top, cellSize, background: FAILED_BACKGROUND, title: 'failed', titleColor: FAILED_COLOR, reason: `image unreadable: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
  });
  svg.push(...(await Promise.all(tiles)));

  const overlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${svg.join('')}</svg>`;
  const markOverlay = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}">${marks.join('')}</svg>`;
  const png = await sharp({ create: { width, height, channels: 3, background: PAGE_BACKGROUND } })
    .composite([{ input: Buffer.from(overlay), left: 0, top: 0 }, ...images, ...(marks.length === 0 ? [] : [{ input: Buffer.from(markOverlay), left: 0, top: 0 }])])
    .png()
    .toBuffer();
  await writeFileAtomically(outputPath, png);
  return { width, height };
}

/** The column's settings a cell's warnings are about: dropped or changed for its model, so not sent as set. */
export function unsentSettings(cell: ExperimentRow, column: GridColumn): string[] {
  return Object.keys(column.settings).filter((name) => cell.warnings.some((warning) => warning.field === name));
}

/** An amber band across the bottom of a cell: which of its column's settings were not sent as set. */
function unsentMark({ left, top, cellSize, settings }: { left: number; top: number; cellSize: number; settings: readonly string[] }): string {
  const fontSize = Math.max(9, Math.round(cellSize / 20));
  const band = Math.round(fontSize * LINE_HEIGHT_RATIO) + 6;
  const text = truncate(`⚠ ${settings.join(', ')} not sent as set`, charactersPerLine(cellSize - 8, fontSize));
  return [
    `<rect x="${left}" y="${top + cellSize - band}" width="${cellSize}" height="${band}" fill="${UNSENT_BACKGROUND}"/>`,
    textBlock({ lines: [text], x: left + 4, y: top + cellSize - band + 3, fontSize, fill: TEXT_COLOR, bold: true }),
  ].join('');
}

const UNSENT_BACKGROUND = '#f5b800';
const PAGE_BACKGROUND = '#ffffff';
const CELL_BACKGROUND = '#eeeeee';
const EMPTY_BACKGROUND = '#f6f6f6';
const FAILED_BACKGROUND = '#fbe4e4';
const FAILED_COLOR = '#b3261e';
const TEXT_COLOR = '#1f1f1f';
const MUTED_COLOR = '#666666';
const HEADER_FONT_SIZE = 12;
const LABEL_FONT_SIZE = 13;
const LINE_HEIGHT_RATIO = 1.3;
// No font is embedded: librsvg picks whatever sans-serif fontconfig has, and never the network.
const FONT_FAMILY = 'DejaVu Sans, Liberation Sans, Arial, sans-serif';

/** The resolved image file of a done row, refusing paths that leave the experiment folder. */
function imageFilePath(folder: string, relativePath: string | undefined): string {
  if (relativePath === undefined) throw new Error('no image path recorded');
  const root = path.resolve(folder);
  const target = path.resolve(root, relativePath);
  const relative = path.relative(root, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`path outside the experiment folder: ${relativePath}`);
  return target;
}

function rowLabel({ gridRow, top, cellSize }: { gridRow: GridRow; top: number; cellSize: number }): string {
  const padding = 10;
  const lineHeight = Math.round(LABEL_FONT_SIZE * LINE_HEIGHT_RATIO);
  const maximumLines = Math.max(2, Math.floor((cellSize - 2 * padding) / lineHeight));
  const seedLine = `seed ${gridRow.seed ?? '(none)'}${gridRow.repeat > 0 ? ` (${gridRow.repeat + 1})` : ''}`;
  const excerpt = truncate(gridRow.prompt.replace(/\s+/g, ' ').trim(), 40);
  const promptLines = wrapText(excerpt, charactersPerLine(CONTACT_SHEET_LABEL_WIDTH - 2 * padding, LABEL_FONT_SIZE), Math.min(3, maximumLines - 2));
  return [
    textBlock({ lines: [`prompt #${gridRow.promptIndex + 1}`], x: padding, y: top + padding, fontSize: LABEL_FONT_SIZE, fill: TEXT_COLOR, bold: true }),
    textBlock({ lines: promptLines, x: padding, y: top + padding + lineHeight, fontSize: LABEL_FONT_SIZE, fill: TEXT_COLOR, bold: false }),
    textBlock({ lines: [seedLine], x: padding, y: top + padding + lineHeight * (promptLines.length + 1), fontSize: LABEL_FONT_SIZE, fill: MUTED_COLOR, bold: false }),
  ].join('');
}

function tile({
  left,
  top,
  cellSize,
  background,
  title,
  titleColor,
  reason,
}: {
  left: number;
  top: number;
  cellSize: number;
  background: string;
  title: string;
  titleColor: string;
  reason: string;
}): string {
  const padding = Math.max(4, Math.round(cellSize / 16));
  const titleSize = Math.max(10, Math.round(cellSize / 10));
  const reasonSize = Math.max(8, Math.round(cellSize / 22));
  const reasonLineHeight = Math.round(reasonSize * LINE_HEIGHT_RATIO);
  const reasonTop = top + padding * 2 + titleSize;
  const reasonLines = wrapText(
    redactSecrets(reason).replace(/\s+/g, ' ').trim(),
    charactersPerLine(cellSize - 2 * padding, reasonSize),
    Math.max(0, Math.floor((top + cellSize - padding - reasonTop) / reasonLineHeight)),
  );
  return [
    `<rect x="${left}" y="${top}" width="${cellSize}" height="${cellSize}" fill="${background}"/>`,
    textBlock({ lines: [title], x: left + padding, y: top + padding, fontSize: titleSize, fill: titleColor, bold: true }),
    textBlock({ lines: reasonLines, x: left + padding, y: reasonTop, fontSize: reasonSize, fill: TEXT_COLOR, bold: false }),
  ].join('');
}

/** Lines of text whose first line's top edge is at `y`. */
function textBlock({ lines, x, y, fontSize, fill, bold }: { lines: readonly string[]; x: number; y: number; fontSize: number; fill: string; bold: boolean }): string {
  if (lines.length === 0) return '';
  const lineHeight = Math.round(fontSize * LINE_HEIGHT_RATIO);
  const spans = lines.map((line, index) => `<tspan x="${x}" y="${y + fontSize + index * lineHeight}">${escapeXml(line)}</tspan>`).join('');
  return `<text font-family="${FONT_FAMILY}" font-size="${fontSize}"${bold ? ' font-weight="bold"' : ''} fill="${fill}">${spans}</text>`;
}

/** How many characters fit in `width` pixels; SVG cannot measure text, so this assumes a wide average glyph. */
function charactersPerLine(width: number, fontSize: number): number {
  return Math.max(4, Math.floor(width / (fontSize * 0.62)));
}

/**
 * A model name that fits: `provider:org/model` loses the organisation first, since the last part
 * is what tells models apart (`togetherai:FLUX.1-dev`).
 */
function shortModelName(model: string, room: number): string {
  if (model.length <= room) return model;
  const separator = model.indexOf(':');
  return `${model.slice(0, separator + 1)}${model.slice(separator + 1).split('/').pop()}`;
}

/**
 * Greedy word wrap that prefers to break after a space, `/` or `:` (model ids have few spaces),
 * cuts words longer than a line, and ends the last line with `…` when text is left over.
 */
function wrapText(text: string, lineLength: number, maximumLines: number): string[] {
  if (maximumLines <= 0 || text === '') return [];
  const lines: string[] = [];
  let current = '';
  for (const token of text.split(/(?<=[\s/:])/)) {
    let rest = token;
    while (rest.length > 0) {
      if (current.length + rest.length <= lineLength) {
        current += rest;
        rest = '';
      } else if (current.length > 0) {
        lines.push(current.trimEnd());
        current = '';
        rest = rest.trimStart();
      } else {
        lines.push(rest.slice(0, lineLength));
        rest = rest.slice(lineLength);
      }
    }
  }
  if (current.trim() !== '') lines.push(current.trimEnd());
  if (lines.length <= maximumLines) return lines;
  const kept = lines.slice(0, maximumLines);
  kept[maximumLines - 1] = `${kept[maximumLines - 1]!.slice(0, lineLength - 1).trimEnd()}…`;
  return kept;
}

function truncate(text: string, length: number): string {
  return text.length <= length ? text : `${text.slice(0, length - 1).trimEnd()}…`;
}

function escapeXml(text: string): string {
  return (
    text
      // Characters XML 1.0 forbids outright; one in a prompt would make librsvg reject the whole sheet.
      .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '')
      .replaceAll('&', '&amp;')
      .replaceAll('<', '&lt;')
      .replaceAll('>', '&gt;')
      .replaceAll('"', '&quot;')
      .replaceAll("'", '&apos;')
  );
}
