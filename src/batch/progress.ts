import cliProgress from 'cli-progress';
import type { BatchEvent } from './engine.js';

/**
 * Progress for a batch run: a bar on a terminal (done/total, rate, ETA, failures), plain lines
 * otherwise, so logs stay readable.
 */
export function createProgress({
  terminal,
  write,
  now = Date.now,
}: {
  /** The terminal to draw a bar on; without one, plain lines go to `write`. */
  terminal?: NodeJS.WriteStream | undefined;
  write: (text: string) => void;
  now?: () => number;
}): { onEvent: (event: BatchEvent) => void; stop: () => void } {
  let total = 0;
  let finished = 0;
  let failed = 0;
  let images = 0;
  const started = now();
  const rate = () => {
    const minutes = (now() - started) / 60_000;
    return minutes > 0 ? Math.round(images / minutes) : 0;
  };
  const bar = terminal
    ? new cliProgress.SingleBar(
        {
          format: '{bar} {value}/{total} requests | {rate} img/min | ETA {eta_formatted} | failed {failed}',
          stream: terminal,
          hideCursor: true,
          etaBuffer: 20,
        },
        cliProgress.Presets.shades_classic,
      )
    : undefined;

  return {
    onEvent(event) {
      switch (event.type) {
        case 'start':
          total = event.total;
          finished = event.skipped;
          bar?.start(total, finished, { rate: 0, failed: 0 });
          if (!bar) write(`batch: ${total} requests, ${event.skipped} already done\n`);
          return;
        case 'skipped':
          return;
        case 'retry':
          if (!bar) write(`retry  line ${event.job.line} (attempt ${event.attempt}): ${event.error}\n`);
          return;
        case 'done':
          finished++;
          images += event.images;
          if (!bar) {
            write(`[${finished}/${total}] done   line ${event.job.line}: ${event.images} image(s)${event.cached ? ' from cache' : ''} in ${event.durationMs} ms\n`);
          }
          break;
        case 'circuit-open':
          // Shown whatever the display: it explains a run of failures that follows.
          (bar ? (text: string) => terminal!.write(`\n${text}`) : write)(`stopping requests to ${event.scope}: ${event.reason} Its remaining jobs are recorded as failed, not sent; re-run to retry them.\n`);
          return;
        case 'file-system-fault':
          (bar ? (text: string) => terminal!.write(`\n${text}`) : write)(`stopping: writing failed, ${event.error}; no new request starts, those in flight finish.\n`);
          return;
        case 'failed':
          finished++;
          failed++;
          if (!bar) write(`[${finished}/${total}] failed line ${event.job.line}: ${event.error}\n`);
          break;
      }
      bar?.update(finished, { rate: rate(), failed });
    },
    stop() {
      bar?.stop();
    },
  };
}
