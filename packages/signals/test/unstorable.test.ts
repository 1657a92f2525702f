import type { PGliteDb } from '@baton/engine-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalValidationError } from '../src/errors.js';
import type { SignalService } from '../src/service.js';
import type { KafkaSubscriptionConfig } from '../src/sources/config.js';
import { convert } from '../src/sources/kafka/ingest.js';
import { normalizeBatch } from '../src/validate.js';
import { openPgliteService } from './helpers.js';

const NUL = '\u0000';
const LONE = '\ud800';

function problems(raw: unknown[]): Array<{ field: string; message: string }> {
  try {
    normalizeBatch(raw);
  } catch (err) {
    expect(err).toBeInstanceOf(SignalValidationError);
    return (err as SignalValidationError).errors;
  }
  throw new Error('the batch was accepted');
}

describe('values PostgreSQL cannot store', () => {
  it('are refused in every field, each named', () => {
    expect(problems([{ name: 'a', params: { k: `x${NUL}y` } }])).toEqual([{ field: 'signals[0].params.k', message: 'contains a NUL character (U+0000)' }]);
    expect(problems([{ name: 'a', params: { k: `x${LONE}` } }])).toEqual([{ field: 'signals[0].params.k', message: 'contains an unpaired surrogate (U+D800)' }]);
    expect(problems([{ name: 'a', params: { [`k${NUL}`]: 1 } }])).toEqual([{ field: 'signals[0].params', message: 'param name "k\\u0000" contains a NUL character (U+0000)' }]);
    expect(problems([{ name: `a${LONE}` }])).toEqual([{ field: 'signals[0].name', message: 'contains an unpaired surrogate (U+D800)' }]);
    expect(problems([{ name: 'a', request_id: `r${NUL}` }])).toEqual([{ field: 'signals[0].request_id', message: 'contains a NUL character (U+0000)' }]);
    expect(problems([{ name: 'a' }, { name: 'b', payload: { deep: [1, { s: `\udc00x` }] } }])).toEqual([{ field: 'signals[1].payload.deep[1].s', message: 'contains an unpaired surrogate (U+DC00)' }]);
    expect(problems([{ name: 'a', payload: { [`k${LONE}`]: 1 } }])).toEqual([{ field: 'signals[0].payload', message: 'key "k\\ud800" contains an unpaired surrogate (U+D800)' }]);
    // Extra top-level fields go into the payload and are checked there.
    expect(problems([{ name: 'a', extra: NUL }])).toEqual([{ field: 'signals[0].payload.extra', message: 'contains a NUL character (U+0000)' }]);
  });

  it('checks every value of a param name seen before (names are checked once, values always)', () => {
    normalizeBatch([{ name: 'seen', params: { k: 'fine', n: 1 } }]);
    expect(problems([{ name: 'seen', params: { k: `x${NUL}y`, n: 1.5 } }])).toEqual([
      { field: 'signals[0].params.k', message: 'contains a NUL character (U+0000)' },
      { field: 'signals[0].params.n', message: 'must be a string or an integer' },
    ]);
    expect(problems([{ name: 'seen', params: { n: 2n ** 63n } }])).toEqual([{ field: 'signals[0].params.n', message: 'integer is outside the 64-bit range' }]);
    expect(normalizeBatch([{ name: 'seen', params: { k: 'ok', n: -0 } }])[0]!.params).toEqual({ k: 'ok', n: 0 });
  });

  it('accepts surrogate pairs and ordinary text', () => {
    const [s] = normalizeBatch([{ name: 'a', params: { k: 'x😀y' }, payload: { e: '😀', k: ['é'] }, request_id: 'r😀' }]);
    expect(s).toMatchObject({ params: { k: 'x😀y' }, payload: { e: '😀', k: ['é'] }, requestId: 'r😀' });
  });

  it('sends a Kafka message holding one to the dead-letter topic with the reason', () => {
    const sub: KafkaSubscriptionConfig = { topic: 't', format: 'json', mapping: { name: { value: 'orders' }, params: { id: { field: 'id' } }, payload: 'none' }, cloudevents: { nameAttribute: 'type', params: 'data' }, dedupe: 'offset' };
    const value = Buffer.from(JSON.stringify({ id: `a${NUL}b` }));
    expect(convert(sub, { topic: 't', partition: 0, offset: '1', key: null, value, headers: {}, timestamp: '0' })).toEqual({ ok: false, reason: 'signal[0].params.id: contains a NUL character (U+0000)' });
  });
});

describe('publish with values PostgreSQL cannot store', () => {
  let db: PGliteDb;
  let svc: SignalService;
  beforeAll(async () => {
    ({ db, svc } = await openPgliteService());
  });
  afterAll(async () => {
    await svc?.stop();
    await db?.close();
  });

  it('refuses the batch with a validation error and stores nothing', async () => {
    await expect(svc.publish([{ name: 'ok_one' }, { name: 'bad', params: { k: NUL } }])).rejects.toThrow('signals[1].params.k: contains a NUL character (U+0000)');
    await expect(svc.publish([{ name: 'bad', payload: { s: LONE } }])).rejects.toBeInstanceOf(SignalValidationError);
    const n = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM signal_instances');
    expect(n.rows[0]!.n).toBe(0);
    // The same service still stores a good batch afterwards.
    expect(await svc.publish([{ name: 'ok_one', params: { k: 'fine' } }])).toMatchObject([{ name: 'ok_one', duplicate: false }]);
  });
});
