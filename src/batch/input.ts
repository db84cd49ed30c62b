import { parse as parseCsv } from 'csv-parse/sync';
import { createHash } from 'node:crypto';
import { InvalidRequestError, type RequestIssue } from '../errors.js';
import { generateRequestSchema, parseRequest, type GenerateRequest } from '../request.js';

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

const FIELDS = Object.keys(generateRequestSchema.shape).filter((field) => field !== 'abortSignal');
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
    const identity = canonicalJson({ ...parseRequest(request), abortSignal: undefined });
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
  let records: string[][];
  try {
    records = parseCsv(text, { relax_column_count: false, skip_empty_lines: true, bom: true }) as string[][];
  } catch (error) {
    const failure = error as { lines?: number; column?: number; message: string };
    return { rows: [], errors: [{ line: failure.lines ?? 1, column: (failure.column ?? 0) + 1, message: `not valid CSV: ${failure.message}` }] };
  }
  const [header, ...body] = records;
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
  body.forEach((record, index) => {
    const line = index + 2;
    const request: Record<string, unknown> = {};
    columns.forEach((name, column) => {
      const cell = record[column]?.trim() ?? '';
      if (cell === '') return;
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
  return { rows, errors: [] };
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
