import { describe, expect, it } from 'vitest';
import { category } from './invariants.js';
import { cronFireTimes } from './workflows.js';

describe('chaos expectations', () => {
  it('lists every cron fire time strictly after the start and up to the end', () => {
    const from = Date.parse('2026-01-01T10:00:05.300Z');
    const to = Date.parse('2026-01-01T10:00:40Z');
    expect(cronFireTimes(from, to)).toEqual([
      { trigger: 's10', fireMs: Date.parse('2026-01-01T10:00:10Z') },
      { trigger: 's20', fireMs: Date.parse('2026-01-01T10:00:20Z') },
      { trigger: 's30', fireMs: Date.parse('2026-01-01T10:00:30Z') },
      { trigger: 's40', fireMs: Date.parse('2026-01-01T10:00:40Z') },
    ]);
    expect(cronFireTimes(Date.parse('2026-01-01T10:00:10Z'), Date.parse('2026-01-01T10:00:19.999Z'))).toEqual([]);
  });

  it('sorts what was found into missing, duplicated and unexpected', () => {
    const c = category(new Set(['a', 'b', 'c']), new Set(['maybe']), ['a', 'a', 'c', 'maybe', 'stray']);
    expect(c).toEqual({ expected: 3, found: 4, missing: ['b'], duplicates: ['a x2'], unexpected: ['stray'] });
  });
});
