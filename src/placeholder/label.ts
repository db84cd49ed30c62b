import { PIXEL_FONT, PIXEL_FONT_LINE_HEIGHT } from './pixel-font.js';
import { modelAccent, type Picture } from './background.js';

/** The colours of the label, for tests that look for it. */
export const LABEL_COLORS = {
  mark: [255, 210, 0],
  text: [255, 255, 255],
  prompt: [215, 215, 215],
} as const satisfies Record<string, readonly [number, number, number]>;

// In font pixels (one font pixel is `scale` image pixels).
const PADDING = 3;
const GLYPH_GAP = 1;
const DESCENT = 2;
const LINE_ADVANCE = PIXEL_FONT_LINE_HEIGHT + DESCENT + 2;
const ACCENT_BAR = 2;
const MAX_MODEL_LINES = 2;
const MAX_PROMPT_LINES = 4;
const MAX_SETTINGS_LINES = 2;
/** More of a prompt than four lines can show at any size: the rest is never looked at. */
const MAX_PROMPT_CHARACTERS = 4096;
/** The label takes at most this share of the picture's height; prompt lines go first when it would not fit. */
const MAX_LABEL_SHARE = 0.62;
const PANEL_DARKNESS = 0.2;

/** One line of label text, at font pixel (x, y) of its top line. */
export type LabelLine = { text: string; x: number; y: number; color: readonly [number, number, number] };

/** Where everything of a label goes, in font pixels (one is `scale` image pixels). */
export type LabelLayout = { scale: number; stripHeight: number; panelTop: number; accent: readonly [number, number, number]; lines: LabelLine[] };

/**
 * The label: a dark strip at the top with the "PLACEHOLDER" mark (and seed and size where they fit
 * beside it), and a dark panel at the bottom with the model (under a bar in the model's colour), the
 * other settings asked for (steps, guidance, negative prompt, ...), the
 * prompt (wrapped, at most four lines, cut with "...") and otherwise seed and size. The font is
 * scaled by whole pixels to the picture; pictures too small for the mark get no label (`undefined`).
 */
export function layoutLabel({ prompt, seed, width, height, model, settings }: Picture): LabelLayout | undefined {
  // About 160 font pixels across: the model id on one line, and readable when a gallery shows a 512 px picture at 220 px.
  const scale = Math.max(1, Math.floor(Math.min(width / 160, height / 120)));
  const columns = Math.floor(width / scale) - 2 * PADDING;
  const rows = Math.floor(height / scale);
  const mark = 'PLACEHOLDER';
  const stripHeight = PIXEL_FONT_LINE_HEIGHT + 2 * PADDING;
  if (columns < textWidth(mark) || rows < stripHeight + ACCENT_BAR + LINE_ADVANCE + 2 * PADDING) return undefined;

  const meta = `seed ${seed}  ${width}x${height}`;
  const metaInStrip = textWidth(mark) + textWidth('  ') + textWidth(meta) <= columns;
  const budget = Math.floor(rows * MAX_LABEL_SHARE) - stripHeight - ACCENT_BAR - 2 * PADDING;
  const modelOnly = wrap(printable(model), columns, MAX_MODEL_LINES);
  // The settings a compare varies: before the prompt, so a small cell keeps them, as far as they fit.
  const settingsRoom = Math.max(0, Math.floor(budget / LINE_ADVANCE) - modelOnly.length - (metaInStrip ? 0 : 1));
  const settingsLines = settings ? wrap(printable(settings), columns, Math.min(MAX_SETTINGS_LINES, settingsRoom)) : [];
  const modelLines = [...modelOnly, ...settingsLines].map((text) => ({ text, color: LABEL_COLORS.text }));
  const fixedLines = modelLines.length + (metaInStrip ? 0 : 1);
  const promptLineCount = Math.max(0, Math.min(MAX_PROMPT_LINES, Math.floor(budget / LINE_ADVANCE) - fixedLines));
  const panelLines = [
    ...modelLines,
    // At most four lines show: wrapping a 30 MB prompt whole took over a minute for the same label.
    ...wrap(printable(prompt.length > MAX_PROMPT_CHARACTERS ? `${prompt.slice(0, MAX_PROMPT_CHARACTERS)}...` : prompt), columns, promptLineCount).map((text) => ({ text, color: LABEL_COLORS.prompt })),
    ...(metaInStrip ? [] : [{ text: fit(meta, columns), color: LABEL_COLORS.text }]),
  ].slice(0, Math.max(1, fixedLines + promptLineCount));

  const panelTop = rows - (ACCENT_BAR + 2 * PADDING + panelLines.length * LINE_ADVANCE - 2);
  return {
    scale,
    stripHeight,
    panelTop,
    accent: modelAccent(model),
    lines: [
      { text: mark, x: PADDING, y: PADDING, color: LABEL_COLORS.mark },
      ...(metaInStrip ? [{ text: meta, x: PADDING + columns - textWidth(meta), y: PADDING, color: LABEL_COLORS.text }] : []),
      ...panelLines.map((line, index) => ({ ...line, x: PADDING, y: panelTop + ACCENT_BAR + PADDING + index * LINE_ADVANCE })),
    ],
  };
}

/** Paints the label of `layoutLabel` over the background. */
export function drawLabel(pixels: Uint8Array, picture: Picture): void {
  const layout = layoutLabel(picture);
  if (layout === undefined) return;
  const canvas = { pixels, width: picture.width, height: picture.height, scale: layout.scale };
  darken(canvas, 0, layout.stripHeight);
  fill(canvas, layout.panelTop, ACCENT_BAR, layout.accent);
  darken(canvas, layout.panelTop + ACCENT_BAR, Number.POSITIVE_INFINITY);
  for (const line of layout.lines) drawText(canvas, line.text, line.x, line.y, line.color);
}

type Canvas = { pixels: Uint8Array; width: number; height: number; scale: number };

/** Darkens rows [from, to) (in font pixels; `to` past the picture's end reaches its last row). */
function darken({ pixels, width, height, scale }: Canvas, from: number, to: number): void {
  const end = Math.min(height, to * scale) * width * 3;
  for (let offset = from * scale * width * 3; offset < end; offset++) pixels[offset] = pixels[offset]! * PANEL_DARKNESS;
}

function fill({ pixels, width, height, scale }: Canvas, top: number, rowCount: number, color: readonly [number, number, number]): void {
  const end = Math.min(height, (top + rowCount) * scale) * width * 3;
  for (let offset = top * scale * width * 3; offset < end; offset += 3) pixels.set(color, offset);
}

/** Draws `text` with its top line at font pixel (left, top). */
function drawText({ pixels, width, height, scale }: Canvas, text: string, left: number, top: number, color: readonly [number, number, number]): void {
  let x = left;
  for (const character of text) {
    const [offset = 0, glyphWidth = 0, ...glyphRows] = PIXEL_FONT[character] ?? PIXEL_FONT['?']!;
    glyphRows.forEach((bits, row) => {
      for (let column = 0; column < glyphWidth; column++) {
        if ((bits & (1 << column)) === 0) continue;
        const pixelX = (x + column) * scale;
        const pixelY = (top + offset + row) * scale;
        for (let dy = 0; dy < scale && pixelY + dy < height; dy++) {
          for (let dx = 0; dx < scale && pixelX + dx < width; dx++) pixels.set(color, ((pixelY + dy) * width + pixelX + dx) * 3);
        }
      }
    });
    x += glyphWidth + GLYPH_GAP;
  }
}

/** Width of `text` in font pixels. */
export function textWidth(text: string): number {
  let total = 0;
  for (const character of text) total += (PIXEL_FONT[character] ?? PIXEL_FONT['?']!)[1]! + GLYPH_GAP;
  return Math.max(0, total - GLYPH_GAP);
}

/** The height of one line of `textImage`, in font pixels (one is `scale` image pixels). */
export const TEXT_LINE_ADVANCE = LINE_ADVANCE;

/**
 * `text` (made printable: ASCII the font has) wrapped into at most `maxLines` lines of `columns`
 * font pixels, the last cut with "..." when text is left over.
 */
export function wrapPixelText(text: string, columns: number, maxLines: number): string[] {
  return wrap(printable(text.length > MAX_PROMPT_CHARACTERS ? `${text.slice(0, MAX_PROMPT_CHARACTERS)}...` : text), Math.max(columns, textWidth('W...')), maxLines);
}

/**
 * Lines of text in the pixel font as an RGBA image, ink in `color` and transparent elsewhere, to
 * composite over anything (the contact sheet's labels): no system font is involved, so it looks the
 * same in a slim container, a Lambda or CI image without fonts. `undefined` for no lines.
 */
export function textImage({ lines, scale, color }: { lines: readonly string[]; scale: number; color: readonly [number, number, number] }): { data: Uint8Array; width: number; height: number } | undefined {
  if (lines.length === 0) return undefined;
  const width = Math.max(1, ...lines.map((line) => textWidth(line))) * scale;
  const height = (lines.length * LINE_ADVANCE - 2) * scale;
  const ink = new Uint8Array(width * height * 3);
  const canvas = { pixels: ink, width, height, scale };
  lines.forEach((line, index) => drawText(canvas, line, 0, index * LINE_ADVANCE, [255, 255, 255]));
  const data = new Uint8Array(width * height * 4);
  for (let pixel = 0; pixel < width * height; pixel++) {
    if (ink[pixel * 3] === 0) continue;
    data.set(color, pixel * 4);
    data[pixel * 4 + 3] = 255;
  }
  return { data, width, height };
}

/** ASCII the font has: accents dropped (café → cafe), whitespace runs one space, the rest "?". */
function printable(text: string): string {
  return text
    .normalize('NFKD')
    .replace(/[\u0300-\u036f]/g, '')
    .replace(/\s+/g, ' ')
    .trim()
    .replace(/./gu, (character) => (character in PIXEL_FONT ? character : '?'));
}

/**
 * Greedy word wrap into at most `maxLines` lines of `columns` font pixels. Lines break at spaces and
 * after "/" or "-" (model ids have no spaces), a word longer than a line is cut, and text that does
 * not fit ends in "...".
 */
function wrap(text: string, columns: number, maxLines: number): string[] {
  if (maxLines <= 0 || text === '') return [];
  const pieces = text.split(' ').flatMap((word, index) => word.split(/(?<=[/-])/).map((piece, part) => ({ piece, space: index > 0 && part === 0 })));
  const lines: string[] = [];
  let current = '';
  for (const { piece, space } of pieces) {
    const joined = current === '' ? piece : `${current}${space ? ' ' : ''}${piece}`;
    if (textWidth(joined) <= columns) {
      current = joined;
      continue;
    }
    if (current !== '') lines.push(current);
    current = piece;
    while (textWidth(current) > columns) {
      const cut = longestPrefix(current, columns);
      lines.push(current.slice(0, cut));
      current = current.slice(cut);
    }
  }
  if (current !== '') lines.push(current);
  if (lines.length <= maxLines) return lines;
  return [...lines.slice(0, maxLines - 1), fit(`${lines[maxLines - 1]}...`, columns, true)];
}

/** `text` if it fits in `columns`, else its longest prefix that fits with "..." (always with `ellipsis`). */
function fit(text: string, columns: number, ellipsis = false): string {
  if (!ellipsis && textWidth(text) <= columns) return text;
  const body = ellipsis ? text.replace(/\.\.\.$/, '') : text;
  if (ellipsis && textWidth(`${body}...`) <= columns) return `${body}...`;
  return `${body.slice(0, longestPrefix(body, columns - textWidth('...') - GLYPH_GAP)).trimEnd()}...`;
}

function longestPrefix(text: string, columns: number): number {
  let length = 0;
  while (length < text.length && textWidth(text.slice(0, length + 1)) <= columns) length++;
  return Math.max(1, length);
}
