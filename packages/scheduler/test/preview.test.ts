import { describe, expect, it } from 'vitest';
import { previewFireTimes, runPreview } from '../src/index.js';

async function preview(argv: string[], now?: number): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await runPreview(argv, { write: (s: string) => (out += s) }, { write: (s: string) => (err += s) }, now === undefined ? {} : { now: () => now });
  return { code, out, err };
}

describe('baton schedule preview', () => {
  it('lists the next N fire instants after --from, ISO with offset first on each line', async () => {
    const r = await preview(['--cron', '30 2 * * *', '--timezone', 'America/New_York', '--from', '2024-03-09T12:00:00-05:00', '--count', '3']);
    expect(r.code).toBe(0);
    expect(r.out).toBe('2024-03-10T03:30:00-04:00 Sun\n2024-03-11T02:30:00-04:00 Mon\n2024-03-12T02:30:00-04:00 Tue\n');
    expect(r.err).toBe('');
  });
  it('is strictly after --from', async () => {
    const r = await preview(['--cron', '0 * * * *', '--from', '2024-06-01T10:00:00Z', '--count', '1']);
    expect(r.out.split(' ')[0]).toBe('2024-06-01T11:00:00+00:00');
  });
  it('reads a --from without offset as wall time in the zone', async () => {
    const r = await preview(['--cron', '@daily', '--timezone', 'Asia/Kolkata', '--from', '2024-06-01T00:00', '--count', '1']);
    expect(r.out).toBe('2024-06-02T00:00:00+05:30 Sun\n');
  });
  it('defaults: now, 10 lines, UTC', async () => {
    const r = await preview(['--cron', '*/5 * * * *'], Date.parse('2024-06-01T10:02:00Z'));
    const lines = r.out.trim().split('\n');
    expect(lines).toHaveLength(10);
    expect(lines[0]).toBe('2024-06-01T10:05:00+00:00 Sat');
    expect(lines[9]).toBe('2024-06-01T10:50:00+00:00 Sat');
  });
  it('fails with exit code 2 and a clear message on bad input', async () => {
    expect(await preview([])).toMatchObject({ code: 2, err: expect.stringMatching(/--cron is required/) });
    expect(await preview(['--cron', '61 * * * *'])).toMatchObject({ code: 2, err: expect.stringMatching(/minute field \(position 1\)/) });
    expect(await preview(['--cron', '@daily', '--timezone', 'Nowhere/Land'])).toMatchObject({ code: 2, err: expect.stringMatching(/unknown time zone "Nowhere\/Land"/) });
    expect(await preview(['--cron', '@daily', '--count', '0'])).toMatchObject({ code: 2, err: expect.stringMatching(/--count must be an integer from 1 to 1000/) });
    expect(await preview(['--cron', '@daily', '--from', 'yesterday'])).toMatchObject({ code: 2, err: expect.stringMatching(/--from "yesterday" is not an ISO-8601 date-time/) });
    expect(await preview(['--cron', '@daily', '--frobnicate'])).toMatchObject({ code: 2, err: expect.stringMatching(/Unknown option '--frobnicate'/) });
  });
  it('prints usage for --help', async () => {
    const r = await preview(['--help']);
    expect(r.code).toBe(0);
    expect(r.out).toMatch(/^usage: baton schedule preview/);
  });
  it('says so when a schedule never fires again', async () => {
    const r = await preview(['--cron', '0 0 0 1 1 ? 2020', '--from', '2024-01-01T00:00:00Z']);
    expect(r).toMatchObject({ code: 0, out: '', err: expect.stringMatching(/has no fire time after 2024-01-01T00:00:00.000Z/) });
  });
});

describe('previewFireTimes (for the REST preview endpoint)', () => {
  it('returns zone-offset ISO strings and epoch millis', () => {
    expect(previewFireTimes({ type: 'PREDEFINED', expression: '@daily', timezone: 'Asia/Tokyo' }, { from: new Date('2024-11-02T18:59:00Z'), count: 2 })).toEqual([
      { fire_time: '2024-11-04T00:00:00+09:00', epoch_ms: Date.parse('2024-11-03T15:00:00Z') },
      { fire_time: '2024-11-05T00:00:00+09:00', epoch_ms: Date.parse('2024-11-04T15:00:00Z') },
    ]);
    expect(() => previewFireTimes({ type: 'CRON', cron: '* * *' }, { from: new Date(), count: 1 })).toThrow(/has 3 fields/);
  });
});
