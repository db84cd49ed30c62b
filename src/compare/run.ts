import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runBatch, type BatchEvent, type BatchSummary } from '../batch/engine.js';
import type { ImageCache } from '../batch/cache.js';
import { createKeyMaker, type BatchJob } from '../batch/input.js';
import { Journal } from '../batch/journal.js';
import { ImagegenError, MissingApiKeyError, MissingProviderPackageError } from '../errors.js';
import { prepareGeneration } from '../generate.js';
import { readImageFile, type Sidecar } from '../files/files.js';
import type { ProvidersOption } from '../resolve-model.js';
import { makeContactSheet } from './contact-sheet.js';
import { expandExperiment, type ExperimentCell, type ParsedExperiment } from './experiment.js';
import { writeGallery } from './gallery.js';
import { writeResultsFiles } from './results-files.js';
import { summarize, type ModelSummary } from './summary.js';
import type { ExperimentRow } from './types.js';

export type ExperimentResult = {
  rows: ExperimentRow[];
  summary: ModelSummary[];
  batch: BatchSummary;
  outputs: {
    resultsJsonl: string;
    resultsCsv: string;
    /** The first page; an experiment too large for one sheet has more (`contactSheetPages`). */
    contactSheet: string;
    contactSheetPages: string[];
    /** Why no contact sheet was drawn, when it could not be (the other outputs are written). */
    contactSheetError?: string;
    gallery: string;
  };
};

/**
 * Runs an experiment through the batch engine (concurrency, retries, resume, cache) and writes its
 * outputs into `outDir`: images with sidecars, results.jsonl, results.csv, contact-sheet.png and
 * index.html. Cells that cannot run (invalid for their model, no key) or fail are rows marked
 * failed with the reason, in every output.
 */
export async function runExperiment({
  experiment,
  outDir,
  providers,
  concurrency,
  requestsPerMinute,
  maxRetries,
  cache = false,
  signal,
  onEvent,
  cellSize = 256,
}: {
  experiment: ParsedExperiment;
  outDir: string;
  providers?: ProvidersOption | undefined;
  concurrency?: number | undefined;
  requestsPerMinute?: number | undefined;
  maxRetries?: number | undefined;
  cache?: ImageCache | false | undefined;
  signal?: AbortSignal | undefined;
  onEvent?: ((event: BatchEvent) => void) | undefined;
  cellSize?: number | undefined;
}): Promise<ExperimentResult> {
  const folder = path.resolve(outDir);
  await mkdir(folder, { recursive: true });
  const cells = expandExperiment(experiment);
  const keyOf = createKeyMaker();
  const runnable: { cell: ExperimentCell; job: BatchJob; costUsd: number | undefined }[] = [];
  const refused = new Map<number, string>();
  const checkedKeys = new Map<string, string | undefined>();

  for (const cell of cells) {
    // A model without a key or package fails its cells with the reason, not the whole experiment.
    const keyProblem = checkedKeys.get(cell.model);
    if (keyProblem !== undefined) {
      refused.set(cell.index, keyProblem);
      continue;
    }
    try {
      // Validation comes first, so the first valid cell of each model also checks its key, once.
      const { plan } = await prepareGeneration(cell.request, {
        ...(providers === undefined ? {} : { providers }),
        readFile: readImageFile,
        checkKey: !checkedKeys.has(cell.model),
      });
      checkedKeys.set(cell.model, undefined);
      runnable.push({ cell, job: { line: cell.index + 1, request: cell.request, key: keyOf(cell.request), columns: {} }, costUsd: plan.estimatedCostUsd });
    } catch (error) {
      if (!ImagegenError.isInstance(error)) throw error;
      if (MissingApiKeyError.isInstance(error) || MissingProviderPackageError.isInstance(error)) checkedKeys.set(cell.model, error.message);
      refused.set(cell.index, error.message.replace(/^Invalid request; nothing was sent:\n\s*- /, '').replace(/\n\s*- /g, '; '));
    }
  }

  // Cells refused before the run (invalid for their model, no key) are failures like any other:
  // the progress display counts them, so its total and failed count match the summary table.
  const forwardEvent = (event: BatchEvent) => {
    if (!onEvent) return;
    if (event.type !== 'start') return onEvent(event);
    onEvent({ ...event, total: event.total + refused.size });
    for (const [index, reason] of refused) {
      const cell = cells[index]!;
      onEvent({ type: 'failed', job: { line: index + 1, request: cell.request, key: `refused-${index}`, columns: {} }, error: reason });
    }
  };
  const batch = await runBatch({
    jobs: runnable.map((item) => item.job),
    outDir: folder,
    providers,
    concurrency,
    requestsPerMinute,
    maxRetries,
    cache,
    signal,
    onEvent: forwardEvent,
  });

  const journal = await Journal.open(folder);
  const byCell = new Map(runnable.map((item) => [item.cell.index, item]));
  const rows: ExperimentRow[] = [];
  for (const cell of cells) {
    const base = {
      promptIndex: cell.promptIndex,
      prompt: cell.prompt,
      model: cell.model,
      provider: cell.model.split(':')[0] ?? cell.model,
      modelId: cell.model.slice(cell.model.indexOf(':') + 1),
      seed: cell.seed,
      settings: cell.settings,
      column: cell.column,
    };
    const item = byCell.get(cell.index);
    const entry = item && journal.entries.get(item.job.key);
    if (item && entry?.status === 'done' && entry.files[0] !== undefined) {
      const file = entry.files[0];
      const sidecar = JSON.parse(await readFile(path.join(folder, file.replace(/\.[a-z]+$/, '.json')), 'utf8')) as Partial<Sidecar>;
      rows.push({
        ...base,
        status: 'done',
        file,
        width: sidecar.width,
        height: sidecar.height,
        mediaType: sidecar.mediaType,
        index: sidecar.index ?? 0,
        latencyMs: entry.cached ? undefined : entry.latencyMs,
        cached: entry.cached,
        requests: entry.requests,
        warnings: sidecar.warnings ?? [],
        estimatedCostUsd: entry.cached ? 0 : item.costUsd,
        error: undefined,
      });
      continue;
    }
    const notRun = !refused.has(cell.index) && entry?.error === undefined && batch.stopped;
    const reason =
      refused.get(cell.index) ??
      entry?.error ??
      (batch.stopped ? 'not run: the experiment was stopped; run it again to resume' : 'no result');
    rows.push({
      ...base,
      status: notRun ? 'not-run' : 'failed',
      file: undefined,
      width: undefined,
      height: undefined,
      mediaType: undefined,
      index: undefined,
      latencyMs: undefined,
      cached: false,
      requests: entry?.requests ?? 0,
      warnings: [],
      estimatedCostUsd: undefined,
      error: reason,
    });
  }

  const { jsonlPath, csvPath } = await writeResultsFiles({ rows, folder });
  // The sheet is a view of results already on disk: if it cannot be drawn, the gallery and the
  // results files still are, and the reason is reported rather than thrown.
  const contactSheetPath = path.join(folder, 'contact-sheet.png');
  let sheet: { pages: string[] } | { error: string };
  try {
    sheet = await makeContactSheet({ rows, folder, outputPath: contactSheetPath, cellSize });
  } catch (error) {
    sheet = { error: error instanceof Error ? error.message : String(error) };
  }
  const gallery = await writeGallery({ rows, folder, title: experiment.name ?? `${experiment.prompts.length} prompts × ${experiment.models.length} models` });
  return {
    rows,
    summary: summarize(rows),
    batch,
    outputs: {
      resultsJsonl: jsonlPath,
      resultsCsv: csvPath,
      contactSheet: contactSheetPath,
      contactSheetPages: 'pages' in sheet ? sheet.pages : [],
      ...('error' in sheet ? { contactSheetError: sheet.error } : {}),
      gallery: gallery.path,
    },
  };
}
