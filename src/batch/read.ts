import { isUtf8 } from 'node:buffer';
import { createReadStream } from 'node:fs';
import { Readable } from 'node:stream';
import { parse as parseCsv } from 'csv-parse';
import type { GenerateRequest } from '../pipeline/parse.js';
import {
  createJobMaker,
  csvHeader,
  csvRow,
  csvStartLine,
  csvSyntaxError,
  CSV_OPTIONS,
  jsonlRow,
  NO_REQUESTS,
  textRow,
  type BatchJob,
  type CsvRecord,
  type InputFormat,
  type LineError,
  type Row,
} from './input.js';

/**
 * What reading a batch file gives, line after line: a job, the problems of one line, or a problem
 * with the whole file (not UTF-8, broken CSV), after which nothing else it said counts.
 */
export type BatchFileItem = { job: BatchJob } | { errors: LineError[] } | { fatal: LineError };

/**
 * Reads a batch file as a stream and yields its jobs in file order, each request checked by the
 * schema with the defaults under it; memory holds one chunk and one record, whatever the length.
 * Keys are the same as `parseBatchInput`'s for the same text, on every pass.
 */
export async function* readBatchJobs({
  file,
  format,
  defaults = {},
  keys = true,
}: {
  file: string;
  format: InputFormat;
  defaults?: Partial<GenerateRequest> | undefined;
  /** `false`: jobs without keys, for a pass that keeps nothing. @default true */
  keys?: boolean | undefined;
}): AsyncGenerator<BatchFileItem> {
  const toJob = createJobMaker(defaults, { keys });
  let requests = 0;
  let problems = 0;
  try {
    for await (const row of format === 'csv' ? csvRows(file) : lineRows(file, format)) {
      if ('errors' in row) {
        problems++;
        yield row;
        continue;
      }
      requests++;
      const made = toJob(row);
      if ('errors' in made) problems++;
      yield made;
    }
  } catch (error) {
    if (!(error instanceof FileProblem)) throw error;
    yield { fatal: error.problem };
    return;
  }
  if (requests === 0 && problems === 0) yield { errors: [NO_REQUESTS] };
}

/** A problem with the whole file that ends the reading. */
class FileProblem extends Error {
  constructor(readonly problem: LineError) {
    super(problem.message);
  }
}

/** JSONL and text: one request per line. */
async function* lineRows(file: string, format: 'jsonl' | 'text'): AsyncGenerator<Row | { errors: LineError[] }> {
  for await (const { line, text } of fileLines(file)) {
    // `\r\n` endings: the `\r` is not part of the request.
    const content = text.endsWith('\r') ? text.slice(0, -1) : text;
    const row = format === 'jsonl' ? jsonlRow(content, line) : textRow(content, line);
    if (row !== undefined) yield row;
  }
}

/** CSV through csv-parse's stream: a header row, then one request per record (cells may span lines). */
async function* csvRows(file: string): AsyncGenerator<Row | { errors: LineError[] }> {
  const parser = parseCsv(CSV_OPTIONS);
  const source = Readable.from(csvText(file));
  source.on('error', (error) => parser.destroy(error));
  source.pipe(parser);
  let columns: string[] | undefined;
  try {
    for await (const record of parser as AsyncIterable<CsvRecord>) {
      if (columns === undefined) {
        const header = csvHeader(record.record);
        // A bad header makes every row meaningless: its problems are all there is to say.
        if ('errors' in header) {
          yield header;
          return;
        }
        columns = header.columns;
        continue;
      }
      yield csvRow(columns, record.record, csvStartLine(record));
    }
  } catch (error) {
    if (error instanceof FileProblem) throw error;
    throw new FileProblem(csvSyntaxError(error));
  } finally {
    source.destroy();
    parser.destroy();
  }
}

/** The file's text, line by line with its ending as written, for csv-parse. */
async function* csvText(file: string): AsyncGenerator<string> {
  for await (const { text, ending } of fileLines(file)) yield text + ending;
}

/** Large reads: a batch file is read front to back once, and each chunk costs a turn of the event loop. */
const READ_CHUNK_BYTES = 1024 * 1024;

/**
 * The lines of a file, each checked as UTF-8 on its own (bytes that are not would otherwise turn
 * into U+FFFD and be sent as part of a prompt). Splitting on the byte 0x0A is safe: it never occurs
 * inside a multi-byte character. The byte order mark in front of the first line is dropped.
 */
async function* fileLines(file: string): AsyncGenerator<{ line: number; text: string; ending: string }> {
  let pending: Buffer[] = [];
  let line = 1;
  for await (const chunk of createReadStream(file, { highWaterMark: READ_CHUNK_BYTES }) as AsyncIterable<Buffer>) {
    let start = 0;
    for (let newline = chunk.indexOf(0x0a, start); newline !== -1; newline = chunk.indexOf(0x0a, start)) {
      const piece = chunk.subarray(start, newline);
      const bytes = pending.length === 0 ? piece : Buffer.concat([...pending, piece]);
      pending = [];
      yield { line, text: decodeLine(bytes, line), ending: '\n' };
      line++;
      start = newline + 1;
    }
    if (start < chunk.length) pending.push(chunk.subarray(start));
  }
  const rest = Buffer.concat(pending);
  yield { line, text: decodeLine(rest, line), ending: '' };
}

function decodeLine(bytes: Buffer, line: number): string {
  if (!isUtf8(bytes)) {
    const offset = firstInvalidUtf8(bytes);
    // The default decoder drops a byte order mark, as the column a person counts does.
    const column = new TextDecoder().decode(bytes.subarray(0, offset)).length + 1;
    const byte = bytes[offset]!.toString(16).toUpperCase().padStart(2, '0');
    throw new FileProblem({ line, column, message: `not valid UTF-8 (byte 0x${byte}); save the file as UTF-8` });
  }
  const text = bytes.toString('utf8');
  return line === 1 && text.startsWith('\uFEFF') ? text.slice(1) : text;
}

/** The offset of the first byte that does not belong to a well-formed UTF-8 sequence. */
export function firstInvalidUtf8(bytes: Uint8Array): number {
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
