import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { runBatch, type BatchEvent, type BatchSummary } from '../batch/engine.js';
import { telemetryOptionsOf, type TelemetryOptions } from '../telemetry/settings.js';
import type { ImageCache } from '../batch/cache.js';
import { createKeyMaker, type BatchJob } from '../batch/input.js';
import type { JournalEntry } from '../batch/journal.js';
import { ImagegenError, MissingApiKeyError, MissingProviderPackageError } from '../errors/errors.js';
import { prepareGeneration, type PreparedGeneration } from '../generate.js';
import { readImageFile, type ImageResult, type Sidecar } from '../files/files.js';
import { resolveModelReference, splitModelReference, type ProvidersOption } from '../models/resolve-model.js';
import type { Budget } from '../pipeline/budget.js';
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
  budget,
  ...telemetry
}: TelemetryOptions & {
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
  /** `--budget`: cells whose spend would pass it are not run (a re-run under a new budget runs them). */
  budget?: Budget | undefined;
}): Promise<ExperimentResult> {
  const folder = path.resolve(outDir);
  await mkdir(folder, { recursive: true });
  const cells = expandExperiment(experiment);
  const { runnable, refused } = await planCells({ cells, providers });
  const byKey = new Map(runnable.map((item) => [item.job.key, item]));

  // What became of each cell, kept as the run goes (one entry per cell of the matrix): the rows are
  // made from this, not from the journal and sidecars the run writes.
  const outcomes = new Map<string, CellOutcome>();
  // Cells refused before the run (invalid for their model, no key) are failures like any other:
  // the progress display counts them, so its total and failed count match the summary table.
  const onBatchEvent = (event: BatchEvent) => {
    if (event.type === 'done') outcomes.set(event.job.key, { status: 'done', result: event.results[0], cached: event.cached, latencyMs: event.latencyMs, requests: event.requests });
    else if (event.type === 'skipped') outcomes.set(event.job.key, outcomeOfEarlierRun(event.entry));
    else if (event.type === 'failed') outcomes.set(event.job.key, { status: 'failed', error: event.error, requests: event.requests });
    if (!onEvent) return;
    if (event.type !== 'start') return onEvent(event);
    onEvent({ ...event, total: event.total + refused.size });
    for (const [index, reason] of refused) {
      const cell = cells[index]!;
      onEvent({ type: 'failed', job: { line: index + 1, request: cell.request, key: `refused-${index}`, columns: {} }, error: reason, requests: 0 });
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
    onEvent: onBatchEvent,
    prepared: (job) => byKey.get(job.key)?.prepared,
    budget,
    ...telemetryOptionsOf(telemetry),
  });

  const stoppedBy = batch.budget?.exceeded ? `the budget of $${batch.budget.limitUsd.toFixed(4)} was reached; run it again with a new --budget to resume` : batch.stopped ? 'the experiment was stopped; run it again to resume' : undefined;
  const rows = await experimentRows({ cells, runnable, refused, outcomes, stoppedBy, folder });

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

/** One row per cell, in matrix order: what the run reported for it, or why it did not run. */
async function experimentRows({
  cells,
  runnable,
  refused,
  outcomes,
  stoppedBy,
  folder,
}: {
  cells: readonly ExperimentCell[];
  runnable: readonly PlannedCell[];
  refused: ReadonlyMap<number, string>;
  outcomes: ReadonlyMap<string, CellOutcome>;
  /** Why cells were left not run (Ctrl-C, the budget), when they were. */
  stoppedBy: string | undefined;
  folder: string;
}): Promise<ExperimentRow[]> {
  const byCell = new Map(runnable.map((item) => [item.cell.index, item]));
  const rows: ExperimentRow[] = [];
  for (const cell of cells) {
    const base = {
      promptIndex: cell.promptIndex,
      prompt: cell.prompt,
      model: cell.model,
      ...providerAndModelId(cell.model),
      seed: cell.seed,
      settings: cell.settings,
      column: cell.column,
    };
    const item = byCell.get(cell.index);
    const outcome = item && outcomes.get(item.job.key);
    const result = outcome?.status === 'done' ? (outcome.result ?? (await sidecarOfEarlierVersion(folder, outcome.file))) : undefined;
    if (item && outcome?.status === 'done' && result !== undefined) {
      rows.push({
        ...base,
        status: 'done',
        file: result.file,
        width: result.width,
        height: result.height,
        mediaType: result.mediaType,
        index: result.index ?? 0,
        latencyMs: outcome.cached ? undefined : outcome.latencyMs,
        cached: outcome.cached,
        requests: outcome.requests,
        warnings: result.warnings ?? [],
        estimatedCostUsd: outcome.cached ? 0 : item.prepared.plan.estimatedCostUsd,
        actualCostUsd: outcome.cached ? 0 : (result.actualCostUsd ?? undefined),
        error: undefined,
      });
      continue;
    }
    const error = outcome?.status === 'failed' ? outcome.error : undefined;
    const notRun = !refused.has(cell.index) && error === undefined && stoppedBy !== undefined;
    const reason = refused.get(cell.index) ?? error ?? (stoppedBy !== undefined ? `not run: ${stoppedBy}` : 'no result');
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
      requests: outcome?.requests ?? 0,
      warnings: [],
      estimatedCostUsd: undefined,
      actualCostUsd: undefined,
      error: reason,
    });
  }
  return rows;
}

/** What became of a cell: what the run reported (or, for a cell done before, its journal entry). */
type CellOutcome =
  | { status: 'done'; result: Partial<ImageResult> | undefined; file?: string; cached: boolean; latencyMs: number | undefined; requests: number }
  | { status: 'failed'; error: string; requests: number };

/** A cell done by an earlier run of this experiment: its journal entry says what it is. */
function outcomeOfEarlierRun(entry: JournalEntry): CellOutcome {
  return {
    status: 'done',
    result: entry.images?.[0] && entry.files[0] !== undefined ? { ...entry.images[0], file: entry.files[0], index: 0 } : undefined,
    ...(entry.files[0] === undefined ? {} : { file: entry.files[0] }),
    cached: entry.cached,
    latencyMs: entry.latencyMs,
    requests: entry.requests,
  };
}

/**
 * The sidecar of a cell done by a version that did not keep images in the journal: the only
 * record of its size and warnings. Cells done by this version never come here.
 */
async function sidecarOfEarlierVersion(folder: string, file: string | undefined): Promise<Partial<ImageResult> | undefined> {
  if (file === undefined) return undefined;
  const sidecar = await readFile(path.join(folder, file.replace(/\.[a-z]+$/, '.json')), 'utf8').catch(() => undefined);
  return sidecar === undefined ? undefined : { ...(JSON.parse(sidecar) as Partial<Sidecar>), file };
}

/**
 * Plans every cell once, before anything is sent: the plans the run uses, and the cells that
 * cannot run (invalid for their model, no key, no package) with the reason. The first valid cell
 * of each model also checks its key, once; a model without one fails its cells, not the experiment.
 */
async function planCells({ cells, providers }: { cells: readonly ExperimentCell[]; providers: ProvidersOption | undefined }): Promise<{
  runnable: PlannedCell[];
  refused: Map<number, string>;
}> {
  const keyOf = createKeyMaker();
  const runnable: PlannedCell[] = [];
  const refused = new Map<number, string>();
  const checkedKeys = new Map<string, string | undefined>();
  for (const cell of cells) {
    const keyProblem = checkedKeys.get(cell.model);
    if (keyProblem !== undefined) {
      refused.set(cell.index, keyProblem);
      continue;
    }
    try {
      const prepared = await prepareGeneration(cell.request, {
        ...(providers === undefined ? {} : { providers }),
        readFile: readImageFile,
        checkKey: !checkedKeys.has(cell.model),
      });
      checkedKeys.set(cell.model, undefined);
      runnable.push({ cell, job: { line: cell.index + 1, request: cell.request, key: keyOf(cell.request), columns: {} }, prepared });
    } catch (error) {
      if (!ImagegenError.isInstance(error)) throw error;
      if (MissingApiKeyError.isInstance(error) || MissingProviderPackageError.isInstance(error)) checkedKeys.set(cell.model, error.message);
      refused.set(cell.index, error.message.replace(/^Invalid request; nothing was sent:\n\s*- /, '').replace(/\n\s*- /g, '; '));
    }
  }
  return { runnable, refused };
}

/** A cell that can run: its batch job and its plan. */
type PlannedCell = { cell: ExperimentCell; job: BatchJob; prepared: PreparedGeneration };

/** The provider and model id a cell's model names, as the request resolves it (a bare id gets its provider). */
function providerAndModelId(model: string): { provider: string; modelId: string } {
  try {
    const { target } = resolveModelReference(model);
    return { provider: target.provider, modelId: target.modelId };
  } catch {
    const { providerName, modelId } = splitModelReference(model);
    return { provider: providerName || model, modelId };
  }
}
