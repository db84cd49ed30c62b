import { parse as parseCsv } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { InvalidRequestError, type RequestIssue } from '../errors.js';
import { generateRequestSchema, parseRequest, type GenerateRequest } from '../pipeline/parse.js';

export type InputFormat = 'jsonl' | 'csv' | 'text';

/** One line of a batch file, resolved against the defaults. */
export type BatchJob = {
  /** Line in the input file, from 1. */
  line: number;
  request: GenerateRequest;
  /** Stable across runs of the same file: a hash of the request and its occurrence. */
  key: string;
  /** Column of each field on its line, for error messages. */
  columns: Record<string, number>;
};

/** A problem on one line: where, and what. */
export type LineError = { line: number; column: number; message: string };

export class InvalidBatchInputError extends InvalidRequestError {
  readonly lineErrors: readonly LineError[];

  constructor({ file, lineErrors }: { file: string; lineErrors: readonly LineError[] }) {
    super({
      issues: lineErrors.map((error) => ({ field: `${file}:${error.line}:${error.column}`, value: undefined, message: error.message })),
      context: `batch input ${file}`,
    });
    this.lineErrors = lineErrors;
    this.message = `Invalid batch input; nothing was sent:\n${lineErrors
      .map((error) => `  - ${file}:${error.line}:${error.column}: ${error.message}`)
      .join('\n')}`;
  }
}

const FIELDS = Object.keys(generateRequestSchema.shape);
const NUMBER_FIELDS = new Set(['count', 'steps', 'seed', 'guidance']);
const JSON_FIELDS = new Set(['loras', 'providerOptions']);
const BOOLEAN_FIELDS = new Set(['safetyChecker', 'strict']);

/** The format from the file name: `.jsonl`/`.ndjson` → JSONL, `.csv` → CSV, anything else → one prompt per line. */
export function detectFormat(fileName: string): InputFormat {
  if (/\.(jsonl|ndjson)$/i.test(fileName)) return 'jsonl';
  if (/\.csv$/i.test(fileName)) return 'csv';
  return 'text';
}

/**
 * Parses a batch file into jobs, each request validated by the request schema with the defaults
 * under it. Every bad line is reported with its line and column; nothing is dropped silently.
 */
export function parseBatchInput({
  text,
  format,
  defaults = {},
}: {
  text: string;
  format: InputFormat;
  defaults?: Partial<GenerateRequest>;
}): { jobs: BatchJob[]; errors: LineError[] } {
  // A byte order mark is how some editors save UTF-8; it is not part of the first request.
  if (text.startsWith('\uFEFF')) text = text.slice(1);
  const rows = format === 'jsonl' ? jsonlRows(text) : format === 'csv' ? csvRows(text) : textRows(text);
  const jobs: BatchJob[] = [];
  const errors: LineError[] = [...rows.errors];
  const keys = createKeyMaker();
  for (const row of rows.rows) {
    const request = { ...defaults, ...row.request } as GenerateRequest;
    try {
      jobs.push({ line: row.line, request, key: keys(request), columns: row.columns });
    } catch (error) {
      if (!InvalidRequestError.isInstance(error)) throw error;
      for (const issue of error.issues) errors.push({ line: row.line, column: columnOf(row.columns, issue), message: describeIssue(issue) });
    }
  }
  if (rows.rows.length === 0 && errors.length === 0) {
    errors.push({ line: 1, column: 1, message: 'the file has no requests' });
  }
  errors.sort((left, right) => left.line - right.line || left.column - right.column);
  return { jobs, errors };
}

/**
 * Makes job keys: a hash of the parsed request and how many identical requests came before it, so
 * keys are stable across runs and repeated requests stay distinct. Throws `InvalidRequestError`.
 */
export function createKeyMaker(): (request: GenerateRequest) => string {
  const occurrences = new Map<string, number>();
  return (request) => {
    const identity = canonicalJson(parseRequest(request));
    const occurrence = occurrences.get(identity) ?? 0;
    occurrences.set(identity, occurrence + 1);
    return sha256(`${identity}#${occurrence}`).slice(0, 24);
  };
}

type Row = { line: number; request: Record<string, unknown>; columns: Record<string, number> };

/** The column of the field an issue names (1 when unknown). */
export function columnOf(columns: Record<string, number>, issue: RequestIssue): number {
  return columns[issue.field.split(/[.,]/)[0]!.trim()] ?? 1;
}

function jsonlRows(text: string): { rows: Row[]; errors: LineError[] } {
  const rows: Row[] = [];
  const errors: LineError[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    const line = index + 1;
    if (content.trim() === '' || content.trimStart().startsWith('//')) return;
    const structure = checkJsonStructure(content);
    if (structure !== undefined) {
      errors.push({ line, ...structure });
      return;
    }
    let value: unknown;
    try {
      value = JSON.parse(content);
    } catch (error) {
      const position = /position (\d+)/.exec((error as Error).message)?.[1];
      errors.push({ line, column: position === undefined ? 1 : Number(position) + 1, message: `not valid JSON: ${(error as Error).message}` });
      return;
    }
    if (value === null || typeof value !== 'object' || Array.isArray(value)) {
      errors.push({ line, column: 1, message: 'each line must be a JSON object like {"prompt": "..."}' });
      return;
    }
    const columns: Record<string, number> = {};
    for (const field of Object.keys(value)) {
      const at = content.indexOf(`"${field}"`);
      if (at !== -1) columns[field] = at + 1;
    }
    rows.push({ line, request: value as Record<string, unknown>, columns });
  });
  return { rows, errors };
}

function csvRows(text: string): { rows: Row[]; errors: LineError[] } {
  let parsed: { record: string[]; info: { lines: number } }[];
  try {
    parsed = parseCsv(text, { relax_column_count: false, skip_empty_lines: true, bom: true, info: true }) as unknown as typeof parsed;
  } catch (error) {
    const failure = error as { lines?: number; column?: number; message: string };
    return { rows: [], errors: [{ line: failure.lines ?? 1, column: (failure.column ?? 0) + 1, message: `not valid CSV: ${failure.message}` }] };
  }
  // csv-parse counts the line a record ends on; quoted cells can span lines, blank lines are
  // skipped: the file line where a record starts is what a user can find.
  const startLine = ({ record, info }: (typeof parsed)[number]) =>
    info.lines - record.reduce((newlines, cell) => newlines + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
  const [header, ...body] = parsed.map((item) => item.record);
  const lines = parsed.map(startLine);
  if (header === undefined) return { rows: [], errors: [] };
  const columns = header.map((name) => name.trim());
  const errors: LineError[] = [];
  columns.forEach((name, index) => {
    if (!FIELDS.includes(name)) {
      errors.push({ line: 1, column: index + 1, message: `unknown column "${name}"; allowed: ${FIELDS.join(', ')}` });
    }
  });
  if (!columns.includes('prompt')) errors.push({ line: 1, column: 1, message: 'the header row has no "prompt" column' });
  if (errors.length > 0) return { rows: [], errors };

  const rows: Row[] = [];
  const cellErrors: LineError[] = [];
  body.forEach((record, index) => {
    const line = lines[index + 1]!;
    const request: Record<string, unknown> = {};
    columns.forEach((name, column) => {
      const cell = record[column]?.trim() ?? '';
      if (cell === '') return;
      if (JSON_FIELDS.has(name)) {
        const structure = checkJsonStructure(cell);
        if (structure !== undefined) {
          // The cell's own paths start inside the field: put the column's name in front.
          const message = structure.message.replace(/^[^:]*/, (inner) => (inner === '(request)' ? name : `${name}.${inner}`));
          cellErrors.push({ line, column: column + 1, message });
          return;
        }
      }
      if (NUMBER_FIELDS.has(name)) request[name] = cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell;
      else if (BOOLEAN_FIELDS.has(name)) request[name] = cell === 'true' ? true : cell === 'false' ? false : cell;
      else if (JSON_FIELDS.has(name)) {
        try {
          request[name] = JSON.parse(cell);
        } catch {
          request[name] = cell;
        }
      } else if (name === 'referenceImages') request[name] = cell.split(';').map((part) => part.trim());
      else request[name] = cell;
    });
    rows.push({ line, request, columns: Object.fromEntries(columns.map((name, column) => [name, column + 1])) });
  });
  const badLines = new Set(cellErrors.map((error) => error.line));
  return { rows: rows.filter((row) => !badLines.has(row.line)), errors: cellErrors };
}

/** How deep objects and arrays may nest in a request (`providerOptions` needs three or four). */
export const MAX_JSON_DEPTH = 32;

/**
 * What `JSON.parse` lets through silently or cannot survive: a key given twice in one object (the
 * last would win without a word) and nesting deep enough to overflow the stack later. One pass
 * over the text, no recursion; syntax errors are left to `JSON.parse`, which names them.
 */
export function checkJsonStructure(text: string): { column: number; message: string } | undefined {
  // One entry per open object or array: its keys so far (objects only) and its path, for messages.
  const open: { keys: Set<string> | undefined; path: string; lastKey: string | undefined }[] = [];
  let expectKey = false;
  for (let index = 0; index < text.length; index++) {
    const character = text[index];
    if (character === '"') {
      let end = index + 1;
      while (end < text.length && text[end] !== '"') end += text[end] === '\\' ? 2 : 1;
      const current = open.at(-1);
      if (current?.keys !== undefined && expectKey) {
        let key: string;
        try {
          key = JSON.parse(text.slice(index, end + 1)) as string;
        } catch {
          return undefined;
        }
        const field = current.path === '' ? key : `${current.path}.${key}`;
        if (current.keys.has(key)) return { column: index + 1, message: `${field}: key given twice (JSON would silently keep the last); give each field once` };
        current.keys.add(key);
        current.lastKey = key;
        expectKey = false;
      }
      index = end;
    } else if (character === '{' || character === '[') {
      const parent = open.at(-1);
      const path = parent === undefined ? '' : parent.keys === undefined ? `${parent.path}[]` : parent.path === '' ? (parent.lastKey ?? '') : `${parent.path}.${parent.lastKey ?? ''}`;
      open.push({ keys: character === '{' ? new Set() : undefined, path, lastKey: undefined });
      expectKey = character === '{';
      if (open.length > MAX_JSON_DEPTH) return { column: index + 1, message: `${path || '(request)'}: nested more than ${MAX_JSON_DEPTH} levels deep` };
    } else if (character === '}' || character === ']') {
      open.pop();
      expectKey = false;
    } else if (character === ',') {
      expectKey = open.at(-1)?.keys !== undefined;
    }
  }
  return undefined;
}

/**
 * The text of a batch file, or where it stops being UTF-8: bytes that are not would otherwise turn
 * into U+FFFD and be sent as part of a prompt.
 */
export function decodeBatchFile(bytes: Uint8Array): { text: string } | { error: LineError } {
  try {
    return { text: new TextDecoder('utf-8', { fatal: true }).decode(bytes) };
  } catch {
    const offset = firstInvalidUtf8(bytes);
    const before = bytes.subarray(0, offset);
    const lineStart = before.lastIndexOf(0x0a) + 1;
    const line = before.filter((byte) => byte === 0x0a).length + 1;
    const column = new TextDecoder().decode(bytes.subarray(lineStart, offset)).length + 1;
    const byte = bytes[offset]!.toString(16).toUpperCase().padStart(2, '0');
    return { error: { line, column, message: `not valid UTF-8 (byte 0x${byte}); save the file as UTF-8` } };
  }
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
function firstInvalidUtf8(bytes: Uint8Array): number {
  const decoder = new TextDecoder('utf-8', { fatal: true });
  let index = 0;
  while (index < bytes.length) {
    const lead = bytes[index]!;
    const length = lead < 0x80 ? 1 : lead >= 0xc2 && lead < 0xe0 ? 2 : lead >= 0xe0 && lead < 0xf0 ? 3 : lead >= 0xf0 && lead < 0xf5 ? 4 : 0;
    if (length === 0 || index + length > bytes.length) return index;
    try {
      decoder.decode(bytes.subarray(index, index + length));
    } catch {
      return index;
    }
    index += length;
  }
  return index;
}

function textRows(text: string): { rows: Row[]; errors: LineError[] } {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    const prompt = content.trim();
    if (prompt === '' || prompt.startsWith('#')) return;
    rows.push({ line: index + 1, request: { prompt }, columns: { prompt: 1 } });
  });
  return { rows, errors: [] };
}

export function describeIssue(issue: RequestIssue): string {
  const value = issue.value === undefined ? '' : ` (got ${JSON.stringify(issue.value)})`;
  return `${issue.field}: ${issue.message}${value}`;
}

/** JSON with sorted keys, bytes as their hash: equal requests give equal text. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) => {
    if (item instanceof Uint8Array) return `sha256:${sha256(item)}`;
    if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
      return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([left], [right]) => left.localeCompare(right)));
    }
    return item;
  });
}

export function sha256(data: string | Uint8Array): string {
  return createHash('sha256').update(data).digest('hex');
}
