import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import type { OverlayOptions } from 'sharp';
import { redactSecrets } from '../errors/errors.js';
import { writeFileAtomically } from '../files/files.js';
import { loadSharp } from '../files/sharp.js';
import { TEXT_LINE_ADVANCE, textImage, wrapPixelText } from '../placeholder/label.js';
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

  // Everything drawn is composited onto a plain page: the images, the tiles' backgrounds and the
  // labels, drawn in the toolkit's own pixel font (SVG text needs system fonts, which slim
  // containers, Lambda and CI images lack: sharp issues 3479, 1875, 2317).
  const layers: OverlayOptions[] = [];
  const headerScale = cellSize >= 96 ? 2 : 1;
  grid.columns.forEach((column, columnIndex) => {
    // The settings are what tell two columns of one model apart: they get the last line whatever
    // the model name leaves.
    const columns = Math.floor(cellSize / headerScale);
    const settings = Object.entries(column.settings).map(([name, value]) => `${name}=${value}`).join(' ');
    const room = Math.max(1, Math.floor((CONTACT_SHEET_HEADER_HEIGHT - 2 * HEADER_TOP) / (TEXT_LINE_ADVANCE * headerScale)));
    const modelLines = Math.max(1, room - (settings ? 1 : 0));
    const lines = [
      ...wrapPixelText(shortModelName(column.model, Math.floor(columns / 6) * modelLines), columns, modelLines),
      ...(settings ? wrapPixelText(settings, columns, room - modelLines) : []),
    ];
    layers.push(...text({ lines, left: cellLeft(columnIndex), top: HEADER_TOP, scale: headerScale, color: TEXT_COLOR }));
  });
  const tiles = grid.rows.flatMap((gridRow, rowIndex) => {
    layers.push(...rowLabel({ gridRow, top: cellTop(rowIndex), cellSize }));
    return gridRow.cells.map(async (cell, columnIndex): Promise<OverlayOptions[]> => {
      const left = cellLeft(columnIndex);
      const top = cellTop(rowIndex);
      if (cell === undefined) return tile({ left, top, cellSize, background: EMPTY_BACKGROUND, title: 'no result', titleColor: MUTED_COLOR, reason: '' });
      if (cell.status !== 'done') return tile({ left, top, cellSize, background: FAILED_BACKGROUND, title: cell.status === 'not-run' ? 'not run' : 'failed', titleColor: FAILED_COLOR, reason: cell.error ?? 'no reason given' });
      try {
        const input = await sharp(imageFilePath(folder, cell.file))
          .resize(cellSize, cellSize, { fit: 'contain', background: hex(CELL_BACKGROUND) })
          .png()
          .toBuffer();
        const unsent = unsentSettings(cell, grid.columns[columnIndex]!);
        return [{ input, left, top }, ...(unsent.length === 0 ? [] : unsentMark({ left, top, cellSize, settings: unsent }))];
      } catch (error) {
        return tile({ left, top, cellSize, background: FAILED_BACKGROUND, title: 'failed', titleColor: FAILED_COLOR, reason: `image unreadable: ${error instanceof Error ? error.message : String(error)}` });
      }
    });
  });
  layers.push(...(await Promise.all(tiles)).flat());

  const png = await sharp({ create: { width, height, channels: 3, background: hex(PAGE_BACKGROUND) } })
    .composite(layers)
    .png()
    .toBuffer();
  await writeFileAtomically(outputPath, png);
  return { width, height };
}

/** The column's settings a cell's warnings are about: dropped or changed for its model, so not sent as set. */
export function unsentSettings(cell: ExperimentRow, column: GridColumn): string[] {
  return Object.keys(column.settings).filter((name) => cell.warnings.some((warning) => warning.field === name));
}

/** An amber band across the bottom of a cell, in the pixel font: which of its column's settings were not sent as set. */
function unsentMark({ left, top, cellSize, settings }: { left: number; top: number; cellSize: number; settings: readonly string[] }): OverlayOptions[] {
  const scale = Math.max(1, Math.floor(cellSize / 200));
  const band = TEXT_LINE_ADVANCE * scale + 6;
  const lines = wrapPixelText(`! ${settings.join(', ')} not sent as set`, Math.floor((cellSize - 8) / scale), 1);
  return [
    { input: { create: { width: cellSize, height: band, channels: 3, background: hex(UNSENT_BACKGROUND) } }, left, top: top + cellSize - band },
    ...text({ lines, left: left + 4, top: top + cellSize - band + 3, scale, color: TEXT_COLOR }),
  ];
}

type Rgb = readonly [number, number, number];
const PAGE_BACKGROUND: Rgb = [255, 255, 255];
const CELL_BACKGROUND: Rgb = [238, 238, 238];
const EMPTY_BACKGROUND: Rgb = [246, 246, 246];
const FAILED_BACKGROUND: Rgb = [251, 228, 228];
const FAILED_COLOR: Rgb = [179, 38, 30];
const UNSENT_BACKGROUND: Rgb = [245, 184, 0];
/** The labels' ink colours, exact (the pixel font has no anti-aliasing): tests look for them. */
export const CONTACT_SHEET_TEXT_COLOR: Rgb = [31, 31, 31];
const TEXT_COLOR = CONTACT_SHEET_TEXT_COLOR;
const MUTED_COLOR: Rgb = [102, 102, 102];
const HEADER_TOP = 8;

const hex = ([red, green, blue]: Rgb) => ({ r: red, g: green, b: blue });

/** Lines of pixel-font text as a layer whose top-left corner is at (left, top); none for no lines. */
function text({ lines, left, top, scale, color }: { lines: readonly string[]; left: number; top: number; scale: number; color: Rgb }): OverlayOptions[] {
  const image = textImage({ lines, scale, color });
  if (image === undefined) return [];
  return [{ input: Buffer.from(image.data.buffer, image.data.byteOffset, image.data.byteLength), raw: { width: image.width, height: image.height, channels: 4 }, left, top }];
}

/** The resolved image file of a done row, refusing paths that leave the experiment folder. */
function imageFilePath(folder: string, relativePath: string | undefined): string {
  if (relativePath === undefined) throw new Error('no image path recorded');
  const root = path.resolve(folder);
  const target = path.resolve(root, relativePath);
  const relative = path.relative(root, target);
  if (relative === '' || relative.startsWith('..') || path.isAbsolute(relative)) throw new Error(`path outside the experiment folder: ${relativePath}`);
  return target;
}

function rowLabel({ gridRow, top, cellSize }: { gridRow: GridRow; top: number; cellSize: number }): OverlayOptions[] {
  const padding = 10;
  const scale = cellSize >= 100 ? 2 : 1;
  const lineHeight = TEXT_LINE_ADVANCE * scale;
  const columns = Math.floor((CONTACT_SHEET_LABEL_WIDTH - 2 * padding) / scale);
  const maximumLines = Math.max(2, Math.floor((cellSize - 2 * padding) / lineHeight));
  const seedLine = `seed ${gridRow.seed ?? '(none)'}${gridRow.repeat > 0 ? ` (${gridRow.repeat + 1})` : ''}`;
  const promptLines = wrapPixelText(gridRow.prompt.slice(0, 200), columns, Math.min(3, maximumLines - 2));
  return [
    ...text({ lines: [`prompt #${gridRow.promptIndex + 1}`, ...promptLines], left: padding, top: top + padding, scale, color: TEXT_COLOR }),
    ...text({ lines: [seedLine], left: padding, top: top + padding + lineHeight * (promptLines.length + 1), scale, color: MUTED_COLOR }),
  ];
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
  background: Rgb;
  title: string;
  titleColor: Rgb;
  reason: string;
}): OverlayOptions[] {
  const padding = Math.max(4, Math.round(cellSize / 16));
  const titleScale = Math.max(1, Math.round(cellSize / 100));
  const reasonScale = Math.max(1, Math.floor(cellSize / 200));
  const reasonTop = top + padding * 2 + TEXT_LINE_ADVANCE * titleScale;
  const reasonLines = wrapPixelText(
    redactSecrets(reason),
    Math.floor((cellSize - 2 * padding) / reasonScale),
    Math.max(0, Math.floor((top + cellSize - padding - reasonTop) / (TEXT_LINE_ADVANCE * reasonScale))),
  );
  return [
    { input: { create: { width: cellSize, height: cellSize, channels: 3, background: hex(background) } }, left, top },
    ...text({ lines: wrapPixelText(title, Math.floor((cellSize - 2 * padding) / titleScale), 1), left: left + padding, top: top + padding, scale: titleScale, color: titleColor }),
    ...text({ lines: reasonLines, left: left + padding, top: reasonTop, scale: reasonScale, color: TEXT_COLOR }),
  ];
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
