import cliProgress from 'cli-progress';
import type { BatchEvent } from './engine.js';

/**
 * Progress for a batch run: a bar on a terminal (done/total, failures, rate, ETA), plain lines
 * otherwise, so logs stay readable. The failed count is the one the summary reports: every job that
 * ends failed is counted once, whatever stopped it.
 */
export function createProgress({
  terminal,
  write,
  requestsPerMinute,
  item = 'line',
  now = Date.now,
}: {
  /** What a job is called in plain lines: a `line` of a batch file, a `cell` of an experiment. */
  item?: 'line' | 'cell';
  /** The `--rate-limit` pacing, when set: the ETA is never shorter than the pacing allows. */
  requestsPerMinute?: number | undefined;
  /** The terminal to draw a bar on; without one, plain lines go to `write`. */
  terminal?: NodeJS.WriteStream | undefined;
  write: (text: string) => void;
  now?: () => number;
}): { onEvent: (event: BatchEvent) => void; stop: () => void } {
  let total = 0;
  let finished = 0;
  let finishedThisRun = 0;
  let failed = 0;
  let images = 0;
  const started = now();
  const rate = () => {
    const minutes = (now() - started) / 60_000;
    return minutes > 0 ? Math.round(images / minutes) : 0;
  };
  // Until something has finished there is no rate to project from: no ETA rather than `0s`.
  const eta = () => {
    if (finishedThisRun === 0) return 'ETA —';
    const remaining = total - finished;
    if (remaining <= 0) return 'done';
    const projected = ((now() - started) / finishedThisRun) * remaining;
    // The first requests go at once and make the pace look fast; the rate limit is the real bound
    // (per provider, so with several providers this errs long rather than short).
    const paced = requestsPerMinute === undefined ? 0 : (remaining / requestsPerMinute) * 60_000;
    return `ETA ${formatDuration(Math.max(projected, paced))}`;
  };
  let bar: cliProgress.SingleBar | undefined = terminal
    ? new cliProgress.SingleBar(
        {
          // The failed count comes right after the counts, so a narrow terminal cuts the ETA, not it.
          format: '{bar} {value}/{total} | failed {failed} | {rate} img/min | {remaining}',
          stream: terminal,
          hideCursor: true,
          // cli-progress turns the terminal's line wrapping off while the bar runs by default, which
          // cuts every notice written above the bar at the edge; kept on, the bar trims itself.
          linewrap: true,
          // What follows the bar takes at most about 55 columns (4-digit counts, `ETA 59m59s`).
          barsize: Math.max(8, Math.min(40, (terminal.columns || 80) - 56)),
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;
  /** A line of its own: above the bar's final state when there is one, never written over it. */
  const say = (text: string) => {
    if (bar) terminal!.write(`\r\x1b[2K${text}`);
    else write(text);
    bar?.render();
  };
  const endBar = () => {
    if (!bar) return;
    bar.update(finished, { rate: rate(), failed, remaining: eta() });
    // cli-progress's stop returns the cursor to where the bar started, above every line said since;
    // saved here, on the bar's own row, the next line starts below the bar instead of over a notice.
    terminal!.write('\x1b7');
    bar.stop();
    bar = undefined;
  };

  return {
    onEvent(event) {
      switch (event.type) {
        case 'start':
          total = event.total;
          finished = event.skipped;
          bar?.start(total, finished, { rate: 0, failed: 0, remaining: eta() });
          if (!bar) write(`${item === 'cell' ? `compare: ${plural(total, 'cell')}` : `batch: ${plural(total, 'request')}`}, ${event.skipped} already done\n`);
          return;
        case 'skipped':
          return;
        case 'retry':
          if (!bar) write(`retry  ${item} ${event.job.line} (attempt ${event.attempt}): ${event.error}\n`);
          return;
        case 'done':
          finished++;
          finishedThisRun++;
          images += event.images;
          if (!bar) {
            const timing = event.cached
              ? 'cached'
              : `in ${event.latencyMs ?? event.durationMs} ms${event.queueMs >= 100 ? ` (after ${event.queueMs} ms waiting for a turn)` : ''}`;
            write(`[${finished}/${total}] done   ${item} ${event.job.line}: ${plural(event.images, 'image')} ${timing}\n`);
          }
          break;
        case 'circuit-open':
          // Shown whatever the display: it explains a run of failures that follows.
          say(`stopping requests to ${event.scope}: ${event.reason} Its remaining jobs are recorded as failed, not sent; re-run to retry them.\n`);
          return;
        case 'file-system-fault':
          say(`stopping: writing failed, ${event.error}; no new request starts, those in flight finish.\n`);
          return;
        case 'stopping':
          // The bar ends here, at the count reached, so the stop line and the summary below it
          // each get a line of their own.
          endBar();
          write(
            event.inFlight === 0
              ? 'stopping: no new requests, none in flight (Ctrl-C again to quit now)\n'
              : `stopping: no new requests; waiting for the ${plural(event.inFlight, 'request')} in flight (Ctrl-C again to quit now)\n`,
          );
          return;
        case 'failed':
          finished++;
          finishedThisRun++;
          failed++;
          if (!bar) write(`[${finished}/${total}] failed ${item} ${event.job.line}: ${event.error}\n`);
          break;
      }
      bar?.update(finished, { rate: rate(), failed, remaining: eta() });
    },
    stop: endBar,
  };
}

/** `1 request`, `2 requests`. */
export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`;
}

/** `45s`, `3m05s`, `2h10m`. */
function formatDuration(milliseconds: number): string {
  const seconds = Math.max(1, Math.round(milliseconds / 1000));
  if (seconds < 60) return `${seconds}s`;
  const minutes = Math.floor(seconds / 60);
  if (minutes < 60) return `${minutes}m${String(seconds % 60).padStart(2, '0')}s`;
  return `${Math.floor(minutes / 60)}h${String(minutes % 60).padStart(2, '0')}m`;
}
