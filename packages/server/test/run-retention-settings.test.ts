import { describe, expect, it } from 'vitest';
import { loadRetentionSettings } from '../src/retention-settings.js';
import { StartupError } from '../src/startup-error.js';

describe('BATON_RUN_RETENTION', () => {
  it('defaults to forever and takes a duration of at least an hour, or forever', () => {
    expect(loadRetentionSettings({}).runsSeconds).toBeNull();
    expect(loadRetentionSettings({ BATON_RUN_RETENTION: '90d' }).runsSeconds).toBe(90 * 86_400);
    expect(loadRetentionSettings({ BATON_RUN_RETENTION: 'P7D' }).runsSeconds).toBe(7 * 86_400);
    expect(loadRetentionSettings({ BATON_RUN_RETENTION: 'Forever' }).runsSeconds).toBeNull();
  });

  it('refuses a bad value naming the setting', () => {
    const problem = (raw: string): string => {
      try {
        loadRetentionSettings({ BATON_RUN_RETENTION: raw });
      } catch (err) {
        expect(err).toBeInstanceOf(StartupError);
        return (err as StartupError).describe();
      }
      throw new Error(`${raw} was accepted`);
    };
    expect(problem('10m')).toBe('BATON_RUN_RETENTION: must be from 1h to 100 years, or forever, got "10m"');
    expect(problem('soon')).toMatch(/^BATON_RUN_RETENTION: must be a duration such as 30d, 12h or P7D, or forever/);
  });
});
