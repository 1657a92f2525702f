#!/usr/bin/env node
// Structure check run by `npm test` (and `npm run check:structure`): fails on any import circle
// inside packages/*/src (relative imports, type-only imports included) and on any source file over
// 400 lines whose top has no comment saying why it stays whole. Plain Node, no dependencies.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, normalize, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

export const LONG_FILE_LINES = 400;
const IMPORT = /(?:import|export)\s[^;]*?from\s+['"](\.[^'"]+)['"]/gs;
const DYNAMIC_IMPORT = /import\(\s*['"](\.[^'"]+)['"]\s*\)/g;

function sourceFiles(dir, out) {
  for (const name of readdirSync(dir)) {
    const path = join(dir, name);
    if (statSync(path).isDirectory()) sourceFiles(path, out);
    else if (name.endsWith('.ts') && !name.endsWith('.d.ts')) out.push(path);
  }
  return out;
}

function resolveImport(from, spec, known) {
  const base = normalize(join(dirname(from), spec));
  for (const candidate of [base, base.replace(/\.js$/, '.ts'), `${base}.ts`, join(base, 'index.ts')]) {
    if (known.has(candidate)) return candidate;
  }
  return undefined;
}

/** Strongly connected components with more than one file (Tarjan, iterative-safe depth for src trees). */
function circles(graph) {
  const index = new Map();
  const low = new Map();
  const stack = [];
  const onStack = new Set();
  const found = [];
  let counter = 0;
  const visit = (v) => {
    index.set(v, counter);
    low.set(v, counter);
    counter += 1;
    stack.push(v);
    onStack.add(v);
    for (const w of graph.get(v)) {
      if (!index.has(w)) {
        visit(w);
        low.set(v, Math.min(low.get(v), low.get(w)));
      } else if (onStack.has(w)) {
        low.set(v, Math.min(low.get(v), index.get(w)));
      }
    }
    if (low.get(v) === index.get(v)) {
      const component = [];
      let w;
      do {
        w = stack.pop();
        onStack.delete(w);
        component.push(w);
      } while (w !== v);
      if (component.length > 1) found.push(component.sort());
    }
  };
  for (const v of graph.keys()) if (!index.has(v)) visit(v);
  return found;
}

/**
 * Checks every package under `root/packages`. Returns `{ files, circles, longFiles }`, paths relative
 * to `root`. A circle also counts `import('./x.js')` (a lazy import is still an arrow).
 */
export function checkStructure(root) {
  const files = [];
  const packages = join(root, 'packages');
  for (const pkg of readdirSync(packages).sort()) {
    const src = join(packages, pkg, 'src');
    if (existsSync(src)) sourceFiles(src, files);
  }
  const known = new Set(files);
  const graph = new Map();
  const longFiles = [];
  for (const file of files) {
    const text = readFileSync(file, 'utf8');
    const targets = new Set();
    for (const pattern of [IMPORT, DYNAMIC_IMPORT]) {
      for (const match of text.matchAll(pattern)) {
        const target = resolveImport(file, match[1], known);
        if (target && target !== file) targets.add(target);
      }
    }
    graph.set(file, targets);
    const lines = text.split('\n').length - 1;
    const top = text.trimStart();
    if (lines > LONG_FILE_LINES && !top.startsWith('//') && !top.startsWith('/*')) longFiles.push(relative(root, file));
  }
  return {
    files: files.length,
    circles: circles(graph).map((c) => c.map((f) => relative(root, f))),
    longFiles,
  };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === normalize(process.argv[1])) {
  const root = join(dirname(fileURLToPath(import.meta.url)), '..');
  const result = checkStructure(root);
  for (const circle of result.circles) console.log(`import circle: ${circle.join(' <-> ')}`);
  for (const file of result.longFiles) {
    console.log(`over ${LONG_FILE_LINES} lines with no comment at its top saying why it stays whole: ${file}`);
  }
  if (result.circles.length || result.longFiles.length) process.exit(1);
  console.log(`structure: no import circle and no unexplained long file in ${result.files} source files`);
}
