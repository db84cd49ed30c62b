/**
 * Cold start of the installed CLI: the tarball packed and installed into a fresh Node 20 app on ai 6
 * (the consumer suite's `node-esm` app), then `imagegen --version` and an offline
 * `imagegen generate` (local:placeholder, 1024x1024) against bare `node -e 0`, each a new process,
 * alternating so the machine's drift falls on all three alike. Also the peak RSS of an idle CLI
 * (`imagegen generate --help`: the command and the library loaded, no work done) and where an
 * offline generate's time goes: each part imported alone in a fresh process, and the render.
 */
import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import os, { loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { cleanEnvironment, installApp, packTarball } from '../test/helpers/consumer.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const PROMPT = 'a lighthouse at dawn';
const VERSION_TARGET_RATIO = 3;
const GENERATE_TARGET_MS = 500;
const FULL = { warmUp: 3, iterations: 21, partRepeats: 7 };
const QUICK = { warmUp: 1, iterations: 5, partRepeats: 3 };

type Summary = { medianMs: number; p90Ms: number; minMs: number };

export async function runColdStart({ quick, log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const { warmUp, iterations, partRepeats } = quick ? QUICK : FULL;
  log('  packing and installing the tarball into a fresh app');
  const app = await installApp({ name: 'node-esm', tarball: await packTarball() });
  const bin = path.join(app.dir, 'node_modules/.bin/imagegen');
  const out = await mkdtemp(path.join(tmpdir(), 'imagegen-bench-cold-'));
  const probe = path.join(out, 'rss-probe.cjs');
  // Loaded before the program with --require: reports the process's peak RSS as it exits. Linux
  // keeps getrusage's maxRSS across fork and exec, so a child of a large parent (this process, after
  // the memory benchmark) would report the parent's size; /proc's VmHWM belongs to the new program.
  await writeFile(
    probe,
    "process.on('exit', () => { let kib; try { kib = /VmHWM:\\s+(\\d+)/.exec(require('fs').readFileSync('/proc/self/status', 'utf8'))[1]; } catch { kib = process.resourceUsage().maxRSS; } process.stderr.write(`\\nmax-rss-kib=${kib}\\n`); });\n",
  );
  // No key in the environment: generate runs offline on local:placeholder.
  const environment = cleanEnvironment();

  const commands = {
    bare: { command: process.execPath, args: ['-e', '0'] },
    version: { command: bin, args: ['--version'] },
    generate: { command: bin, args: ['generate', PROMPT, '-s', '1024x1024', '-o', path.join(out, 'images')] },
    idle: { command: bin, args: ['generate', '--help'] },
  };
  const timeOnce = (name: keyof typeof commands, extraEnvironment: Record<string, string> = {}) => {
    const { command, args } = commands[name];
    const started = performance.now();
    const result = spawnSync(command, args, { cwd: app.dir, env: { ...environment, ...extraEnvironment }, encoding: 'utf8' });
    const elapsed = performance.now() - started;
    if (result.status !== 0) throw new Error(`${name} exited with ${result.status}: ${result.stderr}`);
    return { elapsed, stderr: result.stderr };
  };

  const times: Record<'bare' | 'version' | 'generate', number[]> = { bare: [], version: [], generate: [] };
  const order = ['bare', 'version', 'generate'] as const;
  try {
    for (let index = 0; index < warmUp; index++) for (const name of order) timeOnce(name);
    for (let index = 0; index < iterations; index++) {
      // Rotate who goes first.
      for (let offset = 0; offset < order.length; offset++) {
        const name = order[(index + offset) % order.length]!;
        times[name].push(timeOnce(name).elapsed);
      }
    }
    const peakRss = (name: keyof typeof commands) => {
      const samples = Array.from({ length: 3 }, () => {
        const { stderr } = timeOnce(name, { NODE_OPTIONS: `--require=${probe}` });
        return Number(/max-rss-kib=(\d+)/.exec(stderr)?.[1]) / 1024;
      });
      return round(Math.min(...samples), 1);
    };
    const rssMiB = { bare: peakRss('bare'), version: peakRss('version'), idle: peakRss('idle'), generate: peakRss('generate') };
    const breakdown = measureParts(app.dir, environment, partRepeats);
    // Cold starts are CPU-bound: on a shared machine the load says how much to trust them.
    const load = round(loadavg()[0] ?? 0, 2);

    const bare = summarize(times.bare);
    const version = summarize(times.version);
    const generate = summarize(times.generate);
    const ratio = round(version.medianMs / bare.medianMs, 2);
    log(`  median: node -e 0 ${bare.medianMs} ms, --version ${version.medianMs} ms (${ratio}x), generate ${generate.medianMs} ms; load ${load}`);
    const describe = (summary: Summary) => `median ${(summary.medianMs / 1000).toFixed(3)} s (p90 ${(summary.p90Ms / 1000).toFixed(3)} s)`;
    const parts = breakdown.map((part) => `${part.name} ${part.medianMs.toFixed(0)} ms`).join(', ');
    return {
      rows: [
        { benchmark: 'cold start', variant: 'bare `node -e 0`', result: `${describe(bare)}; load average ${load} on ${os.cpus().length} cores`, target: 'baseline', met: undefined },
        {
          benchmark: 'cold start',
          variant: '`imagegen --version` (installed package)',
          result: `${describe(version)} = ${ratio}x bare node`,
          target: `≤ ${VERSION_TARGET_RATIO}x bare node`,
          met: ratio <= VERSION_TARGET_RATIO,
        },
        {
          benchmark: 'cold start',
          variant: 'offline `imagegen generate` 1024x1024 (installed package)',
          result: `${describe(generate)}; alone in a fresh process: ${parts}`,
          target: `≤ ${GENERATE_TARGET_MS / 1000} s`,
          met: generate.medianMs <= GENERATE_TARGET_MS,
        },
        {
          benchmark: 'idle RSS',
          variant: '`imagegen generate --help` (command and library loaded, no work)',
          result: `${rssMiB.idle} MiB peak (--version ${rssMiB.version} MiB, bare node ${rssMiB.bare} MiB; a whole offline generate ${rssMiB.generate} MiB)`,
          target: 'reported',
          met: undefined,
        },
      ],
      raw: {
        settings: { warmUp, iterations, node: process.version, app: app.dir, loadAverage: load },
        bare,
        version,
        generate,
        versionToBareRatio: ratio,
        peakRssMiB: rssMiB,
        importsAndRender: breakdown,
        timesMs: Object.fromEntries(Object.entries(times).map(([name, list]) => [name, list.map((time) => round(time, 1))])),
      },
    };
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

/**
 * Where an offline generate's time goes: each module imported alone in a fresh process (so each
 * includes what it imports itself: ai includes zod), and rendering a 1024x1024 PNG, timed inside.
 */
function measureParts(cwd: string, environment: Record<string, string>, repeats: number): { name: string; medianMs: number }[] {
  const imports = [
    ['import zod', 'zod'],
    ['import ai', 'ai'],
    ['import @ai-sdk/togetherai', '@ai-sdk/togetherai'],
    ['import ai-imagegen', 'ai-imagegen'],
    ['import the generate command', 'ai-imagegen/dist/cli/generate.js'],
  ] as const;
  const scripts: [string, string][] = imports.map(([name, specifier]) => [
    name,
    // The package's dist files are not in its exports; reach them by path as the bin does.
    specifier.startsWith('ai-imagegen/dist/')
      ? `const started = performance.now(); await import('./node_modules/${specifier}'); console.log(performance.now() - started);`
      : `const started = performance.now(); await import('${specifier}'); console.log(performance.now() - started);`,
  ]);
  scripts.push([
    'render 1024x1024 PNG',
    "const { renderPlaceholder } = await import('./node_modules/ai-imagegen/dist/render.js'); const started = performance.now(); renderPlaceholder({ prompt: 'a lighthouse at dawn', seed: 1, width: 1024, height: 1024, format: 'png' }); console.log(performance.now() - started);",
  ]);
  return scripts.map(([name, script]) => {
    const samples = Array.from({ length: repeats }, () => {
      const result = spawnSync(process.execPath, ['--input-type=module', '-e', script], { cwd, env: environment, encoding: 'utf8' });
      if (result.status !== 0) throw new Error(`${name}: ${result.stderr}`);
      return Number(result.stdout.trim());
    });
    return { name, medianMs: round(summarize(samples).medianMs, 1) };
  });
}

function summarize(times: readonly number[]): Summary {
  const sorted = [...times].sort((left, right) => left - right);
  const at = (fraction: number) => {
    const position = (sorted.length - 1) * fraction;
    const lower = sorted[Math.floor(position)] ?? Number.NaN;
    const upper = sorted[Math.ceil(position)] ?? lower;
    return lower + (upper - lower) * (position - Math.floor(position));
  };
  return { medianMs: round(at(0.5), 1), p90Ms: round(at(0.9), 1), minMs: round(sorted[0] ?? Number.NaN, 1) };
}

function round(value: number, digits: number): number {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}
