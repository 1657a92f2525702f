import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SignalValidationError } from '../src/errors.js';
import { SignalService } from '../src/service.js';
import type { KafkaSubscriptionConfig } from '../src/sources/config.js';
import { convert } from '../src/sources/kafka/ingest.js';
import { openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';

/** `depth` nested arrays around 1, built as text (no recursion anywhere). */
function nestedText(depth: number): string {
  return '['.repeat(depth) + '1' + ']'.repeat(depth);
}

const sub: KafkaSubscriptionConfig = {
  topic: 't',
  format: 'json',
  mapping: { name: { value: 'deep' }, params: {}, payload: 'message' },
  cloudevents: { nameAttribute: 'type', params: 'data' },
  dedupe: 'offset',
};

function message(text: string, offset = '1') {
  return { topic: 't', partition: 0, offset, key: null, value: Buffer.from(text), headers: {}, timestamp: '0' };
}

describe('payloads nested too deep to store', () => {
  let tdb: TestDb;
  let svc: SignalService;
  beforeAll(async () => {
    tdb = await openTestDb();
    svc = new SignalService(tdb.db, { starter: new TableStarter(), expressions: testExpressions });
  });
  afterAll(async () => {
    await svc?.stop();
    await tdb?.close();
  });

  it('sends a Kafka message nested deeper than the limit to the dead-letter topic, naming the depth', () => {
    const out = convert(sub, message(`{"a":${nestedText(5000)}}`));
    expect(out).toMatchObject({ ok: false });
    expect((out as { reason: string }).reason).toMatch(/^signal\[0\]\.payload: nesting deeper than 256 at character \d+$/);
  });

  it('keeps a Kafka message nested within the limit', () => {
    const out = convert(sub, message(`{"a":${nestedText(200)}}`));
    expect(out).toMatchObject({ ok: true });
  });

  it('refuses a deep payload given as a value (SNS, step outputs, code) with a validation error', async () => {
    let v: unknown = 1;
    for (let i = 0; i < 100_000; i++) v = [v];
    await expect(svc.publish([{ name: 'deep', payload: { a: v } }])).rejects.toBeInstanceOf(SignalValidationError);
    await expect(svc.publish([{ name: 'deep', payload: { a: v } }])).rejects.toThrow('signals[0].payload: nesting deeper than 256');
  });

  it('stores a payload at the limit on PostgreSQL, as received', async () => {
    let v: unknown = 1;
    for (let i = 0; i < 255; i++) v = [v];
    const [r] = await svc.publish([{ name: 'deep_ok', payload: { a: v } }]);
    expect(r).toMatchObject({ duplicate: false });
    const out = convert(sub, message(`{"a":${nestedText(255)}}`, '2'));
    expect(out).toMatchObject({ ok: true });
  });
});
