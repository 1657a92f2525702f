import { parse, type Expr, type ProgramAst, type Stmt } from '@baton/sel';

/**
 * Which programs may run on the caller's thread: those whose running time is bounded by their
 * (small) size — no loops, no regular expressions (the regex engine backtracks), and few nodes,
 * so even library calls over the largest strings a program can build stay in the milliseconds.
 * Everything else goes to the worker pool. The answer is cached per source.
 */
const MAX_NODES = 64;
const MAX_CALLS = 8;
/** Library methods that take a pattern (their cost has no useful bound) or build large results. */
const EXPENSIVE_METHODS = new Set(['matches', 'replaceAll', 'replaceFirst', 'split', 'compile', 'matcher', 'repeat', 'format', 'join', 'sort']);

const cache = new Map<string, boolean>();
const CACHE_SIZE = 2000;

export function mayRunInline(source: string): boolean {
  let hit = cache.get(source);
  if (hit === undefined) {
    hit = classify(source);
    if (cache.size >= CACHE_SIZE) cache.clear();
    cache.set(source, hit);
  }
  return hit;
}

function classify(source: string): boolean {
  let ast: ProgramAst;
  try {
    ast = parse(source);
  } catch {
    try {
      // Maestro mode adds a missing final `;`.
      ast = parse(`${source};`);
    } catch {
      return false;
    }
  }
  const count = { nodes: 0, calls: 0 };
  try {
    for (const s of ast.body) stmt(s, count);
  } catch {
    return false;
  }
  return count.nodes <= MAX_NODES && count.calls <= MAX_CALLS;
}

class NotInline extends Error {}

function stmt(s: Stmt, c: { nodes: number; calls: number }): void {
  if (++c.nodes > MAX_NODES) throw new NotInline();
  switch (s.k) {
    case 'while':
    case 'for':
      throw new NotInline();
    case 'expr':
      return expr(s.expr, c);
    case 'decl':
      for (const d of s.decls) if (d.init) expr(d.init, c);
      return;
    case 'block':
      for (const b of s.body) stmt(b, c);
      return;
    case 'if':
      expr(s.test, c);
      stmt(s.then, c);
      if (s.otherwise) stmt(s.otherwise, c);
      return;
    case 'return':
      if (s.value) expr(s.value, c);
      return;
    case 'throw':
      return expr(s.value, c);
    default:
      return;
  }
}

function expr(e: Expr, c: { nodes: number; calls: number }): void {
  if (++c.nodes > MAX_NODES) throw new NotInline();
  switch (e.k) {
    case 'unary':
      return expr(e.arg, c);
    case 'binary':
      expr(e.left, c);
      return expr(e.right, c);
    case 'cond':
      expr(e.test, c);
      expr(e.then, c);
      return expr(e.otherwise, c);
    case 'assign':
      expr(e.target, c);
      return expr(e.value, c);
    case 'field':
      return expr(e.object, c);
    case 'index':
      expr(e.object, c);
      return expr(e.index, c);
    case 'call':
      if (EXPENSIVE_METHODS.has(e.name) || ++c.calls > MAX_CALLS) throw new NotInline();
      expr(e.object, c);
      for (const a of e.args) expr(a, c);
      return;
    case 'new':
      if (++c.calls > MAX_CALLS) throw new NotInline();
      for (const a of e.args) expr(a, c);
      return;
    case 'newArray':
      if (e.size) expr(e.size, c);
      for (const a of e.init ?? []) expr(a, c);
      return;
    default:
      return;
  }
}
