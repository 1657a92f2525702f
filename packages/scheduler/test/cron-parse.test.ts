import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { TriggerError, compileTrigger, formatInZone, nextFireMs, parseCron, prevFireTime, type TimeTriggerDefinition } from '../src/index.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function fires(cron: string, from: string, count: number, timezone = 'UTC', minIntervalMs?: number): string[] {
  const t = compileTrigger({ type: 'CRON', cron, timezone }, { minIntervalMs });
  return nextFireMs(t, Date.parse(from), count).map((ms) => formatInZone(ms, timezone));
}

function rejects(cron: string, pattern: RegExp, timezone?: string): TriggerError {
  let caught: unknown;
  try {
    compileTrigger({ type: 'CRON', cron, timezone });
  } catch (e) {
    caught = e;
  }
  expect(caught).toBeInstanceOf(TriggerError);
  expect((caught as Error).message).toMatch(pattern);
  return caught as TriggerError;
}

describe('Unix 5-field cron', () => {
  it('weekday ranges and names', () => {
    expect(fires('0 9 * * MON-FRI', '2024-06-07T10:00:00Z', 3)).toEqual(['2024-06-10T09:00:00+00:00', '2024-06-11T09:00:00+00:00', '2024-06-12T09:00:00+00:00']);
    expect(fires('0 9 * * 1-5', '2024-06-07T10:00:00Z', 1)).toEqual(['2024-06-10T09:00:00+00:00']);
  });
  it('7 and 0 are both Sunday', () => {
    expect(fires('0 0 * * 7', '2024-06-01T00:00:00Z', 1)).toEqual(fires('0 0 * * 0', '2024-06-01T00:00:00Z', 1));
    expect(fires('0 0 * * 7', '2024-06-01T00:00:00Z', 1)).toEqual(['2024-06-02T00:00:00+00:00']);
  });
  it('month names and steps', () => {
    expect(fires('0 0 1 JAN,jul *', '2024-02-01T00:00:00Z', 2)).toEqual(['2024-07-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00']);
    expect(fires('0 0 1 */4 *', '2024-02-01T00:00:00Z', 3)).toEqual(['2024-05-01T00:00:00+00:00', '2024-09-01T00:00:00+00:00', '2025-01-01T00:00:00+00:00']);
  });
  it('day-of-month OR day-of-week when both restrict (Vixie cron)', () => {
    // 13th of the month or any Friday.
    expect(fires('0 0 13 * 5', '2024-09-10T00:00:00Z', 3)).toEqual(['2024-09-13T00:00:00+00:00', '2024-09-20T00:00:00+00:00', '2024-09-27T00:00:00+00:00']);
  });
  it('a starred day field with a step still restricts, combined with AND (Vixie cron)', () => {
    // Odd days of the month that are Mondays: 2024-07-01, 07-15, 07-29, then 08-05.
    expect(fires('0 0 */2 * 1', '2024-06-25T00:00:00Z', 4)).toEqual(['2024-07-01T00:00:00+00:00', '2024-07-15T00:00:00+00:00', '2024-07-29T00:00:00+00:00', '2024-08-05T00:00:00+00:00']);
    // cron-parser reads the step as a restriction and ORs the fields (it would add June 27 and 29);
    // Vixie cron, whose rule Baton follows, looks at the leading `*`.
    expect(fires('0 0 */2 * 1', '2024-06-25T00:00:00Z', 1)).not.toContain('2024-06-27T00:00:00+00:00');
  });
  it('L, L-n, W and LW in day-of-month, nL and # in day-of-week', () => {
    expect(fires('0 0 L * *', '2024-02-01T00:00:00Z', 2)).toEqual(['2024-02-29T00:00:00+00:00', '2024-03-31T00:00:00+00:00']);
    expect(fires('0 0 L-2 * *', '2024-02-01T00:00:00Z', 1)).toEqual(['2024-02-27T00:00:00+00:00']);
    // 2024-06-15 is a Saturday: nearest weekday is Friday the 14th. 2024-09-01 is a Sunday: Monday 2nd.
    expect(fires('0 0 15W * *', '2024-06-01T00:00:00Z', 1)).toEqual(['2024-06-14T00:00:00+00:00']);
    expect(fires('0 0 1W * *', '2024-08-05T00:00:00Z', 1)).toEqual(['2024-09-02T00:00:00+00:00']);
    expect(fires('0 0 LW * *', '2024-08-01T00:00:00Z', 1)).toEqual(['2024-08-30T00:00:00+00:00']);
    expect(fires('0 0 * * 5L', '2024-08-01T00:00:00Z', 1)).toEqual(['2024-08-30T00:00:00+00:00']);
    expect(fires('0 0 * * 1#2', '2024-08-01T00:00:00Z', 1)).toEqual(['2024-08-12T00:00:00+00:00']);
  });
  it('predefined schedules, also as cron strings', () => {
    for (const [name, first] of [
      ['@yearly', '2025-01-01T00:00:00+00:00'],
      ['@annually', '2025-01-01T00:00:00+00:00'],
      ['@monthly', '2024-07-01T00:00:00+00:00'],
      ['@weekly', '2024-06-16T00:00:00+00:00'],
      ['@daily', '2024-06-13T00:00:00+00:00'],
      ['@midnight', '2024-06-13T00:00:00+00:00'],
      ['@hourly', '2024-06-12T11:00:00+00:00'],
    ] as const) {
      expect(fires(name, '2024-06-12T10:30:00Z', 1), name).toEqual([first]);
      const t = compileTrigger({ type: 'PREDEFINED', expression: name });
      expect(nextFireMs(t, Date.parse('2024-06-12T10:30:00Z'), 1).map((ms) => formatInZone(ms, 'UTC'))).toEqual([first]);
    }
  });
});

describe('Quartz 6/7-field cron', () => {
  it('the Maestro sample: noon every day in US/Pacific (legacy zone name)', () => {
    expect(fires('0 0 12 1/1 * ? *', '2024-03-09T00:00:00Z', 3, 'US/Pacific')).toEqual([
      '2024-03-09T12:00:00-08:00',
      '2024-03-10T12:00:00-07:00',
      '2024-03-11T12:00:00-07:00',
    ]);
  });
  it('numbers weekdays from 1 = Sunday', () => {
    expect(fires('0 0 0 ? * 2', '2024-06-01T00:00:00Z', 1)).toEqual(['2024-06-03T00:00:00+00:00']);
    expect(fires('0 0 0 ? * MON', '2024-06-01T00:00:00Z', 1)).toEqual(['2024-06-03T00:00:00+00:00']);
    expect(fires('0 0 0 ? * 6#3', '2024-01-01T00:00:00Z', 2)).toEqual(['2024-01-19T00:00:00+00:00', '2024-02-16T00:00:00+00:00']);
    expect(fires('0 0 0 ? * 6L', '2024-08-01T00:00:00Z', 1)).toEqual(['2024-08-30T00:00:00+00:00']);
    expect(fires('0 0 0 ? * L', '2024-08-01T00:00:00Z', 1)).toEqual(['2024-08-03T00:00:00+00:00']);
  });
  it('seconds and the optional year', () => {
    expect(fires('15,45 30 10 * * ?', '2024-06-01T00:00:00Z', 3, 'UTC', 1000)).toEqual(['2024-06-01T10:30:15+00:00', '2024-06-01T10:30:45+00:00', '2024-06-02T10:30:15+00:00']);
    expect(fires('0 0 0 1 1 ? 2030-2031', '2024-06-01T00:00:00Z', 3)).toEqual(['2030-01-01T00:00:00+00:00', '2031-01-01T00:00:00+00:00']);
    expect(fires('0 0 0 1 1 ? 2020', '2024-06-01T00:00:00Z', 1)).toEqual([]);
  });
});

describe('rejections name the field and position', () => {
  it('out of range, bad names, bad steps', () => {
    const e = rejects('61 * * * *', /minute field \(position 1\) "61": 61 is outside 0-59/);
    expect([e.field, e.position]).toEqual(['minute', 1]);
    rejects('0 25 * * *', /hour field \(position 2\)/);
    rejects('0 0 * FOO *', /month field \(position 4\) "FOO": "FOO" is not a number or a name/);
    rejects('0 0 * * 8', /day-of-week field \(position 5\) "8": 8 is outside 0-7/);
    rejects('*/0 * * * *', /step must be at least 1/);
    rejects('0 0 5-1 * *', /day-of-month field \(position 3\).*runs backwards/);
    rejects('0 0 ,1 * *', /empty list item/);
    rejects('0 0 0 ? * 8', /day-of-week field \(position 6\)/);
    rejects('0 0 0 ? * 2#6', /write d#n with n from 1 to 5/);
    rejects('0 0 0 1 1 ? 1969', /year field \(position 7\).*outside 1970-2099/);
  });
  it('shape errors', () => {
    rejects('* * * *', /has 4 fields; expected 5/);
    rejects('', /empty/);
    rejects('@every_5m', /unknown predefined schedule "@every_5m"/);
    rejects('0 0 0 ? * ?', /cannot both be "\?"/);
    rejects('0 0 0 1 * MON', /Quartz form cannot restrict both/);
    rejects('0 0 30 2 *', /matches no calendar date/);
  });
  it('unknown time zones', () => {
    const e = rejects('0 0 * * *', /unknown time zone "Mars\/Olympus"/, 'Mars/Olympus');
    expect(e.property).toBe('timezone');
  });
  it('triggers firing more often than the minimum interval', () => {
    rejects('* * * * * ?', /fires every 1s at its closest; the minimum interval between fire times is 60s/);
    rejects('0,30 * * * * ?', /fires every 30s/);
    expect(() => compileTrigger({ type: 'CRON', cron: '0 0,1 12 * * ?' })).not.toThrow();
    expect(() => compileTrigger({ type: 'CRON', cron: '* * * * *' })).not.toThrow();
    expect(() => compileTrigger({ type: 'CRON', cron: '*/5 * * * *' }, { minIntervalMs: 600_000 })).toThrow(/fires every 300s/);
    expect(() => compileTrigger({ type: 'CRON', cron: '*/10 * * * * ?' }, { minIntervalMs: 10_000 })).not.toThrow();
  });
  it('malformed trigger objects', () => {
    expect(() => compileTrigger(null)).toThrow(/must be an object/);
    expect(() => compileTrigger({ type: 'CRONTAB', cron: '* * * * *' })).toThrow(/must be CRON or PREDEFINED/);
    expect(() => compileTrigger({ type: 'CRON' })).toThrow(/needs a "cron" string/);
    expect(() => compileTrigger({ type: 'PREDEFINED', expression: '@fortnightly' })).toThrow(/needs "expression" set to one of/);
    expect(() => compileTrigger({ type: 'CRON', cron: '@daily', catch_up: 'SOME' })).toThrow(/catch_up policy "SOME" must be ALL, LATEST or NONE/);
    expect(() => compileTrigger({ type: 'CRON', cron: '@daily', catch_up: { policy: 'ALL', max_runs: 0 } })).toThrow(/max_runs/);
  });
});

describe('parsed shape', () => {
  it('classifies interval-like schedules by their expanded minute/second sets', () => {
    expect(parseCron('*/15 * * * *').intervalLike).toBe(true);
    expect(parseCron('0,15,30,45 * * * *').intervalLike).toBe(true);
    expect(parseCron('0 * * * *').intervalLike).toBe(false);
    expect(parseCron('30 1 * * *').intervalLike).toBe(false);
    expect(parseCron('0/30 5 1 * * ?').intervalLike).toBe(true);
    expect(parseCron('@hourly').form).toBe('predefined');
  });
  it('prevFireTime returns null before the first fire', () => {
    expect(prevFireTime({ type: 'CRON', cron: '0 0 0 1 1 ? 2030' }, new Date('2029-01-01T00:00:00Z'))).toBeNull();
  });
});

describe('the Maestro time-trigger sample', () => {
  it('every trigger compiles and previews', () => {
    const wf = JSON.parse(readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/sample-time-trigger-wf.json'), 'utf8')) as {
      workflow: { time_triggers: TimeTriggerDefinition[] };
    };
    const out = wf.workflow.time_triggers.map((t) => {
      const c = compileTrigger(t);
      return nextFireMs(c, Date.parse('2024-11-02T18:59:00Z'), 2).map((ms) => formatInZone(ms, c.timezone));
    });
    expect(out).toEqual([
      ['2024-11-02T12:00:00-07:00', '2024-11-03T12:00:00-08:00'],
      ['2024-11-04T00:00:00+09:00', '2024-11-05T00:00:00+09:00'],
      ['2024-11-02T12:00:00-07:00', '2024-11-02T12:02:00-07:00'],
    ]);
  });
  it('the watermark fixture triggers compile', () => {
    const fx = JSON.parse(
      readFileSync(path.resolve(repoRoot, '../shared/maestro-samples/fixtures/maestro-timetrigger/sample-workflow-time-trigger-execution.json'), 'utf8'),
    ) as { time_triggers_with_watermarks: Array<{ time_trigger: TimeTriggerDefinition; last_trigger_timestamp: string }> };
    for (const { time_trigger, last_trigger_timestamp } of fx.time_triggers_with_watermarks) {
      const c = compileTrigger(time_trigger);
      const [nextAfterWatermark] = nextFireMs(c, Number(last_trigger_timestamp) * 1000, 1);
      expect(nextAfterWatermark).toBeGreaterThan(Number(last_trigger_timestamp) * 1000);
    }
  });
});
