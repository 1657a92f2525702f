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
});
