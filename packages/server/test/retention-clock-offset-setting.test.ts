import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadServiceSettings } from '../src/service-config.js';

describe('BATON_TEST_RETENTION_CLOCK_OFFSET (test only)', () => {
  it('is 0 unless set, and reads a duration', () => {
    expect(loadServiceSettings({}, tmpdir()).retention.clockOffsetMs).toBe(0);
    expect(loadServiceSettings({ BATON_TEST_RETENTION_CLOCK_OFFSET: '25h' }, tmpdir()).retention.clockOffsetMs).toBe(25 * 3_600_000);
  });

  it('refuses what it cannot use, naming the setting, and leaves the 1 h minimum retention alone', () => {
    const failure = (env: Record<string, string>): { setting?: string; message: string } => {
      try {
        loadServiceSettings(env, tmpdir());
      } catch (e) {
        return { setting: (e as { setting?: string }).setting, message: (e as Error).message };
      }
      throw new Error('accepted');
    };
    expect(failure({ BATON_TEST_RETENTION_CLOCK_OFFSET: 'soon' }).setting).toBe('BATON_TEST_RETENTION_CLOCK_OFFSET');
    expect(failure({ BATON_TEST_RETENTION_CLOCK_OFFSET: '31d' }).message).toContain('must be from 0 to 30d, got "31d"');
    expect(failure({ BATON_TEST_RETENTION_CLOCK_OFFSET: '25h', BATON_SIGNAL_RETENTION: '10m' }).setting).toBe('BATON_SIGNAL_RETENTION');
  });
});
