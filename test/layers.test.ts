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

/** Every .ts file of src/ with the src/ files it imports (relative imports, type-only ones too). */
async function importGraph(): Promise<Map<string, string[]>> {
  const graph = new Map<string, string[]>();
  const walk = async (folder: string): Promise<void> => {
    for (const entry of await readdir(path.join(source, folder), { withFileTypes: true })) {
      const file = path.posix.join(folder, entry.name);
      if (entry.isDirectory()) await walk(file);
      else if (entry.name.endsWith('.ts')) {
        const text = await readFile(path.join(source, file), 'utf8');
        const imports = [...text.matchAll(/(?:from|import)\s*\(?\s*'(\.{1,2}\/[^']+)'/g)].map((match) =>
          path.posix.normalize(path.posix.join(path.posix.dirname(file), match[1]!)).replace(/\.js$/, '.ts'),
        );
        graph.set(file, imports);
      }
    }
  };
  await walk('.');
  return graph;
}

/** The import circles of a graph (Tarjan's strongly connected components of more than one file). */
function circles(graph: Map<string, string[]>): string[][] {
  let counter = 0;
  const stack: string[] = [];
  const onStack = new Set<string>();
  const order = new Map<string, number>();
  const low = new Map<string, number>();
  const found: string[][] = [];
  const visit = (file: string): void => {
    order.set(file, counter);
    low.set(file, counter++);
    stack.push(file);
    onStack.add(file);
    for (const next of graph.get(file) ?? []) {
      if (!graph.has(next)) continue;
      if (!order.has(next)) {
        visit(next);
        low.set(file, Math.min(low.get(file)!, low.get(next)!));
      } else if (onStack.has(next)) low.set(file, Math.min(low.get(file)!, order.get(next)!));
    }
    if (low.get(file) !== order.get(file)) return;
    const component: string[] = [];
    let member: string;
    do {
      member = stack.pop()!;
      onStack.delete(member);
      component.push(member);
    } while (member !== file);
    if (component.length > 1) found.push(component.sort());
  };
  for (const file of graph.keys()) if (!order.has(file)) visit(file);
  return found;
}

describe('import directions in src/', () => {
  it('has no import circles', async () => {
    const graph = await importGraph();
    expect(graph.size).toBeGreaterThan(50);
    expect(circles(graph)).toEqual([]);
  });

  it('finds a circle when there is one (the check can fail)', () => {
    expect(circles(new Map([['a.ts', ['b.ts']], ['b.ts', ['c.ts']], ['c.ts', ['a.ts']], ['d.ts', ['a.ts']]]))).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });

  it('runs one way: providers below the models and the pipeline; shared types, errors and primitives below the providers', async () => {
    const graph = await importGraph();
    const below: Record<string, RegExp> = {
      'providers/': /^(pipeline|models|batch|compare|files|cli|mcp|node|emulator)\/|^(generate|tool|middleware)\.ts$/,
      'shared/': /^(pipeline|models|providers|batch|compare|files|cli|mcp|node|emulator|placeholder)\/|^(generate|tool|middleware)\.ts$/,
      'util/': /^(pipeline|models|providers|shared|batch|compare|files|cli|mcp|node|emulator|placeholder)\/|^(generate|tool|middleware|image)\.ts$/,
      'errors/': /^(pipeline|models|providers|batch|compare|files|cli|mcp|node|emulator|placeholder)\/|^(generate|tool|middleware)\.ts$/,
      'models/': /^(pipeline|batch|compare|files|cli|mcp|node|emulator)\/|^(generate|tool|middleware)\.ts$/,
      'pipeline/': /^(batch|compare|files|cli|mcp|node|emulator)\/|^(generate|tool|middleware)\.ts$/,
    };
    const wrongWay = [...graph].flatMap(([file, imports]) =>
      Object.entries(below).flatMap(([folder, above]) => (file.startsWith(folder) ? imports.filter((target) => above.test(target)).map((target) => `${file} → ${target}`) : [])),
    );
    expect(wrongWay).toEqual([]);
  });
});
