import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { SelArray, SelError, compile, evaluate, varsFromJson, type EvalResult } from '../src/index.js';

const TIGHT = { steps: 20_000, loopIterations: 500, arrayLength: 500, memoryBytes: 200_000, stack: 64 };

/** Runs anything without letting an exception escape: compile errors become failed results. */
function run(source: string, vars: Record<string, unknown> = {}): EvalResult {
  return evaluate(source, vars, { limits: TIGHT });
}

function expectRefusedOrNull(source: string, vars: Record<string, unknown> = {}): void {
  const r = run(source, vars);
  if (r.ok) expect([null, undefined, 'VOID'].includes(r.value as never) || r.value === null, source).toBe(true);
  else {
    expect(r.error).toBeInstanceOf(SelError);
    expect(r.error.line).toBeGreaterThan(0);
    expect(r.error.column).toBeGreaterThan(0);
  }
}

describe('sandbox: probes aimed at JavaScript', () => {
  const probes = [
    'constructor;', 'return constructor.constructor;', "'a'.constructor;", "'a'.constructor('return process')();",
    "'a'.__proto__;", "'a'.__defineGetter__('x', 1);", 'x = new Map(); x.constructor;', 'new Map().__proto__;',
    'globalThis;', 'globalThis.process.exit(1);', 'process.exit(1);', "require('fs');", "Function('return 1')();",
    "setTimeout('1', 0);", 'this;', 'eval("1");', 'new Function();', 'params.constructor;', 'params.__proto__;',
    "params['constructor'];", "params['__proto__'];", "params.get('__proto__');", "params.get('constructor');",
    'Math.constructor;', "Math['constructor'];", 'Util.constructor;', 'Util.__proto__.toString();',
    "String.valueOf.call(1);", "DateTimeZone.UTC.constructor;", "new int[]{1}.constructor;", "new int[]{1}['length'];",
    "x = new Map(); x['__proto__'];", "'abc'.valueOf();", "'abc'.toString.constructor;", 'Object.keys(params);',
    "new Object();", "new Date();", "new Promise();", "Reflect.ownKeys(params);", "Symbol.iterator;",
  ];
  for (const p of probes) {
    it(`refuses or yields NULL: ${p}`, () => expectRefusedOrNull(p));
  }

  it('treats __proto__ and constructor as ordinary map keys and param names', () => {
    const r = run("m = new Map(); m.put('__proto__', 'a'); m.put('constructor', 'b'); return m;");
    expect(r.ok && r.value instanceof Map && [...r.value.keys()]).toEqual(['__proto__', 'constructor']);
    const vars = varsFromJson(JSON.parse('{"__proto__": {"polluted": 1}, "constructor": 5}') as Record<string, unknown>);
    const p = run("return params.get('__proto__').get('polluted') + constructor;", vars);
    expect(p.ok && p.value).toBe(6n);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('never runs a getter or method of a caller object beyond reading its data', () => {
    let touched = 0;
    const tricky = { get secret() { touched++; return 'x'; } };
    const r = run('return v;', { v: tricky });
    expect(r.ok && r.value instanceof Map && r.value.get('secret')).toBe('x');
    expect(touched).toBe(1);
    const f = run('return v;', { v: () => 1 });
    expect(f.ok).toBe(false);
    const cls = run('return v;', { v: new Date() });
    expect(cls.ok).toBe(false);
  });

  it('does not change the caller data', () => {
    const vars = { m: new Map<string, unknown>([['k', 'v']]), a: new SelArray('LONG', [1n, 2n]) };
    expect(run("m.put('k', 'x'); a[0] = 9; params.get('m').put('k', 'y'); return 1;", vars).ok).toBe(true);
    expect(vars.m.get('k')).toBe('v');
    expect(vars.a.items[0]).toBe(1n);
  });

  it('turns deep nesting into a limit error, never a JavaScript stack overflow', () => {
    for (const src of ['('.repeat(5000) + '1' + ')'.repeat(5000) + ';', '-'.repeat(9000).split('').join(' ') + '1;',
      '!'.repeat(9000) + 'true;', 'if (true) '.repeat(900) + 'x = 1;', 'x = '.repeat(2000) + '1;', '{'.repeat(3000) + '}'.repeat(3000),
      'a ? '.repeat(2000) + '1' + ' : 2'.repeat(2000) + ';', 'new int[]{'.repeat(1000) + '}'.repeat(1000) + ';']) {
      const r = evaluate(src, {}, { limits: { sourceLength: 100_000 } });
      expect(r.ok, src.slice(0, 30)).toBe(false);
      if (!r.ok) expect(['limit', 'syntax', 'type']).toContain(r.error.kind);
    }
    const deepData: Record<string, unknown> = {};
    let cur = deepData;
    for (let i = 0; i < 10_000; i++) cur = (cur.n = {}) as Record<string, unknown>;
    const r = run('return d;', { d: deepData });
    expect(r.ok).toBe(false);
  });

  it('counts memory built inside library calls', () => {
    const small = { memoryBytes: 2_000 };
    for (const src of ["return String.join(',', Util.intsBetween(0, 400, 1));", 'return Util.intsBetween(0, 400, 1);',
      "s = 'x'; for (i = 0; i < 30; i += 1) s = s + s; return s;", "return 'a,'.repeat(10);", "s = 'abcdefghij'; for (i = 0; i < 100; i += 1) s += s.toUpperCase(); return s;"]) {
      const r = evaluate(src, {}, { limits: small });
      expect(r.ok, src).toBe(false);
    }
  });

  it('stays usable after every kind of error, with no state leaking between evaluations', () => {
    const p = compile('if (x == 1) throw "boom"; y = x * 2; return y;');
    expect(p.evaluate({ x: 1n }).ok).toBe(false);
    expect(p.evaluate({ x: 3n })).toMatchObject({ ok: true, value: 6n });
    expect(compile('return y;').evaluate({})).toMatchObject({ ok: true, value: null });
    expect(p.evaluate({ x: 'a' }).ok).toBe(false);
    expect(p.evaluate({ x: 4n })).toMatchObject({ ok: true, value: 8n });
  });

  it('stops runaway programs with the step limit and the wall clock', () => {
    const r = evaluate('while (true) { x = 1; }', {}, { limits: { loopIterations: 1e12, steps: 10_000 } });
    expect(!r.ok && r.error.kind).toBe('limit');
    const t0 = Date.now();
    const w = evaluate('for (i = 0; i < 1; i += 0) { j = 1; }', {}, { limits: { loopIterations: 1e15, steps: 1e15, timeoutMs: 50 } });
    expect(!w.ok && w.error.message).toMatch(/time limit/);
    expect(Date.now() - t0).toBeLessThan(2_000);
  });
});

const IDENT = fc.constantFrom('x', 'y', 'params', 'Math', 'Util', 'String', 'constructor', '__proto__', 'prototype', 'process', 'globalThis', 'm', 'a');
const LIT = fc.oneof(
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }).map((n) => `${n}L`.replace(/^-(\d+)L$/, '(-$1L)')),
  fc.double({ noNaN: true, noDefaultInfinity: true }).map((d) => `(${d.toExponential()})`),
  fc.string({ maxLength: 6 }).map((s) => `'${s.replace(/[\\'\n\r]/g, '')}'`),
  fc.constantFrom('true', 'false', 'null', 'new Map()', 'new int[]{1,2}', "new String[]{'a'}", 'DateTimeZone.UTC'),
);
const METHOD = fc.constantFrom('get', 'put', 'length', 'size', 'constructor', 'toString', 'valueOf', 'split', 'substring', 'join', 'min', 'pow', 'hashCode', 'getClass', '__proto__', 'call', 'apply', 'bind');

const expr: fc.Arbitrary<string> = fc.letrec<{ e: string }>((tie) => ({
  e: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    LIT,
    IDENT,
    fc.tuple(tie('e'), fc.constantFrom('+', '-', '*', '/', '%', '==', '!=', '<', '>=', '&&', '||'), tie('e')).map(([a, o, b]) => `(${a} ${o} ${b})`),
    fc.tuple(tie('e'), METHOD, fc.array(tie('e'), { maxLength: 3 })).map(([o, m, args]) => `${o}.${m}(${args.join(', ')})`),
    fc.tuple(tie('e'), METHOD).map(([o, m]) => `${o}.${m}`),
    fc.tuple(tie('e'), tie('e')).map(([o, i]) => `${o}[${i}]`),
    fc.tuple(fc.constantFrom('!', '-'), tie('e')).map(([o, a]) => `${o}(${a})`),
  ),
})).e;

const program = fc.array(
  fc.oneof(
    expr.map((e) => `${e};`),
    fc.tuple(fc.constantFrom('x', 'y', 'm'), expr).map(([n, e]) => `${n} = ${e};`),
    fc.tuple(expr, expr).map(([c, e]) => `if (${c}) { ${e}; } else { return ${e}; }`),
    expr.map((e) => `for (i = 0; i < 5; i += 1) { x = ${e}; }`),
    expr.map((e) => `throw ${e};`),
  ),
  { minLength: 1, maxLength: 4 },
).map((stmts) => stmts.join(' '));

function mutate(src: string, at: number, insert: string, remove: number): string {
  const i = at % (src.length + 1);
  return src.slice(0, i) + insert + src.slice(i + remove);
}

describe('sandbox: property-based fuzzing', () => {
  const vars = { x: 5n, y: 'str', m: new Map([['k', 1n]]), a: new SelArray('STRING', ['p', 'q']) };

  it('generated programs never escape, crash or throw past evaluate', () => {
    fc.assert(
      fc.property(program, (src) => {
        const r = run(src, vars);
        if (!r.ok) {
          expect(r.error).toBeInstanceOf(SelError);
          expect(r.error.line).toBeGreaterThan(0);
        }
        expect((globalThis as Record<string, unknown>).polluted).toBeUndefined();
      }),
      { numRuns: 300, seed: 20240315 },
    );
  });

  it('mutated programs (random insertions and deletions) are refused cleanly or run', () => {
    fc.assert(
      fc.property(program, fc.nat(), fc.string({ maxLength: 4 }), fc.nat({ max: 3 }), (src, at, ins, rm) => {
        const r = run(mutate(src, at, ins, rm), vars);
        if (!r.ok) expect(['syntax', 'type', 'name', 'limit', 'user', 'runtime']).toContain(r.error.kind);
      }),
      { numRuns: 300, seed: 7 },
    );
  });
});
