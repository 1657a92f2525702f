import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import { loadServiceSettings } from '../src/service-config.js';

describe('BATON_MATCH_LAG_WHILE_INGESTING', () => {
  it('defaults to 5 s, reads milliseconds, ms and s, and 0 for eager matching', () => {
    expect(loadServiceSettings({}, tmpdir()).matchLagWhileIngestingMs).toBe(5000);
    expect(loadServiceSettings({ BATON_MATCH_LAG_WHILE_INGESTING: '250' }, tmpdir()).matchLagWhileIngestingMs).toBe(250);
    expect(loadServiceSettings({ BATON_MATCH_LAG_WHILE_INGESTING: '30s' }, tmpdir()).matchLagWhileIngestingMs).toBe(30_000);
    expect(loadServiceSettings({ BATON_MATCH_LAG_WHILE_INGESTING: '0' }, tmpdir()).matchLagWhileIngestingMs).toBe(0);
  });

  it('refuses what it cannot use, naming the setting and the range', () => {
    for (const raw of ['soon', '11m', '601s', '-1']) {
      let err: { setting?: string; message: string } | undefined;
      try {
        loadServiceSettings({ BATON_MATCH_LAG_WHILE_INGESTING: raw }, tmpdir());
      } catch (e) {
        err = e as { setting?: string; message: string };
      }
      expect(err).toMatchObject({ setting: 'BATON_MATCH_LAG_WHILE_INGESTING', message: expect.stringContaining(`from 0 to 10 minutes, got "${raw}"`) });
    }
  });
});
