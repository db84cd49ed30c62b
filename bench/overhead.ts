/**
 * What the toolkit costs per call over a bare `generateImage`, on an emulator with no latency so the
 * client's own work is as large a share as it can be. Measured at the default size (1024x1024) and
 * at 256x256, where the emulator answers in ~3 ms and the toolkit's fixed cost per call (parse,
 * plan, map, reading the size from the bytes, collect) shows at its largest; it is held to 5%, the default size to 2%.
 * The emulator runs in a child process (bench/emulator-child.ts), so that its rendering and garbage
 * collection do not land on the timed thread. Both send the same body (seed included, so the
 * emulator renders the same image), and they alternate, each going first every other iteration,
 * so drift in the machine's speed falls on both alike.
 */
import { createTogetherAI } from '@ai-sdk/togetherai';
import { generateImage } from 'ai';
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { generateImages } from '../src/generate.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const MODEL_ID = 'black-forest-labs/FLUX.1-schnell';
const SIZES = [
  // The targets of the design issue: 2% at the default size, 5% where the fixed cost is largest.
  { size: '1024x1024', target: 2, full: { warmUp: 20, iterations: 150 } },
  { size: '256x256', target: 5, full: { warmUp: 30, iterations: 300 } },
] as const;
const PROMPT = 'a red fox in fresh snow';
const SEED = 42;

const QUICK = { warmUp: 5, iterations: 30 };

type Summary = { medianMs: number; p90Ms: number; meanMs: number; minMs: number };

export async function runOverhead(options: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const outcomes: BenchmarkOutcome[] = [];
  for (const setting of SIZES) outcomes.push(await runAtSize(options, setting));
  return {
    rows: outcomes.flatMap((outcome) => outcome.rows),
    raw: Object.fromEntries(SIZES.map((setting, index) => [setting.size, outcomes[index]!.raw])),
  };
}

async function runAtSize(
  { quick, log }: BenchmarkOptions,
  { size: SIZE, target, full }: (typeof SIZES)[number],
): Promise<BenchmarkOutcome> {
  const { warmUp, iterations } = quick ? QUICK : full;
  const emulator = await startEmulatorProcess();
  process.env.TOGETHER_API_KEY = 'bench-key';
  process.env.TOGETHER_BASE_URL = emulator.url;
  // A bare-SDK user creates the model once and reuses it.
  const plainModel = createTogetherAI({ apiKey: 'bench-key', baseURL: emulator.url }).image(MODEL_ID);
  const toolkitCall = () => generateImages({ prompt: PROMPT, model: `togetherai:${MODEL_ID}`, size: SIZE, seed: SEED });
  const plainCall = () => generateImage({ model: plainModel, prompt: PROMPT, size: SIZE, n: 1, seed: SEED });

  const toolkitTimes: number[] = [];
  const plainTimes: number[] = [];
  let sameBody: boolean;
  try {
    for (let index = 0; index < warmUp; index++) {
      await toolkitCall();
      await plainCall();
    }
    const [toolkitBody, plainBody] = (await emulator.bodies(2)).map((body) => JSON.stringify(body));
    sameBody = toolkitBody === plainBody;
    const timed = async (call: () => Promise<unknown>, times: number[]) => {
      const started = performance.now();
      await call();
      times.push(performance.now() - started);
    };
    for (let index = 0; index < iterations; index++) {
      if (index % 2 === 0) {
        await timed(toolkitCall, toolkitTimes);
        await timed(plainCall, plainTimes);
      } else {
        await timed(plainCall, plainTimes);
        await timed(toolkitCall, toolkitTimes);
      }
    }
  } finally {
    await emulator.close();
  }

  const toolkit = summarize(toolkitTimes);
  const plain = summarize(plainTimes);
  const overheadPercent = round(((toolkit.medianMs - plain.medianMs) / plain.medianMs) * 100, 1);
  const overheadP90Percent = round(((toolkit.p90Ms - plain.p90Ms) / plain.p90Ms) * 100, 1);
  log(`  median toolkit ${toolkit.medianMs} ms, plain ${plain.medianMs} ms (${overheadPercent}%)`);
  const describe = (summary: Summary) => `median ${summary.medianMs.toFixed(2)} ms, p90 ${summary.p90Ms.toFixed(2)} ms per call`;
  return {
    rows: [
      {
        benchmark: 'overhead',
        variant: `toolkit generateImages, ${SIZE} (${iterations} calls)`,
        result:
          `${describe(toolkit)}; +${(toolkit.medianMs - plain.medianMs).toFixed(2)} ms = ${formatPercent(overheadPercent)} ` +
          `(p90 ${formatPercent(overheadP90Percent)})`,
        target: `≤ ${target}% at the median`,
        met: overheadPercent <= target,
      },
      {
        benchmark: 'overhead',
        variant: `plain generateImage, ${SIZE} (${iterations} calls)`,
        result: describe(plain),
        target: 'baseline',
        met: undefined,
      },
    ],
    raw: {
      settings: { modelId: MODEL_ID, size: SIZE, seed: SEED, latencyMs: 0, warmUp, iterations, sameRequestBody: sameBody },
      toolkit,
      plain,
      overheadMs: round(toolkit.medianMs - plain.medianMs, 3),
      overheadPercent,
      overheadP90Percent,
      toolkitTimesMs: toolkitTimes.map((time) => round(time, 3)),
      plainTimesMs: plainTimes.map((time) => round(time, 3)),
    },
  };
}

function summarize(times: readonly number[]): Summary {
  const sorted = [...times].sort((left, right) => left - right);
  return {
    medianMs: round(percentile(sorted, 0.5), 3),
    p90Ms: round(percentile(sorted, 0.9), 3),
    meanMs: round(sorted.reduce((total, time) => total + time, 0) / sorted.length, 3),
    minMs: round(sorted[0] ?? Number.NaN, 3),
  };
}

/** Linear interpolation between the closest ranks of a sorted list. */
function percentile(sorted: readonly number[], fraction: number): number {
  const position = (sorted.length - 1) * fraction;
  const lower = sorted[Math.floor(position)] ?? Number.NaN;
  const upper = sorted[Math.ceil(position)] ?? lower;
  return lower + (upper - lower) * (position - Math.floor(position));
}

function formatPercent(percent: number): string {
  return `${percent >= 0 ? '+' : ''}${percent.toFixed(1)}%`;
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

/** The emulator in a child process: its URL, the bodies it last received, and closing it. */
async function startEmulatorProcess(): Promise<{ url: string; bodies(count: number): Promise<unknown[]>; close(): Promise<void> }> {
  const child = fork(fileURLToPath(new URL('./emulator-child.ts', import.meta.url)), [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'ignore', 'inherit', 'ipc'] });
  const [ready] = (await once(child, 'message')) as [{ type: 'url'; url: string }];
  return {
    url: ready.url,
    async bodies(count) {
      child.send({ type: 'bodies', count });
      const [reply] = (await once(child, 'message')) as [{ bodies: unknown[] }];
      return reply.bodies;
    },
    async close() {
      child.send({ type: 'close' });
      await once(child, 'exit');
    },
  };
}
