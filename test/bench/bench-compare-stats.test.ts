import { describe, expect, it } from 'vitest';
import { median, notSlowerBy5pct, pairedRatio, ratioOfMedians, within5pct } from '../../scripts/bench-compare/stats.js';

/** Deterministic noise: ratios spread ±spread around `centre`. */
const around = (centre: number, spread: number, n: number, phase = 0) => Array.from({ length: n }, (_, i) => centre * (1 + spread * Math.sin(i * 2.399 + phase)));

describe('bench-compare statistics', () => {
  it('medians of odd and even lengths', () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([])).toBeNaN();
  });

  it('a tight paired ratio of 1.01 is within 5%, its interval around it', () => {
    const r = pairedRatio([around(1.01, 0.01, 15), around(1.01, 0.01, 15, 1), around(1.01, 0.01, 15, 2)]);
    expect(r.n).toBe(45);
    expect(r.ratio).toBeCloseTo(1.01, 2);
    expect(r.ci[0]).toBeLessThanOrEqual(r.ratio);
    expect(r.ci[1]).toBeGreaterThanOrEqual(r.ratio);
    expect(within5pct(r.ci)).toBe(true);
  });

  it('a 10% slow-down is not within 5%, nor is a run too noisy to tell', () => {
    const slow = pairedRatio([around(1.1, 0.01, 15)]);
    expect(within5pct(slow.ci)).toBe(false);
    expect(notSlowerBy5pct(slow.ci)).toBe(false);
    const noisy = pairedRatio([around(1, 0.4, 15)]);
    expect(noisy.ci[1] - noisy.ci[0]).toBeGreaterThan(0.1);
    expect(within5pct(noisy.ci)).toBe(false);
  });

  it('processes that disagree widen the interval beyond what their rounds alone show', () => {
    const clusters = [around(0.9, 0.005, 15), around(1.1, 0.005, 15, 1)];
    const byCluster = pairedRatio(clusters);
    const pooled = pairedRatio([clusters.flat()]);
    expect(byCluster.ci[1] - byCluster.ci[0]).toBeGreaterThan(pooled.ci[1] - pooled.ci[0]);
  });

  it('ratio of medians of independent runs, reproducible for a seed', () => {
    const before = [10, 11, 9, 10.5, 9.5];
    const after = before.map((x) => x * 2);
    const r = ratioOfMedians(before, after, 7);
    expect(r.ratio).toBe(2);
    expect(r.ci[0]).toBeLessThanOrEqual(2);
    expect(r.ci[1]).toBeGreaterThanOrEqual(2);
    expect(ratioOfMedians(before, after, 7)).toEqual(r);
  });
});
