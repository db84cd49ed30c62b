import { Terminal } from '@xterm/headless';
import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createProgress } from '../src/batch/progress.js';
import type { BatchEvent } from '../src/batch/engine.js';
import type { BatchJob } from '../src/batch/input.js';

/**
 * The batch progress as an 80-column terminal shows it: the bytes written are played into a
 * headless xterm.js, and the screen's lines are read back.
 */

function screen80() {
  const terminal = new Terminal({ cols: 80, rows: 24, allowProposedApi: true, convertEol: true }) // a tty turns \n into \r\n (onlcr);
  let pending = Promise.resolve();
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      const text = chunk.toString();
      pending = pending.then(() => new Promise<void>((resolve) => terminal.write(text, resolve)));
      done();
    },
  }) as Writable & { isTTY: boolean; columns: number; rows: number; cursorTo: unknown; clearLine: unknown; moveCursor: unknown; clearScreenDown: unknown };
  Object.assign(stream, { isTTY: true, columns: 80, rows: 24 });
  const lines = async () => {
    await pending;
    const buffer = terminal.buffer.active;
    const result: string[] = [];
    for (let row = 0; row < buffer.length; row++) result.push(buffer.getLine(row)?.translateToString(true) ?? '');
    while (result.at(-1) === '') result.pop();
    return result;
  };
  return { stream: stream as unknown as NodeJS.WriteStream, write: (text: string) => stream.write(text), lines };
}

const job = (line: number) => ({ line, request: { prompt: 'p' }, key: String(line), columns: {} }) as BatchJob;

describe('batch progress in an 80-column terminal', () => {
  it('long notices wrap whole, and the line after the bar shows no piece of it', async () => {
    const { stream, write, lines } = screen80();
    let clock = 0;
    const progress = createProgress({ terminal: stream, write, now: () => (clock += 1000) });
    const emit = (event: BatchEvent) => progress.onEvent(event);
    emit({ type: 'start', total: 4, skipped: 0 } as BatchEvent);
    emit({ type: 'done', job: job(1), images: 1, cached: false, durationMs: 900, latencyMs: 900, queueMs: 0, results: [] } as unknown as BatchEvent);
    const reason =
      'togetherai rejected the API key (HTTP 401): invalid api key. Check TOGETHER_API_KEY or TOGETHER_AI_API_KEY.';
    emit({ type: 'circuit-open', scope: 'togetherai', reason, line: 2 } as BatchEvent);
    emit({ type: 'stopping', inFlight: 2 } as BatchEvent);
    progress.stop();
    write('stopped in 3.2s → /home/someone/projects/pictures/out\n  done 1 (0 cached)\n');
    const shown = await lines();
    const text = shown.join('\n');
    // Each notice is on the screen in full: wrapped at 80 columns, never cut.
    expect(shown.join('')).toContain(`stopping requests to togetherai: ${reason} Its remaining jobs are recorded as failed, not sent; re-run to retry them.`);
    expect(shown.join('')).toContain('stopping: no new requests; waiting for the 2 requests in flight (Ctrl-C again to quit now)');
    // The summary's lines are only the summary: nothing of the bar is left on them.
    const summaryRow = shown.findIndex((line) => line.startsWith('stopped in'));
    expect(shown[summaryRow]).toBe('stopped in 3.2s → /home/someone/projects/pictures/out');
    expect(shown[summaryRow + 1]).toBe('  done 1 (0 cached)');
    // The bar's last state is a line of its own, above the stop line.
    expect(text).toMatch(/1\/4 \| failed 0 \| \d+ img\/min \| ETA \S+\n/);
    for (const line of shown) expect(line.length).toBeLessThanOrEqual(80);
  });
});
