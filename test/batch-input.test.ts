import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { canonicalJson, createJobKeyMaker, InvalidBatchInputError, parseBatchInput } from '../src/batch/input.js';
import { Journal } from '../src/batch/journal.js';
import { parseRequest } from '../src/pipeline/parse.js';
import { checkBatchFile, loadBatchFile } from '../src/batch/load.js';
import { readBatchJobs } from '../src/batch/read.js';
import { startEmulator, type Emulator } from '../src/emulator/index.js';
import { runCli } from '../src/cli/main.js';
import { memoryIO } from './helpers/cli.js';

let emulator: Emulator;
let folder: string;
beforeAll(async () => {
  emulator = await startEmulator({ quiet: true });
  vi.stubEnv('TOGETHER_API_KEY', 'test-key');
  vi.stubEnv('TOGETHER_BASE_URL', emulator.url);
  folder = await mkdtemp(path.join(tmpdir(), 'imagegen-batch-input-'));
});
afterAll(async () => {
  vi.unstubAllEnvs();
  await emulator.close();
});

// [what is wrong, file name, contents, expected "line:column" of the first problem, message pattern]
const BAD_FILES: [string, string, string | Uint8Array, string, RegExp][] = [
  ['bad JSON', 'a.jsonl', '{"prompt":"ok"}\n{"prompt": "x",}\n', '2:16', /not valid JSON/],
  ['unknown field', 'b.jsonl', '{"prompt":"ok"}\n{"prompt":"x","stepz":4}\n', '2:15', /stepz: unknown field/],
  ['count as a string', 'c.jsonl', '{"prompt":"x","count":"2"}\n', '1:15', /count: must be number/],
  ['prompt missing', 'd.jsonl', '{"size":"square"}\n', '1:1', /prompt: is required/],
  ['a JSON array line', 'e.jsonl', '["a lighthouse"]\n', '1:1', /must be a JSON object/],
  ['a JSON string line', 'f.jsonl', '"a lighthouse"\n', '1:1', /must be a JSON object/],
  ['empty file', 'g.jsonl', '', '1:1', /has no requests/],
  ['only comments', 'h.txt', '# nothing here\n\n', '1:1', /has no requests/],
  ['CSV without a prompt column', 'i.csv', 'size,steps\nsquare,4\n', '1:1', /no "prompt" column/],
  ['CSV with an unknown column', 'j.csv', 'prompt,colour\nfox,red\n', '1:2', /unknown column "colour"/],
  ['CSV with a ragged row', 'k.csv', 'prompt,steps\nfox,4,extra\n', '2:', /not valid CSV/],
  ['CSV with an unclosed quote', 'l.csv', 'prompt,steps\n"fox,4\n', '2:', /not valid CSV/],
  ['CSV steps not a number', 'm.csv', 'prompt,steps\nfox,four\n', '2:2', /steps: must be number/],
  ['steps beyond the model', 'n.jsonl', '{"prompt":"x","steps":40}\n', '1:15', /steps: must be from 1 to 12/],
  ['size beyond the model', 'o.jsonl', '{"prompt":"x","size":"4000x4000"}\n', '1:15', /size: width 4000/],
  ['missing reference image', 'p.jsonl', '{"prompt":"x","model":"togetherai:black-forest-labs/FLUX.1-kontext-pro","referenceImages":["/no/such.png"]}\n', '1:', /does not exist/],
  ['negative seed', 'q.jsonl', '{"prompt":"x","seed":-1}\n', '1:15', /seed: must be 0 or more/],
  ['unknown provider', 'r.jsonl', '{"prompt":"x","model":"nope:thing"}\n', '1:15', /unknown provider "nope"/],
  ['a key given twice', 's.jsonl', '{"prompt":"x","seed":1,"seed":2}\n', '1:24', /^seed: key given twice \(JSON would silently keep the last\); give each field once/],
  ['a key given twice inside providerOptions', 't.jsonl', '{"prompt":"x","providerOptions":{"togetherai":{"a":1,"a":2}}}\n', '1:54', /^providerOptions\.togetherai\.a: key given twice/],
  ['providerOptions nested 5,000 deep', 'u.jsonl', `{"prompt":"x","providerOptions":${'{"a":'.repeat(5000)}1${'}'.repeat(5000)}}\n`, '1:', /^providerOptions(\.a)+: nested more than 32 levels deep/],
  ['bytes that are not UTF-8', 'v.txt', Buffer.from([...Buffer.from('a fox\nb'), 0xff, ...Buffer.from('ad\n')]), '2:2', /not valid UTF-8 \(byte 0xFF\); save the file as UTF-8/],
  ['CSV errors name the file line, past a blank line and a two-line cell', 'w.csv', 'prompt,steps\n\n"a fox\non two lines",4\nfox,four\n', '5:2', /steps: must be number/],
  ['CSV JSON cell with a key given twice', 'x.csv', 'prompt,providerOptions\nfox,"{""togetherai"":{""a"":1,""a"":2}}"\n', '2:2', /^providerOptions\.togetherai\.a: key given twice/],
];

describe('bad batch files are rejected with line and column, and nothing is sent', () => {
  it('a file with several bad lines reports every one, in file order, and nothing else', async () => {
    const file = path.join(folder, 'several.jsonl');
    const lines = ['{"prompt":"ok"}', '{"prompt": "x",}', '{"prompt":"ok"}', '{"prompt":"x","steps":40}', '["x"]', '{"prompt":"x","seed":-1}'];
    await writeFile(file, `${lines.join('\n')}\n`);
    const error = await loadBatchFile({ file }).catch((caught: unknown) => caught);
    expect(InvalidBatchInputError.isInstance(error)).toBe(true);
    const found = (error as InvalidBatchInputError).lineErrors.map((each) => `${each.line}:${each.column} ${each.message.split(':')[0]}`);
    expect(found).toEqual(['2:16 not valid JSON', '4:15 steps', '5:1 each line must be a JSON object like {"prompt"', '6:15 seed']);
  });

  it.each(BAD_FILES)('%s', async (_name, name, contents, position, message) => {
    const file = path.join(folder, name);
    await writeFile(file, contents);
    const error = await loadBatchFile({ file }).catch((caught: unknown) => caught);
    expect(error).toBeInstanceOf(InvalidBatchInputError);
    const first = (error as InvalidBatchInputError).lineErrors[0]!;
    expect(`${first.line}:${first.column}`.startsWith(position), `${first.line}:${first.column} ${first.message}`).toBe(true);
    expect(first.message).toMatch(message);
    expect((error as Error).message).toContain(`${file}:${first.line}:${first.column}: `);

    const io = memoryIO(folder);
    const code = await runCli(['batch', file, '-o', path.join(folder, `out-${name}`)], io);
    expect(code).toBe(2);
    expect(emulator.stats().requests).toBe(0);
  });

  it('--skip-invalid goes on without the bad lines', async () => {
    const file = path.join(folder, 'mixed.jsonl');
    await writeFile(file, '{"prompt":"good","model":"local:placeholder","size":"64x64"}\n{"prompt":"x","steps":99}\n');
    const io = memoryIO(folder);
    const code = await runCli(['batch', file, '-o', path.join(folder, 'mixed-out'), '--skip-invalid', '--json'], io);
    expect(code).toBe(0);
    expect(io.stderrText()).toMatch(/skipped .*mixed.jsonl:2:15: steps: must be from 1 to 12/);
    expect((JSON.parse(io.stdoutText()) as { summary: unknown }).summary).toMatchObject({ done: 1, failed: 0 });
  });
});

describe('hostile field names', () => {
  it('a __proto__ key is reported at its own column, not "[object Object]"', () => {
    const text = '{"prompt": "a fox", "__proto__": {"steps": 4}}';
    const { errors } = parseBatchInput({ text, format: 'jsonl' });
    expect(errors.map((error) => [error.line, error.column])).toEqual([[1, text.indexOf('"__proto__"') + 1]]);
    expect(errors[0]!.message).toContain('__proto__');
  });
});

describe('input formats', () => {
  it('JSONL, CSV and text give the same request, defaults underneath', () => {
    const defaults = { model: 'local:placeholder', size: '64x64' };
    const jsonl = parseBatchInput({ text: '{"prompt":"a fox","seed":3}\n', format: 'jsonl', defaults });
    const csv = parseBatchInput({ text: 'prompt,seed\n"a fox",3\n', format: 'csv', defaults });
    const text = parseBatchInput({ text: 'a fox\n', format: 'text', defaults: { ...defaults, seed: 3 } });
    for (const parsed of [jsonl, csv, text]) {
      expect(parsed.errors).toEqual([]);
      expect(parsed.jobs[0]?.request).toEqual({ model: 'local:placeholder', size: '64x64', prompt: 'a fox', seed: 3 });
    }
    expect(new Set([jsonl, csv, text].map((parsed) => parsed.jobs[0]?.key)).size).toBe(1);
  });

  it('a byte order mark (as some editors save UTF-8) is accepted, in JSONL, CSV and text', () => {
    for (const [format, text] of [['jsonl', '\uFEFF{"prompt":"a fox"}\n'], ['csv', '\uFEFFprompt\na fox\n'], ['text', '\uFEFFa fox\n']] as const) {
      const parsed = parseBatchInput({ text, format });
      expect(parsed.errors, format).toEqual([]);
      expect(parsed.jobs[0]?.request.prompt).toBe('a fox');
    }
  });

  it('canonical JSON (what job and cache keys hash) sorts keys by code unit, bytes as their hash: the same text on every machine', () => {
    const byCodeUnit = (value: unknown) =>
      JSON.stringify(value, (_key, item: unknown) => {
        if (item instanceof Uint8Array) return `sha256:${createHash('sha256').update(item).digest('hex')}`;
        if (item !== null && typeof item === 'object' && !Array.isArray(item)) {
          return Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([left], [right]) => (left < right ? -1 : left > right ? 1 : 0)));
        }
        return item;
      });
    const values = [
      { prompt: 'a fox', seed: 1, size: '64x64', count: 2 },
      { size: '64x64', count: 2, seed: 1, prompt: 'a fox', negativePrompt: undefined },
      { providerOptions: { togetherai: { Zeta: 1, alpha: [3, { b: null, A: 'x', _c: true, '10': 1, '9': 2 }], ...JSON.parse('{"__proto__": {"x": 1}}') } } },
      { referenceImages: [new Uint8Array([1, 2, 3]), 'https://example.com/a.png'], loras: [{ path: 'x', scale: 0.5 }] },
      { numbers: [0, -0, 1e21, 1.5e-7, Number.NaN, Number.POSITIVE_INFINITY, -1], holes: [undefined, () => 1, Symbol('s'), null], empty: {}, none: [] },
      { nested: { deeper: { deepest: [{ b: 1, a: { d: [true, false], c: 'é 🦊 "quoted" \\ \n' } }] } }, skipped: () => 1 },
      { at: new Date(0), url: new URL('https://example.com/x'), mixed: [{ z: new Uint8Array([9]) }] },
      Object.assign(Object.create(null) as object, { b: 2, a: 1 }),
      { height: 1, chaos: 2, Seed: 3, seed: 4, 'é': 5, e: 6, f: 7 },
      ['top', 'level', { array: 1 }],
      'a string',
      42,
    ];
    for (const value of values) expect(canonicalJson(value)).toBe(byCodeUnit(value));
    expect(canonicalJson(values[0])).toBe(canonicalJson(values[1]));
  });

  it('job keys are the same under every language (cs_CZ, da_DK, en_US): a collator would order {height, chaos} and Seed/seed by locale', () => {
    // What format 1 did, under the machine's language: these orders are why it was replaced.
    expect(['height', 'chaos'].sort(new Intl.Collator('cs').compare)).toEqual(['height', 'chaos']);
    expect(['height', 'chaos'].sort(new Intl.Collator('en').compare)).toEqual(['chaos', 'height']);
    expect(['seed', 'Seed'].sort(new Intl.Collator('da').compare)).not.toEqual(['seed', 'Seed'].sort(new Intl.Collator('en').compare));
    const script = `
      import { canonicalJson, createKeyMaker } from './src/batch/input.ts';
      const keyOf = createKeyMaker();
      const request = { prompt: 'a fox', providerOptions: { togetherai: { height: 1, chaos: 2, Seed: 3, seed: 4 } } };
      console.log(JSON.stringify({ text: canonicalJson(request.providerOptions), key: keyOf(request), locale: new Intl.Collator().resolvedOptions().locale }));`;
    const run = (language: string) =>
      JSON.parse(
        execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
          cwd: path.resolve(import.meta.dirname, '..'),
          env: { ...process.env, LANG: language, LC_ALL: language },
          encoding: 'utf8',
        }),
      ) as { text: string; key: string; locale: string };
    const [czech, danish, english] = [run('cs_CZ.UTF-8'), run('da_DK.UTF-8'), run('en_US.UTF-8')];
    expect([czech.locale, danish.locale, english.locale]).toEqual(['cs-CZ', 'da-DK', 'en-US']);
    expect(czech.text).toBe('{"togetherai":{"Seed":3,"chaos":2,"height":1,"seed":4}}');
    expect(danish).toMatchObject({ text: czech.text, key: czech.key });
    expect(english).toMatchObject({ text: czech.text, key: czech.key });
    // Three child processes that load TypeScript: seconds on a busy machine.
  }, 60_000);

  it('a job whose key changed with format 2 carries its format-1 key, so a journal written before still resumes', async () => {
    const request = { prompt: 'a fox', providerOptions: { togetherai: { Zeta: 1, alpha: 2 } } };
    const formatOne = (value: unknown) =>
      JSON.stringify(value, (_key, item: unknown) =>
        item !== null && typeof item === 'object' && !Array.isArray(item)
          ? Object.fromEntries(Object.entries(item as Record<string, unknown>).sort(([left], [right]) => left.localeCompare(right)))
          : item,
      );
    const legacyKey = createHash('sha256').update(`${formatOne(parseRequest(request))}#0`).digest('hex').slice(0, 24);
    const keys = createJobKeyMaker();
    const made = keys(request);
    expect(made.legacyKey).toBe(legacyKey);
    expect(made.key).not.toBe(legacyKey);
    // Lowercase ASCII field names sort alike in both: one key, unchanged from format 1.
    const plain = keys({ prompt: 'a whale', size: '64x64', seed: 2 });
    expect(plain.legacyKey).toBeUndefined();
    expect(plain.key).toBe(createHash('sha256').update(`${formatOne(parseRequest({ prompt: 'a whale', size: '64x64', seed: 2 }))}#0`).digest('hex').slice(0, 24));

    const outDir = await mkdtemp(path.join(tmpdir(), 'imagegen-keys-'));
    try {
      await writeFile(path.join(outDir, 'a.png'), 'x');
      await writeFile(path.join(outDir, 'a.json'), '{}');
      const entry = { key: legacyKey, line: 1, status: 'done', files: ['a.png'], seed: 1, requests: 1, cached: false, at: '2026-01-01T00:00:00.000Z' };
      await writeFile(path.join(outDir, 'manifest.jsonl'), `${JSON.stringify(entry)}\n`);
      const journal = await Journal.open(outDir);
      expect(await journal.isDone(made.key, outDir, made.legacyKey)).toBe(true);
      expect(journal.entryOf(made)?.key).toBe(legacyKey);
      expect(await journal.isDone(made.key, outDir)).toBe(false);
    } finally {
      await rm(outDir, { recursive: true, force: true });
    }
  });

  it('identical lines are distinct jobs with stable keys', () => {
    const first = parseBatchInput({ text: 'a fox\na fox\n', format: 'text' });
    const second = parseBatchInput({ text: 'a fox\na fox\n', format: 'text' });
    expect(first.jobs.map((job) => job.key)).toEqual(second.jobs.map((job) => job.key));
    expect(new Set(first.jobs.map((job) => job.key)).size).toBe(2);
  });
});

describe('batch files are read as a stream', () => {
  // Past one read chunk (64 KiB) and a half, with characters of two to four bytes falling across chunk edges.
  const many = (count: number, line: (index: number) => string) => Array.from({ length: count }, (_, index) => line(index));
  const streamed = async (file: string, format: 'jsonl' | 'csv' | 'text') => {
    const jobs = [];
    const errors = [];
    for await (const item of readBatchJobs({ file, format, defaults: { size: '64x64' } })) {
      if ('job' in item) jobs.push(item.job);
      else if ('errors' in item) errors.push(...item.errors);
      else errors.push(item.fatal);
    }
    return { jobs, errors };
  };

  it.each([
    ['jsonl', many(3000, (index) => JSON.stringify({ prompt: `a fox é 狐 🦊 number ${index}`, seed: index % 7 })).join('\r\n')],
    ['csv', `\uFEFFprompt,seed\n${many(3000, (index) => `"a fox 狐 🦊 on\r\ntwo lines ${index % 5}",${index % 3}`).join('\n')}\n`],
    ['text', `\uFEFF${many(6000, (index) => (index % 10 === 0 ? '# a comment' : `a red fox 狐 🦊 in the snow ${index % 9}`)).join('\n')}`],
  ] as const)('%s: the same jobs, keys and lines as the whole text parsed at once', async (format, text) => {
    const file = path.join(folder, `stream.${format}`);
    await writeFile(file, text);
    expect(Buffer.byteLength(text)).toBeGreaterThan(96 * 1024);
    const whole = parseBatchInput({ text, format, defaults: { size: '64x64' } });
    const { jobs, errors } = await streamed(file, format);
    expect(errors).toEqual(whole.errors);
    expect(jobs).toEqual(whole.jobs);
    expect(jobs.length).toBeGreaterThan(2000);
  });

  it('bytes that are not UTF-8 far into the file are found on their line, and end the reading', async () => {
    const file = path.join(folder, 'late-bad-byte.txt');
    const before = many(20_000, (index) => `a fox ${index}`).join('\n');
    await writeFile(file, Buffer.concat([Buffer.from(`${before}\nok é`), Buffer.from([0xc3]), Buffer.from('\nmore\n')]));
    const { jobs, errors } = await streamed(file, 'text');
    expect(errors).toEqual([{ line: 20_001, column: 5, message: 'not valid UTF-8 (byte 0xC3); save the file as UTF-8' }]);
    expect(jobs).toHaveLength(20_000);
    await expect(loadBatchFile({ file })).rejects.toThrow(/late-bad-byte\.txt:20001:5: not valid UTF-8/);
  });

  it('imagegen batch runs a CSV (a cell over two lines, CRLF endings) checked then read again: the keys of the whole text', async () => {
    const file = path.join(folder, 'run.csv');
    const text = 'prompt,seed,size\r\n"a fox\r\nin snow",3,64x64\r\na whale,4,64x64\r\n';
    await writeFile(file, text);
    const out = path.join(folder, 'run-csv-out');
    const io = memoryIO(folder);
    expect(await runCli(['batch', file, '-m', 'local:placeholder', '-o', out, '--json'], io)).toBe(0);
    expect((JSON.parse(io.stdoutText()) as { summary: unknown }).summary).toMatchObject({ total: 2, done: 2, failed: 0 });
    const { readFile } = await import('node:fs/promises');
    const keys = (await readFile(path.join(out, 'manifest.jsonl'), 'utf8')).trim().split('\n').map((line) => (JSON.parse(line) as { key: string; line: number }));
    const expected = parseBatchInput({ text, format: 'csv', defaults: { model: 'local:placeholder' } }).jobs.map((job) => ({ key: job.key, line: job.line }));
    expect(keys.map(({ key, line }) => ({ key, line })).sort((left, right) => left.line - right.line)).toEqual(expected);
  });

  it('a CSV error far into the file is the only problem reported, as with the whole text', async () => {
    const file = path.join(folder, 'late-ragged.csv');
    const text = `prompt,steps\n${many(5000, (index) => `"fox, ${index}",4`).join('\n')}\nfox,4,extra\n`;
    await writeFile(file, text);
    const error = (await loadBatchFile({ file }).catch((caught: unknown) => caught)) as InvalidBatchInputError;
    expect(error.lineErrors).toEqual(parseBatchInput({ text, format: 'csv' }).errors);
    expect(error.lineErrors).toHaveLength(1);
    expect(error.lineErrors[0]!.line).toBe(5002);
  });

  it('checking plans each job once and reads each reference file once, keeping no jobs', async () => {
    const reference = path.join(folder, 'reference.png');
    await writeFile(reference, Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg==', 'base64'));
    const file = path.join(folder, 'references.jsonl');
    const line = (index: number) => JSON.stringify({ prompt: `fox ${index}`, model: 'togetherai:black-forest-labs/FLUX.1-kontext-pro', referenceImages: [reference] });
    await writeFile(file, `${many(5, line).join('\n')}\n{"prompt":"x","steps":99}\n`);
    const reads: string[] = [];
    const planned: number[] = [];
    const check = await checkBatchFile({
      file,
      readFile: async (name, { maxBytes }) => {
        reads.push(name);
        const { readImageFile } = await import('../src/files/files.js');
        return readImageFile(name, { maxBytes });
      },
      onJob: (job) => void planned.push(job.line),
    });
    expect(planned).toEqual([1, 2, 3, 4, 5]);
    expect(reads).toEqual(Array.from({ length: 5 }, () => reference));
    expect(check).toMatchObject({ valid: 5, invalidLines: new Set([6]) });
    expect(check.errors.map((error) => error.line)).toEqual([6]);
  });
});

