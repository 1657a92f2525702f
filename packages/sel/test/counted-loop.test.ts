import { describe, expect, it } from 'vitest';
import { evaluate, type EvalResult } from '../src/index.js';

const ok = (r: EvalResult): unknown => {
  if (!r.ok) throw r.error;
  return r.value;
};
const err = (r: EvalResult): unknown => {
  if (r.ok) throw new Error(`expected an error, got ${String(r.value)}`);
  return r.error.toJSON();
};

/** `for (...; i < N; i += K)` runs on the counter slot directly; these pin its semantics to the general loop's. */
describe('SEL counted for loops', () => {
  it('counts up and down with every comparison', () => {
    expect(ok(evaluate('int s = 0; for (int i = 0; i < 100; i += 1) { s += i; } return s;'))).toBe(4950n);
    expect(ok(evaluate('int s = 0; for (int i = 0; i <= 100; i += 7) { s += i; } return s;'))).toBe(735n);
    expect(ok(evaluate('int s = 0; for (int i = 10; i > 0; i -= 3) { s = s * 10 + i; } return s;'))).toBe(10741n);
    expect(ok(evaluate('int s = 0; for (int i = 10; i >= -2; i += -4) { s += i; } return s;'))).toBe(16n);
    expect(ok(evaluate('n = 0; for (i = 0; i < 5; i += 1) n += 1; return n + i;'))).toBe(10n);
  });

  it('sees the body change the counter, break, continue and return', () => {
    expect(ok(evaluate('int s = 0; for (int i = 0; i < 10; i += 1) { i += 2; s += 1; } return s;'))).toBe(4n);
    expect(ok(evaluate('int s = 0; for (int i = 0; i < 10; i += 1) { if (i == 4) break; s += i; } return s;'))).toBe(6n);
    expect(ok(evaluate('int s = 0; for (int i = 0; i < 10; i += 1) { if (i % 2 == 0) continue; s += i; } return s;'))).toBe(25n);
    expect(ok(evaluate('for (int i = 0; i < 10; i += 1) { if (i == 3) return i * 100; } return -1;'))).toBe(300n);
  });

  it('keeps DOUBLE counters, wrap-around and type errors as in the general loop', () => {
    expect(ok(evaluate('double s = 0; for (double d = 0.5; d < 3; d += 1) { s += d; } return s;'))).toBe(4.5);
    expect(ok(evaluate('long last = 0; for (long i = 9223372036854775806L; i > 0; i += 1) { last = i; } return last;'))).toBe(9223372036854775807n);
    expect(ok(evaluate("x = ''; for (i = 0; i < 3; i += 1) { x += i; i = 'abc'.length(); } return x;"))).toBe('0');
    expect(err(evaluate("for (i = 'a'; i < 3; i += 1) { }"))).toMatchObject({ kind: 'type', line: 1 });
    expect(err(evaluate('for (int i = 0; i < 3; i += 1) { i = null; }'))).toMatchObject({ kind: 'type', line: 1 });
  });

  it('still counts steps and loop iterations', () => {
    const r = evaluate('int s = 0; for (int i = 0; i < 1000000000; i += 1) { s += i; } return s;', {}, { limits: { loopIterations: 1000 } });
    expect(err(r)).toMatchObject({ kind: 'limit', line: 1, column: 12 });
    const steps = evaluate('for (int i = 0; i < 1000; i += 1) { }', {}, { limits: { steps: 500 } });
    expect(err(steps)).toMatchObject({ kind: 'limit' });
  });
});

describe('SEL compound assignment from a variable', () => {
  it('reads the variable, a class name or NULL like any other expression', () => {
    expect(ok(evaluate('long a = 5; long b = 7; a += b; return a;'))).toBe(12n);
    expect(ok(evaluate("s = 'x'; t = 'y'; s += t; return s;"))).toBe('xy');
    expect(ok(evaluate("s = 'v='; s += nothing; return s;"))).toBe('v=null');
    expect(ok(evaluate("s = 'c='; s += Math; return s;"))).toBe('c=Math');
    expect(err(evaluate('long a = 1; a -= b;'))).toMatchObject({ kind: 'type', line: 1 });
  });
});
