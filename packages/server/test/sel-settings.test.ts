import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadServiceSettings } from '../src/service-config.js';

describe('BATON_SEL_TIMEOUT, BATON_SEL_WORKERS, BATON_SEL_QUEUE_LIMIT', () => {
  it('default to a 5 s limit and the engine defaults for the pool', () => {
    const s = loadServiceSettings({}, tmpdir());
    expect(s.selTimeoutMs).toBe(5000);
    expect(s.selWorkers).toBeUndefined();
    expect(s.selQueueLimit).toBeUndefined();
  });

  it('read milliseconds, ms and s, and 0 for no limit', () => {
    expect(loadServiceSettings({ BATON_SEL_TIMEOUT: '750' }, tmpdir()).selTimeoutMs).toBe(750);
    expect(loadServiceSettings({ BATON_SEL_TIMEOUT: '500ms' }, tmpdir()).selTimeoutMs).toBe(500);
    expect(loadServiceSettings({ BATON_SEL_TIMEOUT: '2s' }, tmpdir()).selTimeoutMs).toBe(2000);
    expect(loadServiceSettings({ BATON_SEL_TIMEOUT: '0' }, tmpdir()).selTimeoutMs).toBe(0);
    expect(loadServiceSettings({ BATON_SEL_WORKERS: '3', BATON_SEL_QUEUE_LIMIT: '50' }, tmpdir())).toMatchObject({ selWorkers: 3, selQueueLimit: 50 });
  });

  it('refuse what they cannot use, naming the setting', () => {
    const failure = (env: Record<string, string>): { setting?: string; message: string } => {
      try {
        loadServiceSettings(env, tmpdir());
      } catch (e) {
        return { setting: (e as { setting?: string }).setting, message: (e as Error).message };
      }
      throw new Error('accepted');
    };
    expect(failure({ BATON_SEL_TIMEOUT: 'soon' })).toMatchObject({ setting: 'BATON_SEL_TIMEOUT', message: expect.stringContaining('must be milliseconds (500, 500ms) or seconds (5s)') });
    expect(failure({ BATON_SEL_TIMEOUT: '2h' }).message).toContain('got "2h"');
    expect(failure({ BATON_SEL_WORKERS: '0' }).setting).toBe('BATON_SEL_WORKERS');
    expect(failure({ BATON_SEL_WORKERS: '0' }).message).toContain('must be a whole number from 1 to 64, got "0"');
    expect(failure({ BATON_SEL_QUEUE_LIMIT: '-1' }).message).toContain('from 1 to 100000, got "-1"');
  });
});
