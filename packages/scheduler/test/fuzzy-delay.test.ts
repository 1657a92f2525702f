import { describe, expect, it } from 'vitest';
import { TriggerError, compileTrigger, parseDurationMs, stableJitterMs } from '../src/index.js';

describe('fuzzy_max_delay durations', () => {
  it('accepts units, combinations, ISO-8601 and numbers of seconds', () => {
    expect(parseDurationMs('30s')).toBe(30_000);
    expect(parseDurationMs('5m')).toBe(300_000);
    expect(parseDurationMs('1h')).toBe(3_600_000);
    expect(parseDurationMs('1h30m')).toBe(5_400_000);
    expect(parseDurationMs('250ms')).toBe(250);
    expect(parseDurationMs('PT5M')).toBe(300_000);
    expect(parseDurationMs('pt1h30m')).toBe(5_400_000);
    expect(parseDurationMs('P1D')).toBe(86_400_000);
    expect(parseDurationMs(45)).toBe(45_000);
    expect(parseDurationMs('45')).toBe(45_000);
    expect(parseDurationMs(0)).toBe(0);
  });
  it('rejects what it cannot read', () => {
    for (const bad of ['30 seconds please', 'abc', '', '5x', 'P1M', -1, Number.NaN, {}, true]) {
      expect(() => parseDurationMs(bad), JSON.stringify(bad)).toThrow(TriggerError);
    }
    expect(() => compileTrigger({ type: 'CRON', cron: '@daily', fuzzy_max_delay: '5 parsecs' })).toThrow(/fuzzy_max_delay "5 parsecs" is not a duration/);
  });
  it('compiles into the trigger', () => {
    expect(compileTrigger({ type: 'CRON', cron: '*/2 * * * *', timezone: 'US/Pacific', fuzzy_max_delay: '30s' }).fuzzyMaxDelayMs).toBe(30_000);
  });
});

describe('stable jitter', () => {
  it('is the same for the same workflow and trigger, and inside [0, max)', () => {
    const a = stableJitterMs('wf-a', 'cron-1', 30_000);
    expect(stableJitterMs('wf-a', 'cron-1', 30_000)).toBe(a);
    expect(a).toBeGreaterThanOrEqual(0);
    expect(a).toBeLessThan(30_000);
    expect(stableJitterMs('wf-a', 'cron-1', 0)).toBe(0);
  });
  it('spreads different workflows across the window', () => {
    const values = Array.from({ length: 2000 }, (_, i) => stableJitterMs(`wf-${i}`, 'cron-1', 60_000));
    const buckets = new Array<number>(6).fill(0);
    for (const v of values) buckets[Math.floor(v / 10_000)]!++;
    // 2000 draws into 6 buckets: each should hold roughly 333; a hash that clumps fails this.
    for (const b of buckets) expect(b).toBeGreaterThan(250);
    expect(new Set(values).size).toBeGreaterThan(1900);
  });
  it('differs between triggers of one workflow', () => {
    expect(stableJitterMs('wf', 'cron-1', 3_600_000)).not.toBe(stableJitterMs('wf', 'cron-2', 3_600_000));
  });
});
