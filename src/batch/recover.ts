import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Sidecar } from '../files/files.js';
import type { BatchJob } from './input.js';
import { journalImage, type JournalEntry } from './journal.js';

/**
 * Done jobs the manifest no longer lists (emptied, deleted, restored from an old copy) recovered
 * from the folder itself: a job's images are named `<slug>-<first 10 of its key>-<index>` with a
 * `.json` sidecar beside each, so a job whose every image and sidecar is there, and whose sidecars
 * name its prompt, was paid for already and is not sent again.
 */
export class SidecarRecovery {
  readonly #outDir: string;
  /** Sidecar names by the key prefix in them, then by image index; read once, when first needed. */
  #index: Promise<Map<string, Map<number, string>>> | undefined;

  constructor(outDir: string) {
    this.#outDir = outDir;
  }

  /** The done entry `job` would have had, or `undefined` when any of its images is missing. */
  async recover(job: BatchJob): Promise<Omit<JournalEntry, 'at'> | undefined> {
    const count = typeof job.request.count === 'number' ? job.request.count : 1;
    const byIndex = (await (this.#index ??= this.#read())).get(job.key.slice(0, 10));
    if (byIndex === undefined || byIndex.size < count) return undefined;
    const sidecars: Sidecar[] = [];
    for (let index = 0; index < count; index++) {
      const name = byIndex.get(index);
      if (name === undefined) return undefined;
      const sidecar = await this.#readSidecar(name);
      if (sidecar === undefined || sidecar.request?.prompt !== job.request.prompt) return undefined;
      // The image itself must be there too, and in this folder.
      if (path.basename(sidecar.file) !== sidecar.file || !(await stat(path.join(this.#outDir, sidecar.file)).then((stats) => stats.isFile(), () => false))) return undefined;
      sidecars.push(sidecar);
    }
    return {
      key: job.key,
      line: job.line,
      status: 'done',
      files: sidecars.map((sidecar) => sidecar.file),
      seed: sidecars[0]?.seed ?? undefined,
      requests: 0,
      cached: false,
      images: sidecars.map(journalImage),
    };
  }

  async #read(): Promise<Map<string, Map<number, string>>> {
    const index = new Map<string, Map<number, string>>();
    for (const name of await readdir(this.#outDir).catch(() => [])) {
      const match = /-([0-9a-f]{10})-(\d+)\.json$/.exec(name);
      if (match === null) continue;
      const byIndex = index.get(match[1]!) ?? new Map<number, string>();
      byIndex.set(Number(match[2]), name);
      index.set(match[1]!, byIndex);
    }
    return index;
  }

  async #readSidecar(name: string): Promise<Sidecar | undefined> {
    try {
      const sidecar = JSON.parse(await readFile(path.join(this.#outDir, name), 'utf8')) as Sidecar;
      return sidecar.generator === 'ai-imagegen' && typeof sidecar.file === 'string' && Array.isArray(sidecar.warnings) ? sidecar : undefined;
    } catch {
      return undefined;
    }
  }
}
