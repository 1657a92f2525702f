import { describe, expect, it } from 'vitest';
import { compile, type Program } from '../src/index.js';

/**
 * A program reuses one evaluation state from one evaluation to the next (so repeated evaluations
 * allocate none): nothing of one evaluation may be seen by the next, and an evaluation started
 * while another of the same program runs must get its own.
 */
describe('evaluation state reuse', () => {
  it('starts every evaluation with no variable, type, counter or params copy of the one before', () => {
    const p = compile("if (x == null) { return 'unset'; } String seen = x; y = 1; return seen + y + params.get('k');", { noCache: true });
    expect(p.evaluate({ x: 'a', k: 'v' })).toMatchObject({ ok: true, value: 'a1v' });
    expect(p.evaluate({})).toMatchObject({ ok: true, value: 'unset' });
    expect(p.evaluate({ x: 'b', k: 'w' })).toMatchObject({ ok: true, value: 'b1w' });
  });

  it('starts the step count from zero each time, also after an evaluation that failed at the limit', () => {
    const p = compile('long s = 0; for (int i = 0; i < n; i += 1) { s += i; } return s;', { noCache: true });
    const limits = { steps: 500 };
    expect(p.evaluate({ n: 1000n }, { limits })).toMatchObject({ ok: false, error: { kind: 'limit' } });
    expect(p.evaluate({ n: 100n }, { limits })).toMatchObject({ ok: true, value: 4950n });
    expect(p.evaluate({ n: 100n }, { limits })).toMatchObject({ ok: true, value: 4950n });
  });

  it('gives an evaluation started inside another of the same program its own state', () => {
    const self: { p?: Program } = {};
    const extensions = {
      utilFunctions: {
        inner: () => {
          const r = self.p!.evaluate({ depth: 1n, x: 'inner' }, { extensions });
          return r.ok ? r.value : `failed: ${r.error.message}`;
        },
      },
    };
    const p = (self.p = compile("String mine = x; if (depth == 0) { String got = Util.inner(); return mine + '/' + got + '/' + x; } return mine;", { noCache: true }));
    expect(p.evaluate({ depth: 0n, x: 'outer' }, { extensions })).toMatchObject({ ok: true, value: 'outer/inner/outer' });
    expect(p.evaluate({ depth: 0n, x: 'again' }, { extensions })).toMatchObject({ ok: true, value: 'again/inner/again' });
  });

  it('names the wall-clock limit in milliseconds', () => {
    const p = compile('long s = 0; while (true) { s += 1; }', { noCache: true });
    const r = p.evaluate({}, { limits: { timeoutMs: 20, loopIterations: 1e12, steps: 1e12 } });
    expect(r).toMatchObject({ ok: false, error: { kind: 'limit', message: 'time limit of 20 ms exceeded' } });
  });

  it('evaluates a program that stores into no variable the same on its lean path (no options) as with options', () => {
    const p = compile("x > 10 && name == 'etl'", { maestro: true, noCache: true });
    const limits = { steps: 10 };
    for (let k = 0; k < 3; k++) {
      expect(p.evaluate({ x: 15n, name: 'etl' })).toEqual({ ok: true, type: 'BOOLEAN', value: true });
      expect(p.evaluate({ x: 15n, name: 'etl' }, { limits })).toEqual({ ok: true, type: 'BOOLEAN', value: true });
      expect(p.evaluate(new Map<string, unknown>([['x', 5n], ['name', 'etl']]))).toEqual({ ok: true, type: 'BOOLEAN', value: false });
      // Missing, converted and out-of-range inputs: the lean path answers what the full one does,
      // and an input of one evaluation is not seen by the next.
      for (const vars of [{ name: 'etl' }, { x: 15, name: 'etl' }, { x: 2n ** 70n, name: 'etl' }, { x: 'no', name: 'etl' }, {}, { x: 11n, name: ['a'] }]) {
        expect(p.evaluate(vars)).toEqual(p.evaluate(vars, { limits: {} }));
      }
    }
    const steps = compile('return a + b + c;', { noCache: true });
    expect(steps.evaluate({ a: 1n, b: 2n, c: 3n })).toMatchObject({ ok: true, value: 6n });
    expect(steps.evaluate({ a: 1n, b: 2n, c: 3n }, { limits: { steps: 0 } })).toMatchObject({ ok: false, error: { kind: 'limit' } });
    expect(steps.evaluate({ a: 1n, b: 2n, c: 3n })).toMatchObject({ ok: true, value: 6n });
    const host = compile('return m;', { maestro: true, noCache: true });
    expect(host.evaluate({ m: { k: 'v' } })).toMatchObject({ ok: true, type: 'MAP' });
    expect(host.evaluate({ m: new Map([['k', null]]) })).toMatchObject({ ok: false });
  });

  it('keeps LONG arithmetic and concatenation of its fast paths as Java has them', () => {
    expect(compile('return a * b;', { noCache: true }).evaluate({ a: 2n ** 62n, b: 4n })).toMatchObject({ ok: true, value: 0n });
    expect(compile('return a / b;', { noCache: true }).evaluate({ a: -(2n ** 63n), b: -1n })).toMatchObject({ ok: true, value: -(2n ** 63n) });
    expect(compile('return a / b;', { noCache: true }).evaluate({ a: -7n, b: 2n })).toMatchObject({ ok: true, value: -3n });
    expect(compile('return a / b;', { noCache: true }).evaluate({ a: 1n, b: 0n })).toMatchObject({ ok: false, error: { kind: 'runtime', message: 'division by zero' } });
    const cat = compile("return 'p' + d + '/' + h;", { noCache: true });
    expect(cat.evaluate({ d: 20240315n, h: '07' })).toMatchObject({ ok: true, value: 'p20240315/07' });
    expect(cat.evaluate({ d: 1n, h: 'x'.repeat(50) }, { limits: { stringLength: 40 } })).toMatchObject({ ok: false, error: { kind: 'limit' } });
  });
});
