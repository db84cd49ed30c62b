import { Command } from 'commander';
import { inDoorWords } from '../errors/doors.js';
import { parseDuration } from '../util/units.js';
import { DEFAULT_MODEL } from '../pipeline/parse.js';
import { loadTogetherApiKey } from '../providers/together/settings.js';
import { generateImages } from '../generate.js';
import { readImageFile, saveImages } from '../files/files.js';
import { redactSecrets } from '../errors/errors.js';
import { timeoutSignal } from '../util/timeout.js';
import { checkCanKeep } from '../files/folder-checks.js';
import type { GenerateRequest } from '../pipeline/parse.js';
import type { CommandContext } from './output.js';
import { pathFromHere } from './output.js';
import { EXIT_FAILURE, EXIT_OK, formatError, formatFlag, integerFlag, LOCAL_FALLBACK_MODEL, numberFlag, timeoutFlag, UsageError, wholeNumber } from './output.js';
import path from 'node:path';

type GenerateFlags = {
  model?: string;
  size?: string;
  aspectRatio?: string;
  count?: string;
  steps?: string;
  seed?: string;
  negative?: string;
  guidance?: string;
  image: string[];
  mask?: string;
  safetyChecker: boolean;
  promptUpsampling?: boolean;
  format?: string;
  out: string;
  maxRetries: string;
  timeout: string;
  json?: boolean;
  verbose?: boolean;
};

/** `imagegen generate "<prompt>"`: generate, save atomically with sidecars, print paths or JSON. */
export function generateCommand({ io, setExitCode, stop, setQuitNote, telemetry }: CommandContext): Command {
  return new Command('generate')
    .description('generate images from a prompt and save them with a .json sidecar each')
    .argument('<prompt>', 'what to draw')
    .option('-m, --model <provider:model>', `model (default ${DEFAULT_MODEL}; ${LOCAL_FALLBACK_MODEL} when no key is set)`)
    .option('-s, --size <size>', 'WxH or square, landscape, portrait, photo, classic')
    .option('-a, --aspect-ratio <ratio>', 'W:H, e.g. 16:9')
    .option('-n, --count <n>', 'how many images', undefined)
    .option('--steps <n>', 'diffusion steps')
    .option('--seed <n>', 'seed (random and recorded when not given)')
    .option('--negative <text>', 'negative prompt')
    .option('--guidance <number>', 'guidance scale')
    .option('-i, --image <path-or-url>', 'reference image (repeatable)', (value: string, previous: string[]) => [...previous, value], [])
    .option('--mask <path-or-url>', 'where to repaint the first --image: white on black, or transparent (models that take a mask)')
    .option('--no-safety-checker', 'disable the provider safety checker where the model allows it')
    .option('--prompt-upsampling', 'let the provider rewrite the prompt (Together FLUX.2; on there by default)')
    .option('--no-prompt-upsampling', 'send the prompt as written (Together FLUX.2)')
    .option('--format <format>', 'png or jpeg')
    .option('-o, --out <dir>', 'output folder', './out')
    .option('--max-retries <n>', 'retries per request on 429, 5xx and network errors', '2')
    .option('--timeout <duration>', 'give up after this long, with a unit: 120s, 2m, 500ms', '120s')
    .option('--json', 'print one JSON object on stdout')
    .option('--verbose', 'print stack traces')
    // Checked in the action, to say what an unquoted prompt needs rather than "too many arguments".
    .allowExcessArguments(true)
    .action(async (prompt: string, flags: GenerateFlags, command: Command) => {
      if (command.args.length > 1) throw new UsageError(extraArgumentsMessage(command.args, io.env));
      let model = flags.model;
      let offlineNotice = '';
      if (model === undefined) {
        if (loadTogetherApiKey() === undefined) {
          model = LOCAL_FALLBACK_MODEL;
          // Said once the flags are known to be good, so a usage error stands alone.
          offlineNotice = `No TOGETHER_API_KEY set: using ${LOCAL_FALLBACK_MODEL}, an offline placeholder renderer (not a diffusion model).\n`;
        } else {
          model = DEFAULT_MODEL;
        }
      }
      const maxRetries = wholeNumber('--max-retries', flags.maxRetries, 0);
      const outDir = path.resolve(io.cwd, flags.out);
      const timeoutMs = timeoutFlag('--timeout', flags.timeout, parseDuration);
      // Ctrl-C cancels the request; --timeout ends it with a TimeoutError, which names the model.
      const controller = new AbortController();
      const onStop = () => controller.abort(new DOMException(`${(stop.reason as Error).message}; nothing was saved`, 'AbortError'));
      const signal = timeoutSignal(
        timeoutMs,
        { operation: 'the request', message: `no answer within ${flags.timeout} (--timeout); nothing was saved` },
        controller.signal,
      );
      stop.addEventListener('abort', onStop, { once: true });
      setQuitNote(`nothing was saved; run the same command again (${outDir})`);
      try {
        const request: GenerateRequest = {
          prompt,
          model,
          ...(flags.size === undefined ? {} : { size: flags.size }),
          ...(flags.aspectRatio === undefined ? {} : { aspectRatio: flags.aspectRatio }),
          ...(flags.count === undefined ? {} : { count: integerFlag('-n/--count', flags.count, 4) }),
          ...(flags.steps === undefined ? {} : { steps: integerFlag('--steps', flags.steps, 28) }),
          ...(flags.seed === undefined ? {} : { seed: integerFlag('--seed', flags.seed, 42) }),
          ...(flags.negative === undefined ? {} : { negativePrompt: flags.negative }),
          ...(flags.guidance === undefined ? {} : { guidance: numberFlag('--guidance', flags.guidance) }),
          ...(flags.image.length === 0 ? {} : { referenceImages: flags.image }),
          ...(flags.mask === undefined ? {} : { mask: flags.mask }),
          safetyChecker: flags.safetyChecker,
          ...(flags.promptUpsampling === undefined ? {} : { promptUpsampling: flags.promptUpsampling }),
          ...(flags.format === undefined ? {} : { outputFormat: formatFlag(flags.format) }),
        };
        io.stderr(offlineNotice);
        // Before anything is sent: a folder that cannot take the image would only waste the request.
        await checkCanKeep({ folder: outDir, requests: [request], field: '--out' });
        const result = await generateImages(request, { maxRetries, abortSignal: signal, readFile: (file, { maxBytes }) => readImageFile(file, { maxBytes, signal }), ...telemetry() });
        const saved = await saveImages({
          images: result.images,
          outDir,
          warnings: result.warnings,
          durationMs: result.durationMs,
          // The provider calls (the longest, when the count took several), not validation or reading references.
          ...(result.calls.length === 0 ? {} : { latencyMs: Math.max(...result.calls.map((call) => call.durationMs)) }),
          estimatedCostUsd: result.estimatedCostUsd,
          actualCostUsd: result.actualCostUsd,
        });
        if (flags.json) {
          // The shared result shape (schema/result.schema.json): `file` relative to `outDir`, `path` from here.
          io.stdout(
            `${JSON.stringify({
              outDir,
              images: saved.map((item) => ({ ...item.result, path: pathFromHere(io.cwd, item.path) })),
              warnings: result.warnings,
              requests: result.requests,
              durationMs: result.durationMs,
              estimatedCostUsd: result.estimatedCostUsd ?? null,
              actualCostUsd: result.actualCostUsd ?? null,
              errors: result.errors.map((error) => ({ name: error.name, message: redactSecrets(error.message) })),
            })}\n`,
          );
        } else {
          for (const warning of result.warnings) io.stderr(`warning: ${inDoorWords(warning.message, 'shell')}\n`);
          for (const { path: filePath } of saved) io.stdout(`${filePath}\n`);
        }
        for (const error of result.errors) io.stderr(`${formatError(error, { verbose: flags.verbose ?? false })}\n`);
        setExitCode(result.errors.length > 0 ? EXIT_FAILURE : EXIT_OK);
      } finally {
        stop.removeEventListener('abort', onStop);
      }
    });
}

/**
 * What extra words after the prompt mean. Under `npm run`, flags before `--` are npm's: it keeps
 * them and passes on their values alone (`npm run generate "a cat" -n 2` arrives as `"a cat" 2`),
 * so a quoted prompt with stray words is that, not a prompt that needed quotes.
 */
export function extraArgumentsMessage(words: readonly string[], env: Record<string, string | undefined>): string {
  const underNpm = /imagegen(\.ts)?\b/.test(env.npm_lifecycle_script ?? '');
  const script = env.npm_lifecycle_event ?? 'generate';
  const extra = words.slice(1).map((word) => JSON.stringify(word)).join(' ');
  if (underNpm) {
    return (
      `got ${extra} after the prompt: npm run keeps the flags written before \`--\` for itself and passes on only their values. ` +
      `Put \`--\` before the arguments: npm run ${script} -- ${JSON.stringify(words[0])} -n 2 (with your flags)`
    );
  }
  if (/\s/.test(words[0] ?? '')) {
    return `got ${extra} after the prompt ${JSON.stringify(words[0])}: each flag needs its dash and name, e.g. -n 2 or --seed 7 (imagegen generate --help lists them)`;
  }
  return `the prompt must be one argument: put it in quotes, like imagegen generate ${JSON.stringify(words.join(' '))} (got ${words.length} words)`;
}
