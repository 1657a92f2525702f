import { describe, expect, it } from 'vitest';
import { SelError, compile, evaluate, fromJson, toJson, parseJsonPreservingLongs, selValuesFromJsonText, type EvalResult } from '../src/index.js';

const ok = (r: EvalResult): unknown => {
  if (!r.ok) throw r.error;
  return r.value;
};

describe('SEL language core', () => {
  it('does exact 64-bit LONG arithmetic with Java wrap-around, truncation and sign of %', () => {
    expect(ok(evaluate('return 9223372036854775807L + 1;'))).toBe(-9223372036854775808n);
    expect(ok(evaluate('return -9223372036854775808 / -1;'))).toBe(-9223372036854775808n);
    expect(ok(evaluate('return 3037000500L * 3037000500L;'))).toBe(BigInt.asIntN(64, 3037000500n * 3037000500n));
    expect(ok(evaluate('return -7 / 2;'))).toBe(-3n);
    expect(ok(evaluate('return -7 % 3;'))).toBe(-1n);
    expect(ok(evaluate('return 7 % -3;'))).toBe(1n);
    expect(ok(evaluate('return 1.0 / 0;'))).toBe(Infinity);
    const r = evaluate('x = 5;\nreturn x / (x - 5);');
    expect(!r.ok && r.error.toJSON()).toEqual({ kind: 'runtime', message: 'division by zero', line: 2, column: 10 });
  });

  it('concatenates with Java number formatting', () => {
    expect(ok(evaluate("return 'v' + 100.0 + ',' + 1e10 + ',' + 0.0001 + ',' + 7L + ',' + null;"))).toBe('v100.0,1.0E10,1.0E-4,7,null');
  });

  it('gives every error a kind, message, line and column', () => {
    const cases: [string, string, number, number][] = [
      ['x = 1;\nint y = "a";', 'type', 2, 5],
      ['x = 1;\n  do { } while (true);', 'syntax', 2, 3],
      ['x++;', 'syntax', 1, 2],
      ['new Runtime();', 'name', 1, 5],
      ['List x;', 'name', 1, 1],
      ['Math.sqrt(2.0);', 'name', 1, 6],
      ["throw 'stop ' + 1;", 'user', 1, 1],
      ['while (true) { }', 'limit', 1, 1],
      ['x = null; x.foo();', 'runtime', 1, 13],
      ['break;', 'syntax', 1, 1],
    ];
    for (const [src, kind, line, column] of cases) {
      const r = evaluate(src);
      expect(r.ok, src).toBe(false);
      if (!r.ok) expect([r.error.kind, r.error.line, r.error.column], src).toEqual([kind, line, column]);
    }
  });

  it('compiles once, caches by source and names the inputs a program reads', () => {
    const p = compile("int n = 1; return a + n + params.get('b') + Util.intsBetween(0, 1, 1).length;");
    expect(compile("int n = 1; return a + n + params.get('b') + Util.intsBetween(0, 1, 1).length;")).toBe(p);
    expect([...p.inputNames].sort()).toEqual(['a', 'b']);
    expect(p.readsParams).toBe(true);
    expect(p.evaluate({ a: 1n, b: 2n })).toMatchObject({ ok: true, type: 'LONG', value: 5n });
    expect(compile('return 1;', { noCache: true })).not.toBe(compile('return 1;', { noCache: true }));
  });

  it('keeps many variables and inputs apart', () => {
    const names = Array.from({ length: 40 }, (_, i) => `v${i}`);
    const src = `${names.map((n, i) => `long ${n} = ${i};`).join(' ')} v3 += in19; return ${names.join(' + ')} + in0 + in25;`;
    const vars = Object.fromEntries(Array.from({ length: 30 }, (_, i) => [`in${i}`, BigInt(i * 100)]));
    const r = compile(src, { noCache: true }).evaluate(vars);
    expect(r.ok && r.value).toBe(780n + 1900n + 0n + 2500n);
    expect([...compile(src).inputNames]).toEqual(['in19', 'in0', 'in25']);
  });

  it('enforces the limits it is given, naming the limit', () => {
    const limited = (src: string, limits: object): string => {
      const r = evaluate(src, {}, { limits });
      return r.ok ? 'ok' : `${r.error.kind}: ${r.error.message}`;
    };
    expect(limited('for (i = 0; i < 10; i += 1) { }', { loopIterations: 5 })).toMatch(/^limit: loop iterations limit of 5/);
    expect(limited('return new int[100];', { arrayLength: 10 })).toMatch(/^limit: array length limit of 10/);
    expect(limited("s = 'ab'; for (i = 0; i < 20; i += 1) s += s; return s;", { memoryBytes: 10_000 })).toMatch(/^limit: memory limit/);
    expect(limited('x = 0; while (x < 1000) x += 1;', { steps: 100, loopIterations: 1e9 })).toMatch(/^limit: steps limit of 100/);
    expect(limited('return new int[]{1,2,3,4,5,6,7,8,9};', { stack: 8 })).toMatch(/^limit: stack limit of 8/);
    expect(limited('x = 0; while (x < 1000) x += 1;', { loopIterations: 1e9 })).toBe('ok');
  });

  it('adds a missing final semicolon and checks the result in maestro mode', () => {
    expect(compile('x + 1 // trailing comment', { maestro: true }).evaluate({ x: 1n })).toMatchObject({ value: 2n });
    expect(compile("m = new Map(); m.put('a', null); return m;", { maestro: true }).evaluate().ok).toBe(false);
    expect(compile('return DateTimeZone.UTC;', { maestro: true }).evaluate().ok).toBe(false);
  });

  it('passes per-evaluation context to host extensions', () => {
    const p = compile("return params.getFromStep('job1', 'out') + Util.shout('x');");
    const r = p.evaluate({}, {
      context: { step: 'job1' },
      extensions: {
        paramMethods: { getFromStep: (args, call) => `${(call.context as { step: string }).step}:${String(args[1])}` },
        utilFunctions: { shout: (args) => `${String(args[0]).toUpperCase()}!` },
      },
    });
    expect(ok(r)).toBe('job1:outX!');
    expect(p.evaluate({}).ok).toBe(false);
  });

  it('converts JSON-ish data to SEL values and back', () => {
    const v = fromJson({ n: 1, d: 1.5, s: 'x', a: [1, 2], f: [1.5, 2], m: { k: true } });
    expect(toJson(v)).toEqual({ n: 1, d: 1.5, s: 'x', a: [1, 2], f: [1.5, 2], m: { k: true } });
    expect(ok(compile('return n + a[1] + f[0];').evaluate(v as Map<string, unknown>))).toBe(4.5);
    expect(parseJsonPreservingLongs('{"big": 9223372036854775807, "x": 1.0}')).toEqual(Object.assign(Object.create(null), { big: 9223372036854775807n, x: 1 }));
    expect(toJson(selValuesFromJsonText('[9223372036854775807]'))).toEqual(['9223372036854775807']);
    expect(() => fromJson({ bad: () => 1 })).toThrow(SelError);
  });
});
