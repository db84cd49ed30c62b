import { readFileSync } from 'node:fs';
import { mkdtemp, readdir, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { runCli } from '../src/cli/main.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { memoryIO } from './helpers/cli.js';

const ROOT = path.resolve(import.meta.dirname, '..');

/** Runs the CLI in-process in a fresh folder; the folder's path reads `<folder>` in what is returned. */
async function imagegen(argv: string[], { folder }: { folder?: string } = {}) {
  const cwd = folder ?? (await mkdtemp(path.join(tmpdir(), 'imagegen-messages-')));
  const io = memoryIO(cwd);
  const code = await runCli(argv, io, { stopSignal: async () => {} });
  const clean = (text: string) => text.replaceAll(cwd, '<folder>');
  return { code, stdout: clean(io.stdoutText()), stderr: clean(io.stderrText()), folder: cwd };
}

beforeAll(() => {
  // Offline and keyless: every command here runs on local:placeholder or stops before sending.
  vi.stubEnv('TOGETHER_API_KEY', undefined);
  vi.stubEnv('IMAGEGEN_CACHE_DIR', path.join(tmpdir(), 'imagegen-messages-cache'));
});
afterAll(() => {
  vi.unstubAllEnvs();
});

// Help loads every command and the library behind them: the first test to do so, in a fresh clone,
// also pays for transforming them all (more than 5 s on a busy machine).
describe('--help of every command', { timeout: 60_000 }, () => {
  it('imagegen --help', async () => {
    const { code, stdout } = await imagegen(['--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen [options] [command]

      Generate images through the Vercel AI SDK (Together AI FLUX first, any AI SDK
      image provider).

      Options:
        -v, --version                output the version number
        --price <model=price>        override a price estimate, e.g.
                                     togetherai:black-forest-labs/FLUX.2-pro=0.03/image
                                     (repeatable) (default: [])
        --config <file>              config file with price overrides (default
                                     ./imagegen.config.json when present)
        --otel                       export OpenTelemetry spans over OTLP/HTTP
                                     (default endpoint http://localhost:4318; also on
                                     when OTEL_EXPORTER_OTLP_ENDPOINT is set)
        --otel-endpoint <url>        OTLP/HTTP endpoint for spans (implies --otel)
        -h, --help                   display help for command

      Commands:
        generate [options] <prompt>  generate images from a prompt and save them with
                                     a .json sidecar each
        batch [options] <file>       generate from a file (JSONL, CSV with a header
                                     row, or one prompt per line); re-running resumes
        compare [options]            run prompts × models × seeds × settings and write
                                     a contact sheet, an HTML gallery and
                                     results.csv/jsonl
        models [options] [model]     list the models in the catalog, what each
                                     accepts, and its price estimate; with <model>,
                                     every detail of one
        mcp [options]                serve generate_image and list_models to MCP
                                     clients over stdio (logs on stderr)
        emulator [options]           run a local server that speaks Together AI's
                                     image API (offline development, tests, load and
                                     fault drills)
        worker [options]             take the jobs of \`imagegen batch --queue\` runs
                                     from Redis and generate them (any number of
                                     workers, on any machines sharing the output
                                     folder)
        cache                        the cache of seeded requests (a folder, or Redis)
        help [command]               display help for command
      "
    `);
  });
  it('imagegen generate --help', async () => {
    const { code, stdout } = await imagegen(['generate', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen generate [options] <prompt>

      generate images from a prompt and save them with a .json sidecar each

      Arguments:
        prompt                        what to draw

      Options:
        -m, --model <provider:model>  model (default
                                      togetherai:black-forest-labs/FLUX.1-schnell;
                                      local:placeholder when no key is set)
        -s, --size <size>             WxH or square, landscape, portrait, photo,
                                      classic
        -a, --aspect-ratio <ratio>    W:H, e.g. 16:9
        -n, --count <n>               how many images
        --steps <n>                   diffusion steps
        --seed <n>                    seed (random and recorded when not given)
        --negative <text>             negative prompt
        --guidance <number>           guidance scale
        -i, --image <path-or-url>     reference image (repeatable) (default: [])
        --mask <path-or-url>          where to repaint the first --image: white on
                                      black, or transparent (models that take a mask)
        --no-safety-checker           disable the provider safety checker where the
                                      model allows it
        --prompt-upsampling           let the provider rewrite the prompt (Together
                                      FLUX.2; on there by default)
        --no-prompt-upsampling        send the prompt as written (Together FLUX.2)
        --format <format>             png or jpeg
        -o, --out <dir>               output folder (default: "./out")
        --max-retries <n>             retries per request on 429, 5xx and network
                                      errors (default: "2")
        --timeout <duration>          give up after this long, with a unit: 120s, 2m,
                                      500ms (default: "120s")
        --json                        print one JSON object on stdout
        --verbose                     print stack traces
        -h, --help                    display help for command
      "
    `);
  });
  it('imagegen batch --help', async () => {
    const { code, stdout } = await imagegen(['batch', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen batch [options] <file>

      generate from a file (JSONL, CSV with a header row, or one prompt per line);
      re-running resumes

      Arguments:
        file                          requests file: .jsonl, .csv, or text

      Options:
        -m, --model <provider:model>  default model for every request
        -s, --size <size>             default size
        -a, --aspect-ratio <ratio>    default aspect ratio
        -n, --count <n>               default images per request
        --steps <n>                   default steps
        --seed <n>                    default seed (seeded requests are cached)
        --negative <text>             default negative prompt
        --guidance <number>           default guidance
        --format <format>             default output format: png or jpeg
        --input-format <format>       jsonl, csv or text (default: from the file name)
        -o, --out <dir>               output folder (holds manifest.jsonl) (default:
                                      "./out")
        -c, --concurrency <n>         requests in flight per provider (default: "4")
        -r, --rate-limit <rate>       requests per minute per provider, e.g. 120/min
        --max-retries <n>             retries per request on 429, 5xx, network errors
                                      and bad bodies (default: "5")
        --timeout <duration>          per-request timeout, with a unit: 120s, 2m
                                      (default: "120s")
        --cache [redis-url]           share the cache of seeded requests in Redis
                                      (redis://HOST:PORT[/DB]); without a URL, the
                                      cache folder
        --no-cache                    bypass the cache of seeded requests
        --cache-dir <dir>             cache folder (default $IMAGEGEN_CACHE_DIR or
                                      ~/.cache/ai-imagegen)
        --cache-max-size <size>       size cap of the cache: past it the least
                                      recently used images go (default: "5GB")
        --queue <redis-url>           put the jobs on a Redis queue (BullMQ) for
                                      \`imagegen worker\`s and follow them:
                                      redis://HOST:PORT[/DB]
        --dry-run                     print requests, images, megapixels and estimated
                                      cost; send nothing
        --skip-invalid                go on without the lines that are invalid
        --json                        print the summary and the images written as JSON
                                      on stdout
        --budget <usd>                stop sending before the spend (actual where
                                      reported, else estimated) would pass this many
                                      USD
        -h, --help                    display help for command
      "
    `);
  });
  it('imagegen compare --help', async () => {
    const { code, stdout } = await imagegen(['compare', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen compare [options]

      run prompts × models × seeds × settings and write a contact sheet, an HTML
      gallery and results.csv/jsonl

      Options:
        -e, --experiment <file>     experiment file (.json, .yaml); flags add to it
        -p, --prompt <text>         a prompt (repeatable) (default: [])
        --models <list>             comma-separated "provider:model" list
        --seeds <list>              comma-separated seeds (default 1)
        --steps <list>              comma-separated steps to compare
        --guidance <list>           comma-separated guidance values to compare
        -s, --size <size>           size for every cell
        -a, --aspect-ratio <ratio>  aspect ratio for every cell
        --format <format>           png or jpeg
        -i, --image <path-or-url>   reference image for every cell (repeatable)
                                    (default: [])
        --mask <path-or-url>        where every cell repaints the first --image
                                    (models that take a mask)
        --name <title>              title of the gallery
        -o, --out <dir>             output folder (re-running resumes) (default:
                                    "./out/experiment")
        -c, --concurrency <n>       requests in flight per provider (default: "4")
        -r, --rate-limit <rate>     requests per minute per provider, e.g. 60/min
        --max-retries <n>           retries per request (default: "5")
        --no-cache                  bypass the cache of seeded requests
        --cache-dir <dir>           cache folder
        --cell-size <px>            contact sheet cell size (default: "256")
        --json                      print the results as JSON on stdout
        --budget <usd>              stop sending before the spend (actual where
                                    reported, else estimated) would pass this many USD
        -h, --help                  display help for command
      "
    `);
  });
  it('imagegen models --help', async () => {
    const { code, stdout } = await imagegen(['models', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen models [options] [model]

      list the models in the catalog, what each accepts, and its price estimate; with
      <model>, every detail of one

      Arguments:
        model                  one model, as provider:model (or a model id of the
                               default provider); any other text lists the models
                               whose name contains it, e.g. kontext

      Options:
        -p, --provider <name>  only this provider
        --wide                 every column, one model a line (wider than 80 columns)
        --refresh              read the provider's live model list (Together: GET
                               /v1/models), cached on disk, and show what changed
        --max-age <duration>   with --refresh: use a cached list younger than this (0
                               always fetches) (default: "24h")
        --json                 print JSON
        -h, --help             display help for command
      "
    `);
  });
  it('imagegen emulator --help', async () => {
    const { code, stdout } = await imagegen(['emulator', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen emulator [options]

      run a local server that speaks Together AI's image API (offline development,
      tests, load and fault drills)

      Options:
        --port <port>         port (0 picks a free one) (default: "8787")
        --host <host>         address to bind (default: "127.0.0.1")
        --latency <duration>  added latency per request, e.g. 300ms
        --rate-limit <rate>   requests per minute before 429, e.g. 60/min
        --fail-rate <share>   share of requests answered 500/502/503/504, e.g. 0.05
        --api-key <key>       accept only this key (default: any non-empty key)
        --seed <n>            seed for jitter, failures and faults
        --quiet               no request log
        -h, --help            display help for command
      "
    `);
  });
  it('imagegen mcp --help', async () => {
    const { code, stdout } = await imagegen(['mcp', '--help']);
    expect(code).toBe(0);
    expect(stdout).toMatchInlineSnapshot(`
      "Usage: imagegen mcp [options]

      serve generate_image and list_models to MCP clients over stdio (logs on stderr)

      Options:
        -o, --out <dir>               where images and sidecars are saved (default:
                                      "./out")
        -m, --model <provider:model>  default model
                                      (togetherai:black-forest-labs/FLUX.1-schnell;
                                      local:placeholder when no key is set)
        --allow-models <list>         comma-separated models a call may choose
                                      (default: any)
        --max-count <n>               most images in one call (default: "4")
        --max-cost <usd>              the most all calls together may cost (actual
                                      where reported, else estimated); calls past it
                                      are refused
        --allow-dir <dir>             a folder referenceImages may name files in
                                      (repeatable; default: --out and the working
                                      directory)
        -h, --help                    display help for command
      "
    `);
  });
});

describe('the main error messages say what was wrong, what is allowed and what would work (exit 2)', () => {
  it('an unquoted prompt', async () => {
    const result = await imagegen(['generate', 'a', 'cat', 'on', 'a', 'mat']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: the prompt must be one argument: put it in quotes, like imagegen generate "a cat on a mat" (got 5 words)
      "
    `);
  });

  it('compare with a bare prompt points to -p', async () => {
    const result = await imagegen(['compare', 'a cat']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: compare takes its prompts with -p (repeatable): imagegen compare -p "a cat" --models togetherai:black-forest-labs/FLUX.1-schnell,local:placeholder
      "
    `);
  });

  it('a missing batch file, with the close name in that folder', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-messages-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\n');
    const result = await imagegen(['batch', 'promts.txt'], { folder });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: requests file promts.txt does not exist (looked in <folder>); did you mean prompts.txt? Try: imagegen batch prompts.txt
      "
    `);
    expect(await readdir(folder)).toEqual(['prompts.txt']);
  });

  it('a missing experiment file', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-messages-'));
    await writeFile(path.join(folder, 'experiment.yaml'), 'prompts: [a fox]\nmodels: [local:placeholder]\n');
    const result = await imagegen(['compare', '-e', 'experimnet.yaml'], { folder });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: experiment file experimnet.yaml does not exist (looked in <folder>); did you mean experiment.yaml? Try: imagegen compare -e experiment.yaml
      "
    `);
  });

  it('a --timeout without a unit', async () => {
    const result = await imagegen(['generate', 'a cat', '--timeout', '5']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: --timeout needs a unit: 5s for seconds, 5m for minutes or 5ms for milliseconds (got "5"), e.g. --timeout 5s
      "
    `);
  });

  it('-n that is not a number', async () => {
    const result = await imagegen(['generate', 'a cat', '-n', 'abc']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: -n/--count must be a whole number, e.g. --count 4 (got "abc")
      "
    `);
  });

  it('--format webp', async () => {
    const result = await imagegen(['generate', 'a cat', '--format', 'webp']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: --format must be png or jpeg (got "webp"), e.g. --format jpeg
      "
    `);
  });

  it('experiment values from flags are named by flag and position', async () => {
    const seeds = await imagegen(['compare', '-p', 'a cat', '--models', 'local:placeholder', '--seeds', '1,x']);
    expect(seeds.code).toBe(2);
    expect(seeds.stderr).toMatchInlineSnapshot(`
      "error: --seeds #2 must be a whole number, 0 or more (got "x")
      "
    `);
    const models = await imagegen(['compare', '-p', 'a cat', '--models', 'local:placeholder,flux']);
    expect(models.code).toBe(2);
    expect(models.stderr).toMatchInlineSnapshot(`
      "error: invalid input, nothing was sent:
        - --models #2: is not a model any provider's catalog knows. Name its provider as "provider:modelId" (e.g. "togetherai:black-forest-labs/FLUX.2-dev"), or learn the live list with \`imagegen models --refresh\`. (got "flux")
      "
    `);
    const none = await imagegen(['compare', '--models', 'local:placeholder']);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatchInlineSnapshot(`
      "error: compare needs at least one prompt: -p "a cat" (repeatable), or an experiment file with a prompts list (-e experiment.yaml)
      "
    `);
  });

  it('experiment files: the experiment\'s fields, and file:line:column', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-messages-'));
    await writeFile(path.join(folder, 'experiment.yaml'), 'prompts: [a fox]\nmodels:\n  - local:placeholder\nseeds: [1, two]\nprompt: a cat\n');
    const result = await imagegen(['compare', '-e', 'experiment.yaml'], { folder });
    expect(result.code).toBe(2);
    expect(result.stderr).toMatchInlineSnapshot(`
      "error: invalid input, nothing was sent:
        - experiment.yaml:4:12 seeds[1]: must be a whole number (got "two")
        - experiment.yaml:5:9 prompt: unknown field; an experiment takes: name, prompts, models, seeds, settings, size, aspectRatio, negativePrompt, outputFormat, safetyChecker, referenceImages, mask (got "prompt")
      "
    `);
  });

  it('a busy emulator port suggests --port', async () => {
    const busy: Emulator = await startEmulator({ quiet: true });
    try {
      const port = new URL(busy.url).port;
      const result = await imagegen(['emulator', '--port', port]);
      expect(result.code).toBe(2);
      expect(result.stderr.replaceAll(port, '<port>').replace(/--port \d+,/, '--port <next>,')).toMatchInlineSnapshot(`
        "error: port <port> on 127.0.0.1 is taken (another emulator still running?); pick another with --port, e.g. imagegen emulator --port <next>, or --port 0 for any free one
        "
      `);
    } finally {
      await busy.close();
    }
  });
});

describe('counts that agree', () => {
  it('compare: refused cells count as failed in the progress lines, the table and the reason printed', async () => {
    // No key: the togetherai cells are refused before the run; the placeholder cells are drawn.
    const result = await imagegen(['compare', '-p', 'a cat', '-p', 'a dog', '--models', 'local:placeholder,togetherai:black-forest-labs/FLUX.1-schnell', '-s', '256x256', '--no-cache']);
    expect(result.code).toBe(1);
    const progressLines = result.stderr.split('\n').filter((line) => /^\[\d+\/\d+\]/.test(line));
    expect(progressLines).toHaveLength(4);
    expect(progressLines.filter((line) => line.includes('] failed')).length).toBe(2);
    expect(result.stderr).toContain('compare: 4 cells, 0 already done');
    expect(progressLines.filter((line) => /\] failed cell [24]: No API key for Together AI/.test(line))).toHaveLength(2);
    expect(result.stdout).toMatch(/togetherai:black-forest-labs\/FLUX\.1-schnell\s+0\s+2\s+-/);
    expect(result.stderr).toContain('2 of 4 cells failed:');
    expect(result.stderr).toContain('togetherai:black-forest-labs/FLUX.1-schnell, seed 1, "a cat": No API key for Together AI.');
  });

  it('batch: piped lines give the provider latency; a cached request says "cached"; one request is singular', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-messages-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\n');
    const cacheDir = path.join(folder, 'cache');
    const first = await imagegen(['batch', 'prompts.txt', '--seed', '7', '-s', '64x64', '-o', 'one', '--cache-dir', cacheDir], { folder });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('batch: 1 request, 0 already done');
    expect(first.stderr).toMatch(/\[1\/1\] done {3}line 1: 1 image in \d+ ms\n/);
    const second = await imagegen(['batch', 'prompts.txt', '--seed', '7', '-s', '64x64', '-o', 'two', '--cache-dir', cacheDir], { folder });
    expect(second.stderr).toContain('[1/1] done   line 1: 1 image cached\n');
    expect(second.stderr).toContain('done 1 (1 cached)');
  });
});

describe('batch: a file read twice (checked, then run), resumed', () => {
  it('a re-run counts what was done, its dry run too; an edited file runs only its new lines', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-messages-resume-'));
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\na whale\na fox\n');
    const options = ['-m', 'local:placeholder', '-s', '64x64', '-o', 'out', '--no-cache'];
    const first = await imagegen(['batch', 'prompts.txt', ...options], { folder });
    expect(first.code).toBe(0);
    expect(first.stderr).toContain('batch: 3 requests, 0 already done');
    expect(first.stderr).toContain('done 3 (0 cached), skipped 0 (done before), failed 0');
    const dryRun = await imagegen(['batch', 'prompts.txt', ...options, '--dry-run', '--json'], { folder });
    expect(JSON.parse(dryRun.stdout)).toMatchObject({ dryRun: true, requests: 0, images: 0, alreadyDone: 3 });
    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\na whale\na fox\na lighthouse\n');
    const again = await imagegen(['batch', 'prompts.txt', ...options], { folder });
    expect(again.stderr).toContain('batch: 4 requests, 3 already done');
    expect(again.stderr).toContain('done 1 (0 cached), skipped 3 (done before), failed 0');
  });
});

describe('one result shape (schema/result.schema.json)', () => {
  const schema = JSON.parse(readFileSync(path.join(ROOT, 'schema/result.schema.json'), 'utf8')) as { $id: string };
  const ajv = new Ajv2020({ strict: true, strictRequired: false, allErrors: true });
  ajv.addSchema(schema);
  const check = (definition: string, value: unknown) => {
    const validate = ajv.getSchema(`${schema.$id}#/$defs/${definition}`)!;
    const valid = validate(value);
    expect(valid ? [] : validate.errors).toEqual([]);
  };

  it('generate --json, its sidecars, batch --json (fresh and cached, and their sidecars), compare rows and results.jsonl', async () => {
    const folder = await mkdtemp(path.join(tmpdir(), 'imagegen-shape-'));
    const generated = await imagegen(['generate', 'a lighthouse', '-n', '2', '-s', '64x64', '-o', 'out', '--json'], { folder });
    expect(generated.code).toBe(0);
    const generateOutput = JSON.parse(generated.stdout.replaceAll('<folder>', folder)) as { outDir: string; images: { file: string; path: string; model: string }[] };
    check('generateOutput', generateOutput);
    expect(generateOutput.images).toHaveLength(2);
    for (const image of generateOutput.images) {
      const sidecar = JSON.parse(await readFile(path.join(generateOutput.outDir, image.file.replace(/\.png$/, '.json')), 'utf8'));
      check('sidecar', sidecar);
      // `path` is from where the command ran: for --json, not for the sidecar beside the image.
      const { path: fromHere, ...result } = image;
      expect(sidecar).toMatchObject(result);
      expect(fromHere).toBe(path.join('out', image.file));
    }

    await writeFile(path.join(folder, 'prompts.txt'), 'a fox\na whale\n');
    const batchArgs = ['batch', 'prompts.txt', '--seed', '3', '-s', '64x64', '--cache-dir', path.join(folder, 'cache'), '--json'];
    for (const [out, cached] of [['batch-one', false], ['batch-two', true]] as const) {
      const batch = await imagegen([...batchArgs, '-o', out], { folder });
      expect(batch.code).toBe(0);
      const batchOutput = JSON.parse(batch.stdout.replaceAll('<folder>', folder)) as { outDir: string; images: { file: string; cached: boolean; latencyMs: number | null }[] };
      check('batchOutput', batchOutput);
      expect(batchOutput.images.map((image) => [image.cached, image.latencyMs === null])).toEqual([
        [cached, cached],
        [cached, cached],
      ]);
      for (const image of batchOutput.images) {
        check('sidecar', JSON.parse(await readFile(path.join(batchOutput.outDir, image.file.replace(/\.png$/, '.json')), 'utf8')));
      }
    }

    const compared = await imagegen(['compare', '-p', 'a cat', '--models', 'local:placeholder,togetherai:black-forest-labs/FLUX.1-schnell', '-s', '64x64', '-o', 'experiment', '--json', '--no-cache'], { folder });
    expect(compared.code).toBe(1);
    const compareOutput = JSON.parse(compared.stdout.replaceAll('<folder>', folder)) as { rows: { status: string; file: string | null }[] };
    check('compareOutput', compareOutput);
    expect(compareOutput.rows.map((row) => row.status)).toEqual(['done', 'failed']);
    for (const line of (await readFile(path.join(folder, 'experiment', 'results.jsonl'), 'utf8')).trim().split('\n')) check('compareRow', JSON.parse(line));
  }, 60_000);
});
