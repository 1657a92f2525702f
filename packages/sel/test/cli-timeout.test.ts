import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const bin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../bin/sel.js');

function selEval(...args: string[]) {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [bin, 'eval', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { ...r, ms: performance.now() - t0 };
}

describe('sel eval wall-clock limit', () => {
  it('ends a long regex search (a quadratic find-all, even on the linear-time engine) at the limit with a clear error', () => {
    const r = selEval("String s = 'a'; for (int i = 0; i < 17; i = i + 1) { s = s + s; } return s.replaceAll('a*b|a', 'x');", '--timeout', '300');
    expect(r.status === 0).toBe(false);
    // The search checks the clock as it charges its work; the watchdog thread is the backstop.
    expect(r.stderr).toMatch(/limit error.*(time limit of 300 ms exceeded|wall-clock limit of 300 ms exceeded)/);
    expect(r.ms).toBeLessThan(5_000);
    expect(r.stderr).not.toMatch(/\n\s+at /);
  });

  it('ends a 100M-step loop at the limit through the interpreter, as a normal limit error', () => {
    const r = selEval('long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 25000; j = j + 1) { s = s + 1; } } return s;', '--timeout', '300', '--json');
    expect(r.status).toBe(1);
    expect(JSON.parse(r.stdout)).toMatchObject({ error: { kind: 'limit' } });
  });

  it('refuses a bad --timeout', () => {
    const r = selEval('1;', '--timeout', 'soon');
    expect(r.status).toBe(2);
    expect(r.stderr).toContain("--timeout must be milliseconds");
  });
});
