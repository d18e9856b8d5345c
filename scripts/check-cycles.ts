/**
 * Fails on an import cycle between the TypeScript modules of a directory (default `src`).
 *
 *   npx tsx scripts/check-cycles.ts [dir]   # prints each cycle, exit 1 if there is any
 *
 * Every relative import counts, `import type` and `export … from` included: a type-only cycle
 * costs nothing at run time but ties two modules together just the same (and it is how the
 * runtime ones start). Specifiers are NodeNext style (`./x.js` is `./x.ts` or `./x/index.ts`);
 * packages and `node:` imports are not followed.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

/** Relative paths (`/`-separated, from `root`) of the .ts files under it, sorted. */
function tsFiles(root: string, dir = root): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(dir).sort()) {
    const full = path.join(dir, entry);
    if (statSync(full).isDirectory()) out.push(...tsFiles(root, full));
    else if (entry.endsWith('.ts') && !entry.endsWith('.d.ts')) {
      out.push(path.relative(root, full).split(path.sep).join('/'));
    }
  }
  return out;
}

function resolveSpecifier(root: string, from: string, spec: string): string | undefined {
  if (!spec.startsWith('.')) return undefined;
  const base = path.join(path.dirname(path.join(root, from)), spec.replace(/\.js$/, ''));
  for (const candidate of [`${base}.ts`, path.join(base, 'index.ts')]) {
    if (existsSync(candidate)) return path.relative(root, candidate).split(path.sep).join('/');
  }
  return undefined;
}

/** Each module's relative imports that resolve to a module under `root`. */
export function importGraph(root: string): Map<string, string[]> {
  const graph = new Map<string, string[]>();
  for (const file of tsFiles(root)) {
    const info = ts.preProcessFile(readFileSync(path.join(root, file), 'utf8'), true, true);
    const deps = info.importedFiles
      .map((f) => resolveSpecifier(root, file, f.fileName))
      .filter((d): d is string => d !== undefined);
    graph.set(file, [...new Set(deps)]);
  }
  return graph;
}

/**
 * The strongly connected components with more than one module (or a module importing itself),
 * each as a cycle path that starts and ends at its first module in sorted order.
 */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  // Tarjan's algorithm, then one concrete cycle through each component for the message.
  let index = 0;
  const idx = new Map<string, number>();
  const low = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (v: string): void => {
    idx.set(v, index);
    low.set(v, index++);
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v) ?? []) {
      if (!idx.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v)!, low.get(w)!));
      } else if (onStack.has(w)) low.set(v, Math.min(low.get(v)!, idx.get(w)!));
    }
    if (low.get(v) === idx.get(v)) {
      const comp: string[] = [];
      let w: string;
      do {
        w = stack.pop()!;
        onStack.delete(w);
        comp.push(w);
      } while (w !== v);
      if (comp.length > 1 || (graph.get(v) ?? []).includes(v)) components.push(comp.sort());
    }
  };
  for (const v of [...graph.keys()].sort()) if (!idx.has(v)) visit(v);
  return components
    .sort((a, b) => a[0]!.localeCompare(b[0]!))
    .map((comp) => cycleThrough(graph, new Set(comp), comp[0]!));
}

/** A shortest path from `start` back to itself inside one component (breadth-first). */
function cycleThrough(
  graph: ReadonlyMap<string, readonly string[]>,
  comp: ReadonlySet<string>,
  start: string,
): string[] {
  const prev = new Map<string, string>();
  const queue = [start];
  while (queue.length) {
    const v = queue.shift()!;
    for (const w of graph.get(v) ?? []) {
      if (!comp.has(w)) continue;
      if (w === start) {
        const path = [start];
        for (let u = v; u !== start; u = prev.get(u)!) path.splice(1, 0, u);
        return [...path, start];
      }
      if (!prev.has(w)) {
        prev.set(w, v);
        queue.push(w);
      }
    }
  }
  return [start, start];
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = path.resolve(process.argv[2] ?? 'src');
  const cycles = findCycles(importGraph(root));
  for (const c of cycles) console.error(`import cycle: ${c.join(' > ')}`);
  if (cycles.length) process.exit(1);
  console.log(`no import cycles in ${path.relative(process.cwd(), root) || '.'}`);
}
