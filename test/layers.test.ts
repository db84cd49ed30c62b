import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

const source = path.join(import.meta.dirname, '..', 'src');

/** Every relative import of the files in a folder of src/, as "file → imported path from src/". */
async function importsOf(folder: string): Promise<string[]> {
  const found: string[] = [];
  for (const name of await readdir(path.join(source, folder))) {
    if (!name.endsWith('.ts')) continue;
    const text = await readFile(path.join(source, folder, name), 'utf8');
    for (const match of text.matchAll(/from '(\.[^']+)'/g)) {
      found.push(`${folder}/${name} → ${path.posix.join(folder, match[1]!)}`);
    }
  }
  return found;
}

describe('layers', () => {
  it('batch and compare use the file layer, never the Node entry', async () => {
    const imports = [...(await importsOf('batch')), ...(await importsOf('compare'))];
    expect(imports.some((line) => line.endsWith('files/files.js'))).toBe(true);
    expect(imports.filter((line) => / → node\//.test(line))).toEqual([]);
  });

  it('the file layer sits below batch, compare and the entries', async () => {
    const imports = await importsOf('files');
    expect(imports.length).toBeGreaterThan(0);
    expect(imports.filter((line) => / → (node|batch|compare|cli|mcp|emulator)\//.test(line))).toEqual([]);
  });

  it('src/node/ holds the Node entry and nothing else', async () => {
    expect((await readdir(path.join(source, 'node'))).sort()).toEqual(['index.ts']);
  });
});
