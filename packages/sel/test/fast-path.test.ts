import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SelError } from '../src/errors.js';
import { fastParse } from '../src/syntax/fast-parser.js';
import { tokenize } from '../src/syntax/lexer.js';
import { parse, parseMaestro, parseWithChevrotain } from '../src/syntax/parser.js';
import { scan } from '../src/syntax/scanner.js';
import type { ProgramAst } from '../src/syntax/ast.js';
import { loadCases } from './support/conformance-env.js';

/**
 * The scanner and the fast parser must give exactly what the Chevrotain lexer and parser give
 * for every program those accept, and give up on every program they refuse.
 */

const sources = [...new Set(loadCases().map((c) => c.source))];

const EDGE_CASES = [
  '', ' ', '\n', ';', 'x', 'x;', 'return;', 'import a.b.*; import c; x;', 'a\r\nb;\rc;\n\n  d;', '\t\fx = 1;',
  '/* a\r\n b\r c\n */ x = 1; // tail', '/**/x;/*/ */y;', 'x = 1 /* open', "'unterminated", '"a\\"b" + \'c\\\'d\';',
  "'a\\\nb';", '1. + .5 + 1e3 + 1E-3 + 2f + 3d + 4L + 5l + 1.5e+2F + 0x1F;', '1e; 1.e2; .e; 1..2;', 'x...y;',
  '>>>= <<= >>= >>> >> << ++ -- -> :: &= |= ^= == != <= >= && || += -= *= /= %= = < > ! + - * / % ? : & | ^ ~ @ # ( ) [ ] { } ; , .',
  'classy = 1; class = 2;', 'instanceofx; instanceof;', 'ifx = whilex + for1 + returned;', '$a_b9 = _1;', 'é = 1;', 'x = \'é\';',
  'x = \u00a0 1;', 'x = 1;\u2028y = 2;', 'int[] a = new int[]{1, 2,}; ', 'new int[3][0];', 'x = -9223372036854775808;',
  'x = 9223372036854775808;', 'x = 99999999999999999999;', 'x.y.z(1, 2)[3] = 4;', 'x.y = 1;', 'f(1) = 2;', 'a ? b : c = d;',
  'for (;;) break;', 'for (int i = 0, j; i < 1; i += 1) {}', 'for (x = 1; ; ) { continue; }', 'if (a) if (b) c; else d;',
  'while (x) { } else;', 'String s, t = "a", u;', 'String[] s = new String[]{};', 'Map m = new Map(); m.put("k", -(-1));',
  '- - - !x;', 'throw "x";', 'return 1 return 2;', 'x = (1;', 'x = 1);', '{ { { } } }', 'x = {};', 'a[1][2].b().c = d += e;',
  'x = 1 + 2 * 3 - 4 / 5 % 6 < 7 == 8 != 9 && true || false;',
  `${'n'.repeat(70)} = '${'s'.repeat(90)}' + ${'n'.repeat(70)}; ${'n'.repeat(64)} = 1; ${'n'.repeat(65)} = 2;`,
];

/** Token soup: fragments of every kind, so that tokens meet in every order. */
const FRAGMENTS = [
  ' ', '  ', '\t', '\f', '\n', '\r', '\r\n', '// c\n', '/* c */', '/* \r\n */', '/*', '*/', 'x', 'ab', 'Util', 'if', 'else', 'for',
  'while', 'return', 'new', 'int', 'true', 'null', 'import', 'class', 'do', '0', '12', '3L', '1.5', '.5', '1e3', '2f', '1e',
  "'s'", '"t"', "'\\n'", "'", '"', '\\', '.', ',', ';', '(', ')', '[', ']', '{', '}', '+', '-', '*', '/', '%', '=', '==', '!',
  '!=', '<', '<=', '<<', '>', '>>>=', '&&', '&', '||', '|', '?', ':', '::', '->', '++', '+=', '@', '#', '~', '^', 'é', '\u00a0',
];
const soup = fc.array(fc.constantFrom(...FRAGMENTS), { maxLength: 24 }).map((parts) => parts.join(''));

function chevrotainTokens(source: string): unknown[] | 'error' {
  try {
    return tokenize(source).map((t) => [t.tokenType.name, t.image, t.startOffset, t.startLine, t.startColumn]);
  } catch (e) {
    if (e instanceof SelError) return 'error';
    throw e;
  }
}

function scannedTokens(source: string): unknown[] | 'gave up' {
  const scanned = scan(source);
  if (scanned === null) return 'gave up';
  return scanned.toTokens(source).map((t) => [t.tokenType.name, t.image, t.startOffset, t.startLine, t.startColumn]);
}

type Row = [string, string, number, number, number];

/**
 * A `/*` without its `*\/` is lexed by Chevrotain as `/` then `*` (a syntax error further on);
 * the scanner gives up on it instead.
 */
function hasUnclosedComment(tokens: Row[]): boolean {
  return tokens.some((t, i) => t[0] === 'Slash' && tokens[i + 1]?.[1].startsWith('*') === true && tokens[i + 1]![2] === t[2] + 1);
}

function expectSameTokens(source: string): void {
  const reference = chevrotainTokens(source);
  const expected = reference === 'error' || hasUnclosedComment(reference as Row[]) ? 'gave up' : reference;
  expect(scannedTokens(source), JSON.stringify(source)).toEqual(expected);
}

type Outcome = { ast: unknown } | { error: [string, string, number, number] };

/** Names of every declaration and every assignment to a name in a tree, sorted. */
function assignedIn(node: unknown, out: string[] = []): string[] {
  if (Array.isArray(node)) {
    for (const x of node) assignedIn(x, out);
  } else if (node !== null && typeof node === 'object') {
    const n = node as { k?: string; decls?: { name: string }[]; target?: { k: string; name?: string } };
    if (n.k === 'decl') out.push(...n.decls!.map((d) => d.name));
    if (n.k === 'assign' && n.target!.k === 'name') out.push(n.target!.name!);
    for (const v of Object.values(node)) assignedIn(v, out);
  }
  return out.sort();
}

/** The tree without the names the fast parser records (the Chevrotain parser leaves them to the compiler). */
function treeOf(ast: ProgramAst): ProgramAst {
  if (ast.assigned !== undefined) expect([...ast.assigned].sort()).toEqual(assignedIn(ast.body));
  return { body: ast.body };
}

function outcome(run: () => ProgramAst): Outcome {
  try {
    return { ast: treeOf(run()) };
  } catch (e) {
    if (e instanceof SelError) return { error: [e.kind, e.message, e.line, e.column] };
    throw e;
  }
}

/** Same tree or same error as the Chevrotain parser, in both modes; the fast parser itself takes every valid program. */
function expectSameParse(source: string, maxNesting = 100): void {
  for (const maestro of [false, true]) {
    const reference = outcome(() => parseWithChevrotain(source, maestro, maxNesting));
    const actual = outcome(() => (maestro ? parseMaestro(source, maxNesting) : parse(source, maxNesting)));
    expect(actual, `${JSON.stringify(source)} maestro=${maestro}`).toEqual(reference);
  }
  const reference = outcome(() => parseWithChevrotain(source, false, maxNesting));
  if ('ast' in reference) {
    const scanned = scan(source);
    expect(scanned, JSON.stringify(source)).not.toBeNull();
    const fast = fastParse(scanned!, maxNesting);
    expect(fast, JSON.stringify(source)).not.toBeNull();
    expect(fast!.assigned, JSON.stringify(source)).toBeDefined();
    expect(treeOf(fast!), JSON.stringify(source)).toEqual(reference.ast);
  }
}

describe('scanner against the Chevrotain lexer', () => {
  it('gives the same tokens for every conformance program and edge case', () => {
    for (const source of [...sources, ...EDGE_CASES]) expectSameTokens(source);
  });

  it('tells apart names of every length that differ in one character (names are interned by their packed characters)', () => {
    const names: string[] = [];
    for (let n = 1; n <= 30; n++) {
      const base = 'abcdefghijklmnopqrstuvwxyzABCD'.slice(0, n);
      names.push(base);
      for (let k = 0; k < n; k++) names.push(base.slice(0, k) + 'Z' + base.slice(k + 1), base.slice(0, k) + '_' + base.slice(k + 1));
    }
    names.push('return', 'returns', 'retur', 'int', 'interface_', 'true', 'trueX', 'null', 'nullable', '$x', '_9', 'a0000000000000000000000');
    for (let round = 0; round < 2; round++) {
      for (const name of names) {
        expectSameTokens(`${name} + ${name}.x;`);
        const tokens = scannedTokens(`${name};`) as Row[];
        expect(tokens[0]![1], name).toBe(name);
      }
    }
  });

  it('gives the same tokens, or gives up where the lexer fails, on token soup', () => {
    fc.assert(fc.property(soup, (source) => expectSameTokens(source)), { numRuns: 2000, seed: 3 });
  });
});

describe('fast parser against the Chevrotain parser', () => {
  it('builds the same tree or leaves the same error for every conformance program and edge case', () => {
    for (const source of [...sources, ...EDGE_CASES]) expectSameParse(source);
  });

  it('agrees on token soup', () => {
    fc.assert(fc.property(soup, (source) => expectSameParse(source)), { numRuns: 1000, seed: 5 });
  });

  const operand = fc.constantFrom('x', 'a.b', 'f.g(1, y)', 'v[0]', '1', '2.5', "'s'", 'true', 'null', 'new Map()', 'new int[2]', "new String[]{'a', b}", '-x', '!(y)');
  const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
    e: fc.oneof(
      { depthSize: 'small' },
      operand,
      fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||'), tie('e')).map(([a, o, b]) => `${a} ${o} ${b}`),
      fc.tuple(tie('e'), tie('e'), tie('e')).map(([a, b, c]) => `${a} ? ${b} : ${c}`),
      fc.tuple(fc.constantFrom('x', 'v[1]', 'a.b'), fc.constantFrom('=', '+=', '-=', '*=', '/=', '%='), tie('e')).map(([t, o, v]) => `${t} ${o} ${v}`),
      tie('e').map((e) => `(${e})`),
      fc.tuple(tie('e'), fc.array(tie('e'), { maxLength: 2 })).map(([o, args]) => `(${o}).m(${args.join(', ')})`),
      fc.tuple(fc.constantFrom('-', '+', '!'), tie('e')).map(([o, e]) => `${o}${e}`),
    ),
  })).e;
  const statement: fc.Arbitrary<string> = fc.letrec<{ s: string }>((tie) => ({
    s: fc.oneof(
      { depthSize: 'small' },
      expr.map((e) => `${e};`),
      fc.tuple(fc.constantFrom('int', 'String', 'long[]', 'DateTime'), expr).map(([t, e]) => `${t} n = ${e}, m;`),
      fc.tuple(expr, tie('s'), fc.option(tie('s'))).map(([c, a, b]) => `if (${c}) ${a}${b === null ? '' : ` else ${b}`}`),
      fc.tuple(expr, tie('s')).map(([c, b]) => `while (${c}) ${b}`),
      fc.tuple(fc.option(expr), fc.option(expr), tie('s')).map(([t, u, b]) => `for (int i = 0; ${t ?? ''}; ${u ?? ''}) ${b}`),
      fc.array(tie('s'), { maxLength: 3 }).map((b) => `{ ${b.join(' ')} }`),
      fc.option(expr).map((e) => `return${e === null ? '' : ` ${e}`};`),
      expr.map((e) => `throw ${e};`),
      fc.constantFrom('break;', 'continue;', ';'),
    ),
  })).s;
  const program = fc.array(statement, { maxLength: 4 }).map((s) => s.join('\n'));

  it('agrees on generated programs, whole and mutated, under tight nesting limits too', () => {
    fc.assert(
      fc.property(program, fc.nat(), fc.constantFrom('', ';', ')', '(', 'x', '.', '=', '{', '}', ' else '), fc.nat({ max: 2 }), fc.integer({ min: 1, max: 12 }), (src, at, ins, rm, nesting) => {
        expectSameParse(src);
        expectSameParse(src, nesting);
        const i = at % (src.length + 1);
        expectSameParse(src.slice(0, i) + ins + src.slice(i + rm), nesting);
      }),
      { numRuns: 400, seed: 11 },
    );
  });
});
