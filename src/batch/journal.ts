import { open, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomically, type ImageResult } from '../files/files.js';

export const MANIFEST_FILE = 'manifest.jsonl';

/** One line of `manifest.jsonl`: what became of one request. The last line for a key wins. */
export type JournalEntry = {
  key: string;
  /** Line of the request in the input file. */
  line: number;
  status: 'done' | 'failed';
  /** Image files, relative to the output folder (sidecars sit beside them as `.json`). */
  files: string[];
  seed: number | undefined;
  requests: number;
  cached: boolean;
  /** Wall time of the slowest successful provider call, in milliseconds (0 from the cache). */
  latencyMs?: number;
  error?: string;
  /** The key format `key` was made with (`KEY_FORMAT`); absent on lines written before format 2. */
  keyFormat?: number;
  /**
   * What each image of `files` is, in order, so a resumed experiment need not read the sidecars
   * back. The few fields rows show; warnings only when there are some.
   */
  images?: JournalImage[];
  at: string;
};

/** One image of a journal entry: what its sidecar says of it, in brief. */
export type JournalImage = Pick<ImageResult, 'width' | 'height' | 'mediaType'> & { warnings?: ImageResult['warnings']; /** Where the provider reported it. */ actualCostUsd?: number };

/** The brief of an image for the journal. */
export function journalImage({ width, height, mediaType, warnings, actualCostUsd }: ImageResult): JournalImage {
  return { width, height, mediaType, ...(warnings.length > 0 ? { warnings } : {}), ...(actualCostUsd === null ? {} : { actualCostUsd }) };
}

/**
 * The batch journal: an append-only `manifest.jsonl` in the output folder, each line flushed to
 * disk before the next request is taken as done. A line cut short by a kill is dropped on open.
 */
export class Journal {
  readonly path: string;
  readonly entries: Map<string, JournalEntry>;

  private constructor(filePath: string, entries: Map<string, JournalEntry>) {
    this.path = filePath;
    this.entries = entries;
  }

  /** The journal as it is, for a look before the run (a dry run): nothing is repaired or written. */
  static async read(outDir: string): Promise<Journal> {
    const text = await readFile(path.join(outDir, MANIFEST_FILE), 'utf8').catch(() => '');
    const entries = new Map<string, JournalEntry>();
    for (const line of text.split('\n')) {
      try {
        if (line !== '') {
          const entry = JSON.parse(line) as JournalEntry;
          entries.set(entry.key, entry);
        }
      } catch {
        // A torn or corrupt line: the run repairs it; a look skips it.
      }
    }
    return new Journal(path.join(outDir, MANIFEST_FILE), entries);
  }

  static async open(outDir: string): Promise<Journal> {
    const filePath = path.join(outDir, MANIFEST_FILE);
    const text = await readFile(filePath, 'utf8').catch(() => '');
    const entries = new Map<string, JournalEntry>();
    const lines = text.split('\n');
    let clean = true;
    const kept: string[] = [];
    for (const [index, line] of lines.entries()) {
      if (line === '') continue;
      try {
        const entry = JSON.parse(line) as JournalEntry;
        entries.set(entry.key, entry);
        kept.push(line);
      } catch {
        // Only the last line can be torn (a kill mid-append); anything else is corruption to keep out.
        clean = false;
        if (index !== lines.length - 1) continue;
      }
    }
    if (!clean || (text !== '' && !text.endsWith('\n'))) {
      await writeFileAtomically(filePath, kept.map((line) => `${line}\n`).join(''));
    }
    return new Journal(filePath, entries);
  }

  /**
   * A job's entry: under its key, else under its format-1 key (`BatchJob.legacyKey`), which a
   * journal written before key format 2 holds for the few requests whose key order differed.
   */
  entryOf({ key, legacyKey }: { key: string; legacyKey?: string | undefined }): JournalEntry | undefined {
    return this.entries.get(key) ?? (legacyKey === undefined ? undefined : this.entries.get(legacyKey));
  }

  /** Whether a job (by its key, or its format-1 key) is done and its files are all still there. */
  async isDone(key: string, outDir: string, legacyKey?: string): Promise<boolean> {
    const entry = this.entryOf({ key, legacyKey });
    if (entry?.status !== 'done') return false;
    const present = await Promise.all(
      entry.files.flatMap((file) => [file, file.replace(/\.[a-z]+$/, '.json')]).map((file) =>
        stat(path.join(outDir, file)).then(
          () => true,
          () => false,
        ),
      ),
    );
    return present.every(Boolean);
  }

  /**
   * Appends an entry; resolves once it is on disk. Entries that arrive while a flush is under way
   * go out together with one fsync (group commit): each line is still durable before its promise
   * resolves, without one disk flush per line.
   */
  append(entry: JournalEntry): Promise<void> {
    this.entries.set(entry.key, entry);
    return new Promise((resolve, reject) => {
      this.#queued.push({ line: `${JSON.stringify(entry)}\n`, resolve, reject });
      this.#flushing ??= this.#flush();
    });
  }

  #queued: { line: string; resolve: () => void; reject: (error: unknown) => void }[] = [];
  #flushing: Promise<void> | undefined;

  async #flush(): Promise<void> {
    while (this.#queued.length > 0) {
      const group = this.#queued.splice(0);
      try {
        const handle = await open(this.path, 'a');
        const size = (await handle.stat()).size;
        try {
          const text = group.map((item) => item.line).join('');
          const { bytesWritten } = await handle.write(text);
          // A full disk may take part of the text without an error: that is a failed write too.
          if (bytesWritten !== Buffer.byteLength(text)) {
            throw Object.assign(new Error(`ENOSPC: no space left on device, wrote ${bytesWritten} of ${Buffer.byteLength(text)} bytes to ${this.path}`), { code: 'ENOSPC' });
          }
          await handle.sync();
        } catch (error) {
          // A write cut short (disk full) would leave half a line: cut the file back to whole lines.
          await handle.truncate(size).catch(() => undefined);
          throw error;
        } finally {
          await handle.close();
        }
        for (const item of group) item.resolve();
      } catch (error) {
        for (const item of group) item.reject(error);
      }
    }
    this.#flushing = undefined;
  }
}
