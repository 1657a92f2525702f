import { describe, expect, it } from 'vitest';
import { runFuzz } from './sel-fuzz.js';

/**
 * 20,000 generated and mutated SEL programs under tight limits (steps 100k, memory 1 MB, loops
 * 1000): only SelError results, each under the wall bound, no global touched, bounded heap.
 * `npm run test:fuzz-long` runs a million.
 */
describe('SEL fuzzing', () => {
  it('evaluates 20,000 hostile programs without an escape, a slow program or a changed global', () => {
    const summary = runFuzz({ count: 20_000, seed: 20261121 });
    expect(summary.failures, JSON.stringify({ ...summary, failures: summary.failures.slice(0, 10) }, null, 2)).toEqual([]);
    expect(summary.programs).toBe(20_000);
    expect(summary.escapes).toBe(0);
    expect(summary.globalsChanged).toEqual([]);
    // The generator reaches every outcome: a grammar gone stale would show up as all-syntax errors.
    for (const kind of ['ok', 'syntax', 'type', 'name', 'runtime', 'limit', 'user']) expect(summary.outcomes[kind] ?? 0, kind).toBeGreaterThan(50);
  }, 120_000);
});
