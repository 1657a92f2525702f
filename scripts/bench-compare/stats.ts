/**
 * Statistics for before/after comparisons: medians, ratios and 95% bootstrap intervals. The
 * generator is seeded, so the same figures always give the same interval.
 */

export function median(xs: readonly number[]): number {
  if (xs.length === 0) return NaN;
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** mulberry32: a small seeded generator, so intervals are reproducible. */
function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const RESAMPLES = 4000;

function percentileInterval(estimates: number[]): [number, number] {
  const s = estimates.sort((a, b) => a - b);
  return [s[Math.floor(0.025 * (s.length - 1))]!, s[Math.ceil(0.975 * (s.length - 1))]!];
}

function resample<T>(xs: readonly T[], next: () => number): T[] {
  return xs.map(() => xs[Math.floor(next() * xs.length)]!);
}

/**
 * Median of paired ratios with a 95% interval. The ratios come in clusters (one per process: a
 * process's JIT decisions are shared by all its rounds), so the bootstrap resamples clusters
 * first and rounds within each, which does not pretend that rounds of one process are independent.
 */
export function pairedRatio(clusters: readonly (readonly number[])[], seed = 1): { ratio: number; ci: [number, number]; n: number } {
  const all = clusters.flat();
  const next = rng(seed);
  const estimates: number[] = [];
  for (let i = 0; i < RESAMPLES; i++) {
    const picked = clusters.length > 1 ? resample(clusters, next) : clusters;
    estimates.push(median(picked.flatMap((c) => resample(c, next))));
  }
  return { ratio: median(all), ci: percentileInterval(estimates), n: all.length };
}

/** Ratio of medians after / before of two independent samples (runs of two processes), with a 95% bootstrap interval. */
export function ratioOfMedians(before: readonly number[], after: readonly number[], seed = 1): { ratio: number; ci: [number, number] } {
  const next = rng(seed);
  const estimates: number[] = [];
  for (let i = 0; i < RESAMPLES; i++) estimates.push(median(resample(after, next)) / median(resample(before, next)));
  return { ratio: median(after) / median(before), ci: percentileInterval(estimates) };
}

/**
 * The verdict on "within 5%": true when the whole 95% interval of after/before lies in
 * [0.95, 1.05], so that neither a 5% slow-down nor a 5% speed-up is plausible. An interval
 * wider than that says the run could not tell, which is reported as false, not as a pass.
 */
export function within5pct(ci: readonly [number, number]): boolean {
  return ci[0] >= 0.95 && ci[1] <= 1.05;
}

/** Also reported: no plausible slow-down of more than 5% (the interval's upper end ≤ 1.05). */
export function notSlowerBy5pct(ci: readonly [number, number]): boolean {
  return ci[1] <= 1.05;
}
