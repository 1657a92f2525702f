import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { loadServiceSettings } from '../src/service-config.js';
import { StartupError } from '../src/startup-error.js';
import { serviceAppPerSuite, type ServiceApp } from './helpers/service-app.js';

const push = (s: ServiceApp, id: string, cron: string) =>
  s.app.inject({
    method: 'POST',
    url: '/api/v3/workflows',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({
      properties: { owner: 'tester' },
      workflow: { id, time_triggers: [{ type: 'CRON', cron, timezone: 'UTC' }], steps: [{ step: { id: 'a', type: 'NoOp' } }] },
    }),
  });

describe('BATON_MIN_TRIGGER_INTERVAL', () => {
  it('defaults to one minute and accepts seconds or a duration', () => {
    expect(loadServiceSettings({}, tmpdir()).minTriggerIntervalMs).toBe(60_000);
    expect(loadServiceSettings({ BATON_MIN_TRIGGER_INTERVAL: '30' }, tmpdir()).minTriggerIntervalMs).toBe(30_000);
    expect(loadServiceSettings({ BATON_MIN_TRIGGER_INTERVAL: '5m' }, tmpdir()).minTriggerIntervalMs).toBe(300_000);
  });

  it('refuses values that are not a duration from 1 second to 1 day, naming the setting', () => {
    for (const bad of ['fast', '0', '0.5s', '2d', '-1']) {
      const err = (() => {
        try {
          loadServiceSettings({ BATON_MIN_TRIGGER_INTERVAL: bad }, tmpdir());
        } catch (e) {
          return e;
        }
        return undefined;
      })();
      expect(err, bad).toBeInstanceOf(StartupError);
      expect((err as StartupError).message, bad).toMatch(/duration|1 second/);
      expect((err as StartupError).setting, bad).toBe('BATON_MIN_TRIGGER_INTERVAL');
    }
  });
});

describe('pushes with the default minimum', () => {
  const s = serviceAppPerSuite({});

  it('refuses a trigger firing every 30 seconds with a message naming the field and the minimum', async () => {
    const r = await push(s(), 'every-30s-default', '*/30 * * * * ?');
    expect(r.statusCode).toBe(400);
    expect(r.body).toContain('time_triggers[0]');
    expect(r.body).toMatch(/fires every 30s.*minimum interval between fire times is 60s/);
    const stored = await s().db.query(`SELECT 1 FROM baton_workflow_versions WHERE workflow_id = 'every-30s-default'`);
    expect(stored.rows).toHaveLength(0);
  });
});

describe('pushes with BATON_MIN_TRIGGER_INTERVAL=30s', () => {
  const s = serviceAppPerSuite({ BATON_MIN_TRIGGER_INTERVAL: '30s' });

  it('accepts a 30-second trigger and previews it', async () => {
    const r = await push(s(), 'every-30s', '*/30 * * * * ?');
    expect(r.statusCode, r.body).toBe(200);
    const preview = await s().app.inject({ url: '/api/v3/workflows/every-30s/time-triggers/preview?count=3&from=2026-01-01T00:00:00Z' });
    expect(preview.statusCode, preview.body).toBe(200);
    const times = (preview.json() as { time_triggers: { fire_times: { epoch_ms: number }[] }[] }).time_triggers[0]!.fire_times.map((f) => f.epoch_ms);
    expect(times).toEqual([1, 2, 3].map((k) => Date.UTC(2026, 0, 1) + k * 30_000));
  });

  it('still refuses one firing every 10 seconds', async () => {
    const r = await push(s(), 'every-10s', '*/10 * * * * ?');
    expect(r.statusCode).toBe(400);
    expect(r.body).toMatch(/minimum interval between fire times is 30s/);
  });
});
