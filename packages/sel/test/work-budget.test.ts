import { describe, expect, it } from 'vitest';
import { compile, evaluate } from '@baton/sel';

const EIGHT_MB = "String s = 'a'; while (s.length() < 8000000) { s = s + s; } ";

describe('the steps limit counts the work done inside library calls', () => {
  it('stops 25,000 scans of an 8 MB string at the steps limit, quickly', () => {
    const t = performance.now();
    const r = evaluate(`${EIGHT_MB}int n = 0; for (int i = 0; i < 25000; i = i + 1) { if (s.contains('b')) n = n + 1; } return n;`);
    const ms = performance.now() - t;
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error).toMatchObject({ kind: 'limit', message: expect.stringMatching(/^steps limit of 100000000 exceeded: counting the work done inside library calls/) });
    expect(ms).toBeLessThan(5000);
  });

  it('charges by size: a call over a long string costs more steps than the same call over a short one', () => {
    const limits = { steps: 20_000 };
    const run = (len: number, method: string) => compile(`String s = 'a'; while (s.length() < ${len}) { s = s + s; } for (int i = 0; i < 100; i = i + 1) { x = s.${method}; } return 1;`, { limits }).evaluate({});
    for (const method of ["contains('b')", "lastIndexOf('b')", 'toUpperCase()', 'trim()', "equals('b')", "replace('a', 'b')", "split(',')", "replaceAll('b', 'c')", 'substring(1)']) {
      expect(run(1000, method).ok, method).toBe(true);
      const big = run(100_000, method);
      expect(big.ok, method).toBe(false);
      if (!big.ok) expect(big.error.message, method).toMatch(/steps limit of 20000 exceeded/);
    }
  });

  it('charges compiling a regex by the size of its program', () => {
    // Built at run time (not compiled at check time): a large program (within the 2,500-part
    // limit on expanded repetitions) costs more than the same call with a small one.
    const source = "p = '(((=|.)+?|(\\\\d|\\\\s)*){200}|(.*[ab]){30}!$)*'; return 'x'.split(p + 'z').length;";
    const r = compile(source, { limits: { steps: 1_000 } }).evaluate({});
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.error.message).toMatch(/steps limit of 1000 exceeded/);
    const small = "p = '(=|.)+?'; return 'x'.split(p + 'z').length;";
    expect(compile(small, { limits: { steps: 1_000 } }).evaluate({})).toMatchObject({ ok: true, value: 1n });
    expect(compile(source).evaluate({})).toMatchObject({ ok: true, value: 1n });
  });

  it('leaves small programs their steps: a call over a short string costs what any call costs', () => {
    const fewestSteps = (call: string): number => {
      let lo = 1;
      let hi = 1_000_000;
      while (lo < hi) {
        const mid = Math.floor((lo + hi) / 2);
        const r = compile(`String s = 'abc'; int n = 0; for (int i = 0; i < 1000; i = i + 1) { if (${call}) n = n + 1; } return n;`, { limits: { steps: mid } }).evaluate({});
        if (r.ok) hi = mid;
        else lo = mid + 1;
      }
      return lo;
    };
    expect(fewestSteps("s.contains('c')")).toBe(fewestSteps('s.isEmpty() == false'));
  });
});
