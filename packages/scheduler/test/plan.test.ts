import { describe, expect, it } from 'vitest';
import { compileTrigger, planFires } from '../src/index.js';

const at = (iso: string): number => Date.parse(iso);
const iso = (ms: number): string => new Date(ms).toISOString();

describe('planFires', () => {
  it('nothing is due before the fire time plus jitter', () => {
    const t = compileTrigger({ type: 'CRON', cron: '0 * * * *' });
    const plan = planFires(t, 5000, at('2024-06-01T10:00:00Z'), null, at('2024-06-01T10:00:04.999Z'), 60_000);
    expect(plan).toEqual({ start: [], skipped: 0, watermarkMs: null, nextFireMs: at('2024-06-01T10:00:00Z') });
  });

  it('bounds the work after a very long outage: the newest max_runs, the rest counted as skipped', () => {
    // Every minute, down for 100 days: 144,000 missed fire times.
    const t = compileTrigger({ type: 'CRON', cron: '* * * * *', catch_up: { policy: 'ALL', max_runs: 3 } });
    const from = at('2024-01-01T00:00:00Z');
    const now = at('2024-04-10T00:00:30Z');
    const plan = planFires(t, 0, from, null, now, 60_000);
    expect(plan.start.map((f) => [iso(f.fireMs), f.catchUp])).toEqual([
      ['2024-04-09T23:58:00.000Z', true],
      ['2024-04-09T23:59:00.000Z', true],
      ['2024-04-10T00:00:00.000Z', false],
    ]);
    expect(plan.skipped).toBeGreaterThanOrEqual(99_997);
    expect(plan.watermarkMs).toBe(at('2024-04-10T00:00:00Z'));
    expect(plan.nextFireMs).toBe(at('2024-04-10T00:01:00Z'));
  });

  it('re-plans when the stored next fire time is not a fire time of the schedule', () => {
    const t = compileTrigger({ type: 'CRON', cron: '30 * * * *' });
    const plan = planFires(t, 0, at('2024-06-01T10:00:00Z'), 7, at('2024-06-01T10:10:00Z'), 60_000);
    expect(plan).toEqual({ start: [], skipped: 0, watermarkMs: 7, nextFireMs: at('2024-06-01T10:30:00Z') });
  });

  it('returns no next fire time when the schedule ends', () => {
    const t = compileTrigger({ type: 'CRON', cron: '0 0 0 1 1 ? 2030' });
    const plan = planFires(t, 0, at('2030-01-01T00:00:00Z'), null, at('2030-01-01T00:00:01Z'), 60_000);
    expect(plan.start.map((f) => iso(f.fireMs))).toEqual(['2030-01-01T00:00:00.000Z']);
    expect(plan.nextFireMs).toBeNull();
  });
});
