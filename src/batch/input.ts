import { parse as parseCsv } from 'csv-parse/sync';
import * as crypto from 'node:crypto';
import { ADVICE } from '../errors/doors.js';
import { errorMessage, InvalidRequestError, type RequestIssue } from '../errors/errors.js';
import { isTogetherField, TOGETHER_FIELD_TYPES, withOurFieldNames } from '../pipeline/aliases.js';
import { generateRequestSchema, parseRequest, type GenerateRequest } from '../pipeline/parse.js';
import { canonicalJsonFormats, canonicalJsonOf } from '../util/canonical-json.js';

export { KEY_FORMAT } from '../util/canonical-json.js';

export type InputFormat = 'jsonl' | 'csv' | 'text';

/** One line of a batch file, resolved against the defaults. */
export type BatchJob = {
  /** Line in the input file, from 1. */
  line: number;
  request: GenerateRequest;
  /** Stable across runs of the same file and across machines: a hash of the request and its occurrence. */
  key: string;
  /**
   * The key format 1 gave this job on this machine, only where it differs from `key`: a journal
   * written before format 2 is looked up under it, so an old run still resumes.
   */
  legacyKey?: string;
  /** Column of each field on its line, for error messages. */
  columns: Record<string, number>;
};

/** A problem on one line: where, and what. */
export type LineError = { line: number; column: number; message: string };

export class InvalidBatchInputError extends InvalidRequestError {
  readonly lineErrors: readonly LineError[];

  /** Lines that are fine: what `skipInvalid` would send. */
  readonly validLines: number;

  constructor({ file, lineErrors, validLines = 0 }: { file: string; lineErrors: readonly LineError[]; validLines?: number }) {
    super({
      issues: lineErrors.map((error) => ({ field: `${file}:${error.line}:${error.column}`, value: undefined, message: error.message })),
      context: `batch input ${file}`,
    });
    this.lineErrors = lineErrors;
    this.validLines = validLines;
    const bad = lineErrors.length === 1 ? 'this line' : 'these lines';
    const rest =
      validLines === 0
        ? ''
        : `\n${validLines} other line${validLines === 1 ? ' is' : 's are'} valid: fix ${bad}, or ${ADVICE.skipInvalid.library} to send the valid ones and leave ${bad} out.`;
    this.message = `Invalid batch input; nothing was sent:\n${lineErrors
      .map((error) => `  - ${file}:${error.line}:${error.column}: ${error.message}`)
      .join('\n')}${rest}`;
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
 * The whole text in memory: `readBatchJobs` (read.ts) streams a file through the same steps.
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
  const toJob = createJobMaker(defaults);
  for (const row of rows.rows) {
    const made = toJob(row);
    if ('job' in made) jobs.push(made.job);
    else errors.push(...made.errors);
  }
  if (rows.rows.length === 0 && errors.length === 0) errors.push(NO_REQUESTS);
  errors.sort(byPosition);
  return { jobs, errors };
}

/** Reported for a file without a single request line. */
export const NO_REQUESTS: LineError = { line: 1, column: 1, message: 'the file has no requests' };

export function byPosition(left: LineError, right: LineError): number {
  return left.line - right.line || left.column - right.column;
}

/**
 * Turns rows into jobs, in file order: the defaults under each request, the request schema, and a
 * key that counts identical requests before it (so the same file gives the same keys every pass).
 * `keys: false` leaves keys empty, for a pass that needs none: they cost most of a line's time.
 */
export function createJobMaker(
  defaults: Partial<GenerateRequest> = {},
  { keys = true }: { keys?: boolean } = {},
): (row: Row) => { job: BatchJob } | { errors: LineError[] } {
  // Without keys (a check that keeps nothing) the schema still runs: its problems are the line's.
  const keyOf = keys ? createJobKeyMaker() : (request: GenerateRequest) => (parseRequest(request), { key: '' });
  return (row) => {
    // Together's names are ours before the defaults go under the line (`n: 4` wins over `-n 2`).
    const named = withOurFieldNames(row.request);
    if (named.issues.length > 0) return { errors: lineErrors(row, named.issues) };
    // No prototype, as the row's own: a field named `__proto__` stays a column like any other.
    const columns: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, row.columns);
    for (const [ours, theirs] of Object.entries(named.renamed)) columns[ours] = row.columns[theirs] ?? 1;
    const request = { ...defaults, ...(named.request as Record<string, unknown>) } as GenerateRequest;
    try {
      return { job: { line: row.line, request, ...keyOf(request), columns } };
    } catch (error) {
      if (!InvalidRequestError.isInstance(error)) throw error;
      return { errors: lineErrors({ line: row.line, columns }, error.issues) };
    }
  };
}

/**
 * Makes job keys: a hash of the parsed request and how many identical requests came before it, so
 * keys are stable across runs and repeated requests stay distinct. Throws `InvalidRequestError`.
 */
export function createKeyMaker(): (request: GenerateRequest) => string {
  const keys = createJobKeyMaker();
  return (request) => keys(request).key;
}

/** Like `createKeyMaker`, with the format-1 key where it differs (see `KEY_FORMAT`). */
export function createJobKeyMaker(): (request: GenerateRequest) => { key: string; legacyKey?: string } {
  const current = createOccurrenceCounter();
  const legacy = createOccurrenceCounter();
  return (request) => {
    const identity = canonicalJsonVersions(parseRequest(request));
    const key = current(identity.current);
    // A format-1 text that differs never equals another request's format-2 text (the same fields
    // and values would make it the same request), so its repeats are counted on their own.
    return identity.legacy === undefined ? { key } : { key, legacyKey: legacy(identity.legacy) };
  };
}

function createOccurrenceCounter(): (identity: string) => string {
  const occurrences = new Map<number, number>();
  return (identity) => {
    // 48 bits of a digest stand for the text: a million-line file keeps a million of them. Should two
    // requests share them, the later one counts on from the earlier: its key is still its own.
    const digest = sha256Bytes(identity).readUIntBE(0, 6);
    const occurrence = occurrences.get(digest) ?? 0;
    occurrences.set(digest, occurrence + 1);
    return sha256(`${identity}#${occurrence}`).slice(0, 24);
  };
}

/** One request line of a batch file, before the defaults and the schema. */
export type Row = { line: number; request: Record<string, unknown>; columns: Record<string, number> };

/** A request's issues as problems of its line, each at the column of the field it names. */
export function lineErrors({ line, columns }: { line: number; columns: Record<string, number> }, issues: readonly RequestIssue[]): LineError[] {
  return issues.map((issue) => ({ line, column: columnOf(columns, issue), message: describeIssue(issue) }));
}

/** The column of the field an issue names (1 when unknown). */
export function columnOf(columns: Record<string, number>, issue: RequestIssue): number {
  const field = issue.field.split(/[.,]/)[0]!.trim();
  return Object.hasOwn(columns, field) ? columns[field]! : 1;
}

function jsonlRows(text: string): { rows: Row[]; errors: LineError[] } {
  const rows: Row[] = [];
  const errors: LineError[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    const row = jsonlRow(content, index + 1);
    if (row === undefined) return;
    if ('errors' in row) errors.push(...row.errors);
    else rows.push(row);
  });
  return { rows, errors };
}

/** One JSONL line: a row, its error, or `undefined` for a blank line or a `//` comment. */
export function jsonlRow(content: string, line: number): Row | { errors: LineError[] } | undefined {
  if (content.trim() === '' || content.trimStart().startsWith('//')) return undefined;
  const structure = checkJsonStructure(content);
  if (structure !== undefined) return { errors: [{ line, ...structure }] };
  let value: unknown;
  try {
    value = JSON.parse(content);
  } catch (error) {
    const position = /position (\d+)/.exec(errorMessage(error))?.[1];
    return { errors: [{ line, column: position === undefined ? 1 : Number(position) + 1, message: `not valid JSON: ${errorMessage(error)}` }] };
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    return { errors: [{ line, column: 1, message: 'each line must be a JSON object like {"prompt": "..."}' }] };
  }
  // No prototype: a field named `__proto__` is a column like any other, not Object.prototype.
  const columns: Record<string, number> = Object.create(null) as Record<string, number>;
  for (const field of Object.keys(value)) {
    const at = content.indexOf(`"${field}"`);
    if (at !== -1) columns[field] = at + 1;
  }
  return { line, request: value as Record<string, unknown>, columns };
}

/** csv-parse's options for batch files, the same for the whole text and the stream. */
export const CSV_OPTIONS = { relax_column_count: false, skip_empty_lines: true, bom: true, info: true } as const;

/** A CSV record as csv-parse gives it with `info`. */
export type CsvRecord = { record: string[]; info: { lines: number } };

/** A CSV syntax error (csv-parse's), at the line and column it names. */
export function csvSyntaxError(error: unknown): LineError {
  const failure = error as { lines?: number; column?: number; message: string };
  return { line: failure.lines ?? 1, column: (failure.column ?? 0) + 1, message: `not valid CSV: ${failure.message}` };
}

/**
 * The file line where a record starts: csv-parse counts the line a record ends on; quoted cells
 * can span lines, blank lines are skipped, and the start is what a user can find.
 */
export function csvStartLine({ record, info }: CsvRecord): number {
  return info.lines - record.reduce((newlines, cell) => newlines + (cell.match(/\r\n|\r|\n/g)?.length ?? 0), 0);
}

/** The header row's column names, or what is wrong with it. */
export function csvHeader(header: readonly string[]): { columns: string[] } | { errors: LineError[] } {
  const columns = header.map((name) => name.trim());
  const errors: LineError[] = [];
  columns.forEach((name, index) => {
    if (!FIELDS.includes(name) && !isTogetherField(name)) {
      errors.push({ line: 1, column: index + 1, message: `unknown column "${name}"; allowed: ${FIELDS.join(', ')} (and Together's names for them)` });
    }
  });
  if (!columns.includes('prompt')) errors.push({ line: 1, column: 1, message: 'the header row has no "prompt" column' });
  return errors.length > 0 ? { errors } : { columns };
}

function csvRows(text: string): { rows: Row[]; errors: LineError[] } {
  let parsed: CsvRecord[];
  try {
    parsed = parseCsv(text, CSV_OPTIONS) as unknown as CsvRecord[];
  } catch (error) {
    return { rows: [], errors: [csvSyntaxError(error)] };
  }
  const [header, ...body] = parsed;
  if (header === undefined) return { rows: [], errors: [] };
  const checked = csvHeader(header.record);
  if ('errors' in checked) return { rows: [], errors: checked.errors };
  const rows: Row[] = [];
  const errors: LineError[] = [];
  for (const record of body) {
    const row = csvRow(checked.columns, record.record, csvStartLine(record));
    if ('errors' in row) errors.push(...row.errors);
    else rows.push(row);
  }
  return { rows, errors };
}

/** One CSV record under the header's columns: cells typed by field, or the errors of its JSON cells. */
export function csvRow(columns: readonly string[], record: readonly string[], line: number): Row | { errors: LineError[] } {
  const request: Record<string, unknown> = {};
  const errors: LineError[] = [];
  columns.forEach((name, column) => {
    const cell = record[column]?.trim() ?? '';
    if (cell === '') return;
    if (JSON_FIELDS.has(name)) {
      const structure = checkJsonStructure(cell);
      if (structure !== undefined) {
        // The cell's own paths start inside the field: put the column's name in front.
        const message = structure.message.replace(/^[^:]*/, (inner) => (inner === '(request)' ? name : `${name}.${inner}`));
        errors.push({ line, column: column + 1, message });
        return;
      }
    }
    const type = TOGETHER_FIELD_TYPES[name];
    if (NUMBER_FIELDS.has(name) || type === 'number') request[name] = cell !== '' && Number.isFinite(Number(cell)) ? Number(cell) : cell;
    else if (BOOLEAN_FIELDS.has(name) || type === 'boolean') request[name] = cell === 'true' ? true : cell === 'false' ? false : cell;
    else if (JSON_FIELDS.has(name) || type === 'json') {
      try {
        request[name] = JSON.parse(cell);
      } catch {
        request[name] = cell;
      }
    } else if (name === 'referenceImages' || type === 'list') request[name] = cell.split(';').map((part) => part.trim());
    else request[name] = cell;
  });
  if (errors.length > 0) return { errors };
  return { line, request, columns: Object.fromEntries(columns.map((name, column) => [name, column + 1])) };
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

function textRows(text: string): { rows: Row[]; errors: LineError[] } {
  const rows: Row[] = [];
  text.split(/\r?\n/).forEach((content, index) => {
    const row = textRow(content, index + 1);
    if (row !== undefined) rows.push(row);
  });
  return { rows, errors: [] };
}

/** One line of a text file: its prompt, or `undefined` for a blank line or a `#` comment. */
export function textRow(content: string, line: number): Row | undefined {
  const prompt = content.trim();
  if (prompt === '' || prompt.startsWith('#')) return undefined;
  return { line, request: { prompt }, columns: { prompt: 1 } };
}

export function describeIssue(issue: RequestIssue): string {
  const value = issue.value === undefined ? '' : ` (got ${JSON.stringify(issue.value)})`;
  return `${issue.field}: ${issue.message}${value}`;
}

/** JSON with keys sorted by code unit, bytes as their hash: equal requests give equal text on every machine. */
export function canonicalJson(value: unknown): string {
  return canonicalJsonOf(value, { hashBytes: sha256 });
}

/** The canonical text in both key formats (see `KEY_FORMAT`): `legacy` only where it differs. */
function canonicalJsonVersions(value: unknown): { current: string; legacy: string | undefined } {
  return canonicalJsonFormats(value, { hashBytes: sha256 });
}

export function sha256(data: string | Uint8Array): string {
  return sha256Bytes(data).toString('hex');
}

/**
 * One-shot `crypto.hash` where Node has it (20.12+): about twice as fast as `createHash` for the
 * short texts of job keys, two per line of a batch file.
 */
function sha256Bytes(data: string | Uint8Array): Buffer {
  return typeof crypto.hash === 'function' ? crypto.hash('sha256', data, 'buffer') : crypto.createHash('sha256').update(data).digest();
}
