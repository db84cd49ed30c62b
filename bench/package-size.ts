/**
 * What a library user downloads and installs: the packed tarball (packed, unpacked, files) and a
 * fresh Node 20 app on ai 6 with it installed (the consumer suite's `node-esm` app: ai,
 * @ai-sdk/provider, @ai-sdk/togetherai and the tarball). Lists what the package itself brings
 * beyond the AI SDK the app already has, and checks that no TypeScript toolchain and no sharp come
 * with it.
 */
import { existsSync } from 'node:fs';
import { lstat, readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { installApp, packTarball, runOk } from '../test/helpers/consumer.js';
import type { BenchmarkOptions, BenchmarkOutcome } from './run.js';

const UNWANTED = ['typescript', 'tsx', 'esbuild', '@esbuild', 'sharp', '@img'];

export async function runPackageSize({ log }: BenchmarkOptions): Promise<BenchmarkOutcome> {
  const tarball = await packTarball();
  const packed = (await stat(tarball)).size;
  const listing = (await runOk('tar', ['-tvzf', tarball], { cwd: path.dirname(tarball) })).stdout.trim().split('\n');
  const unpacked = listing.reduce((sum, line) => sum + Number(line.trim().split(/\s+/)[2] ?? 0), 0);
  log('  installing the tarball into a fresh app');
  const app = await installApp({ name: 'node-esm', tarball });
  const modules = path.join(app.dir, 'node_modules');

  const packages = await installedPackages(modules);
  const total = packages.reduce((sum, entry) => sum + entry.bytes, 0);
  // What ai-imagegen brings: its own folder and its dependencies' closure, without what the
  // AI SDK packages the app installed anyway need.
  const sdkClosure = await dependencyClosure(modules, ['ai', '@ai-sdk/provider', '@ai-sdk/togetherai']);
  const ownClosure = await dependencyClosure(modules, ['ai-imagegen']);
  const brought = packages.filter((entry) => ownClosure.has(entry.name) && !sdkClosure.has(entry.name));
  const broughtBytes = brought.reduce((sum, entry) => sum + entry.bytes, 0);
  const unwanted = UNWANTED.filter((name) => existsSync(path.join(modules, name)));

  const kB = (bytes: number) => `${(bytes / 1000).toFixed(1)} kB`;
  const MB = (bytes: number) => `${(bytes / 1e6).toFixed(1)} MB`;
  return {
    rows: [
      {
        benchmark: 'package size',
        variant: 'tarball (npm pack)',
        result: `${kB(packed)} packed, ${kB(unpacked)} unpacked, ${listing.length} files (dist, bin, README, LICENSE)`,
        target: 'only what runs',
        met: listing.every((line) => /\spackage\/(dist\/|bin\/|README\.md$|LICENSE$|package\.json$)/.test(line)),
      },
      {
        benchmark: 'package size',
        variant: 'library install (fresh Node 20 app on ai 6)',
        result:
          `${MB(total)} in ${packages.length} packages; ai-imagegen brings ${MB(broughtBytes)}: ` +
          `${brought.map((entry) => entry.name).sort().join(', ')}; the AI SDK (ai, provider, togetherai) ${MB(total - broughtBytes)}`,
        target: 'no TypeScript toolchain, no sharp',
        met: unwanted.length === 0,
      },
    ],
    raw: {
      tarball: { packedBytes: packed, unpackedBytes: unpacked, files: listing.length },
      install: { totalBytes: total, packages: packages.length, broughtBytes, brought: brought.map(({ name, version, bytes }) => ({ name, version, bytes })), unwanted },
      allPackages: packages.map(({ name, version, bytes }) => ({ name, version, bytes })),
    },
  };
}

type InstalledPackage = { name: string; version: string; bytes: number };

/** Every package folder under node_modules (nested ones included), with its size on disk. */
async function installedPackages(modules: string): Promise<InstalledPackage[]> {
  const found: InstalledPackage[] = [];
  const visit = async (folder: string) => {
    for (const entry of await readdir(folder, { withFileTypes: true }).catch(() => [])) {
      if (entry.name.startsWith('.') || !entry.isDirectory()) continue;
      const full = path.join(folder, entry.name);
      if (entry.name.startsWith('@')) {
        await visit(full);
        continue;
      }
      const manifest = JSON.parse(await readFile(path.join(full, 'package.json'), 'utf8').catch(() => '{}')) as { name?: string; version?: string };
      if (manifest.name === undefined) continue;
      const nested = path.join(full, 'node_modules');
      found.push({ name: manifest.name, version: manifest.version ?? '?', bytes: await folderBytes(full, nested) });
      if (existsSync(nested)) await visit(nested);
    }
  };
  await visit(modules);
  return found;
}

async function folderBytes(folder: string, skip: string): Promise<number> {
  let bytes = 0;
  for (const entry of await readdir(folder, { withFileTypes: true, recursive: true })) {
    const full = path.join(entry.parentPath, entry.name);
    if (full === skip || full.startsWith(`${skip}${path.sep}`) || !entry.isFile()) continue;
    bytes += (await lstat(full)).size;
  }
  return bytes;
}

/** Names of the given packages and everything they depend on (dependencies and non-optional peers). */
async function dependencyClosure(modules: string, roots: readonly string[]): Promise<Set<string>> {
  const seen = new Set<string>();
  const queue = [...roots];
  while (queue.length > 0) {
    const name = queue.shift()!;
    if (seen.has(name)) continue;
    const manifestPath = path.join(modules, name, 'package.json');
    if (!existsSync(manifestPath)) continue;
    seen.add(name);
    const manifest = JSON.parse(await readFile(manifestPath, 'utf8')) as {
      dependencies?: Record<string, string>;
      peerDependencies?: Record<string, string>;
      peerDependenciesMeta?: Record<string, { optional?: boolean }>;
    };
    queue.push(...Object.keys(manifest.dependencies ?? {}));
    queue.push(...Object.keys(manifest.peerDependencies ?? {}).filter((peer) => !manifest.peerDependenciesMeta?.[peer]?.optional));
  }
  return seen;
}
