/**
 * A Kafka message whose whole value is the signal's payload is stored from its own text: checked
 * once (a value with a \u escape is walked for NUL and unpaired surrogates, as every payload is),
 * never serialised again, and read back equal, big integers exact, on PostgreSQL and PGlite. A
 * subscription without a payload mapping (or with any shape the ingestor cannot apply) is refused
 * when the ingestor is built, not retried on every message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Db } from '@baton/engine-core';
import type { SignalSource } from '../../src/model.js';
import { publishInTx } from '../../src/publish.js';
import { SourcesConfigError, type KafkaSourceConfig, type KafkaSubscriptionConfig } from '../../src/sources/config.js';
import type { InboundMessage, KafkaAdapter } from '../../src/sources/kafka/adapter.js';
import { convert, KafkaIngestor } from '../../src/sources/kafka/ingest.js';
import type { NormalizedSignal } from '../../src/validate.js';
import { openPgliteService, openTestDb, type TestDb } from '../helpers.js';

const sub: KafkaSubscriptionConfig = {
  topic: 'pt',
  format: 'json',
  mapping: { name: { field: 'kind' }, params: { id: { field: 'id' } }, payload: 'message' },
  cloudevents: { nameAttribute: 'type', params: 'data' },
  dedupe: 'offset',
};

function message(offset: number, text: string | null): InboundMessage {
  return { topic: 'pt', partition: 0, offset: String(offset), key: null, value: text === null ? null : Buffer.from(text, 'utf8'), headers: {}, timestamp: '0' };
}

function signalOf(offset: number, text: string): NormalizedSignal {
  const c = convert(sub, message(offset, text));
  if (!c.ok) throw new Error(`unexpected dead letter: ${c.reason}`);
  return c.signal;
}

describe('a whole-message payload kept as text', () => {
  it('keeps the text as received and parses it only when read', () => {
    const text = '{ "kind": "pt/a", "id": 7, "big": 12345678901234567890, "s": "café 😀" }';
    const s = signalOf(1, text);
    expect(s.payloadJson).toBe(text);
    expect(s.payload).toEqual({ kind: 'pt/a', id: 7, big: 12345678901234567890n, s: 'café 😀' });
    expect(s).toMatchObject({ name: 'pt/a', params: { id: 7 }, instanceId: 'kafka:pt:0:1' });
  });

  it('re-serialises text PostgreSQL could read otherwise: \\u escapes, exponents, very long digit runs', () => {
    for (const [text, payload] of [
      ['{"kind":"pt/a","id":1,"s":"caf\\u00e9"}', { kind: 'pt/a', id: 1, s: 'café' }],
      ['{"kind":"pt/a","id":1,"x":1e999}', { kind: 'pt/a', id: 1, x: Infinity }],
      [`{"kind":"pt/a","id":1,"x":0.${'1'.repeat(1200)}}`, { kind: 'pt/a', id: 1, x: 0.1111111111111111 }],
    ] as const) {
      const s = signalOf(5, text);
      expect(s.payloadJson).toBeUndefined();
      expect(s.payload).toEqual(payload);
    }
  });

  it('dead-letters an escaped NUL or unpaired surrogate anywhere in it, naming where', () => {
    expect(convert(sub, message(2, '{"kind":"pt/a","id":1,"deep":[{"x":"a\\u0000b"}]}'))).toEqual({ ok: false, reason: 'signal[0].payload.deep[0].x: contains a NUL character (U+0000)' });
    expect(convert(sub, message(3, '{"kind":"pt/a","id":1,"k":{"\\ud800":1}}'))).toEqual({ ok: false, reason: 'signal[0].payload.k: key "\\ud800" contains an unpaired surrogate (U+D800)' });
  });

  it('stores no payload for a JSON null value (and none for an absent one, as before)', () => {
    const c = convert({ ...sub, mapping: { name: { value: 'pt/n' }, params: {}, payload: 'message' } }, message(4, 'null'));
    expect(c).toMatchObject({ ok: true, signal: { payload: null } });
    expect(c.ok && c.signal.payloadJson).toBeUndefined();
  });
});

let t: TestDb;
let lite: Db;
beforeAll(async () => {
  t = await openTestDb(4);
  lite = (await openPgliteService()).db;
});
afterAll(async () => {
  await t?.close();
  await lite?.close();
});

it.each([
  ['PostgreSQL', () => t.db as Db],
  ['PGlite', () => lite],
])('stores text payloads beside object payloads and none, each in its row, read back exactly (%s)', async (_kind, getDb) => {
  const db = getDb();
  const texts = ['{"kind":"pt/s","id":1,"big":-9223372036854775808,"f":1.5}', '{"kind":"pt/s","id":2,"nested":{"a":[1,"é",null]}}', '\n {"kind":"pt/s","id":3}\t', '{"kind":"pt/s","id":4,"x":1e999,"s":"\\u00e9"}'];
  const signals: NormalizedSignal[] = [
    signalOf(10, texts[0]!),
    { name: 'pt/s', params: { id: 9 }, payload: { obj: true, n: 2n ** 62n }, instanceId: 'obj-9' },
    signalOf(11, texts[1]!),
    { name: 'pt/s', params: { id: 8 }, payload: null, instanceId: 'none-8' },
    signalOf(12, texts[2]!),
    signalOf(13, texts[3]!),
  ];
  const source: SignalSource = { type: 'KAFKA', topic: 'pt', partition: 0, offset: '0', group: 'g' };
  await db.tx((tx) => publishInTx(tx, signals, signals.map(() => source)));
  const rows = await db.query<{ instance_id: string; payload: string | null }>(`SELECT instance_id, payload::text AS payload FROM signal_instances WHERE name = 'pt/s' ORDER BY seq_id`);
  expect(rows.rows).toEqual([
    { instance_id: 'kafka:pt:0:10', payload: '{"f": 1.5, "id": 1, "big": -9223372036854775808, "kind": "pt/s"}' },
    { instance_id: 'obj-9', payload: '{"n": 4611686018427387904, "obj": true}' },
    { instance_id: 'kafka:pt:0:11', payload: '{"id": 2, "kind": "pt/s", "nested": {"a": [1, "é", null]}}' },
    { instance_id: 'none-8', payload: null },
    { instance_id: 'kafka:pt:0:12', payload: '{"id": 3, "kind": "pt/s"}' },
    { instance_id: 'kafka:pt:0:13', payload: '{"s": "é", "x": null, "id": 4, "kind": "pt/s"}' },
  ]);
});

describe('a subscription the ingestor cannot apply', () => {
  const adapter: KafkaAdapter = {
    producer: () => {
      throw new Error('not reached');
    },
    consumer: () => {
      throw new Error('not reached');
    },
  };
  const config = (subscription: unknown): KafkaSourceConfig => ({ brokers: ['unused:9092'], clientId: 'c', groupId: 'g', deadLetterTopic: 'dlq', subscriptions: [subscription as KafkaSubscriptionConfig] });
  const refusal = (subscription: unknown): SourcesConfigError => {
    try {
      new KafkaIngestor({ db: t.db, adapter, config: config(subscription) });
    } catch (err) {
      expect(err).toBeInstanceOf(SourcesConfigError);
      return err as SourcesConfigError;
    }
    throw new Error('the ingestor was built');
  };

  it('is refused when built, naming the missing payload mapping, rather than failing every message', () => {
    const { payload: _payload, ...noPayload } = sub.mapping;
    // What used to happen: each message threw a TypeError, which the ingestor retried forever.
    expect(() => convert({ ...sub, mapping: noPayload } as KafkaSubscriptionConfig, message(1, '{"kind":"pt/a","id":1}'))).toThrow(TypeError);
    const err = refusal({ ...sub, mapping: noPayload });
    expect(err.errors).toEqual([{ field: 'kafka.subscriptions[0].mapping.payload', message: 'is required: "message" (the whole value), "none" or {field: path}' }]);
    expect(err.message).toContain('kafka.subscriptions[0].mapping.payload: is required');
  });

  it('names every field at fault', () => {
    const err = refusal({ topic: '', format: 'xml', dedupe: 'nope', mapping: { name: 'kind', params: { id: { field: '' } }, payload: { field: 3 } } });
    expect(err.errors.map((e) => e.field)).toEqual([
      'kafka.subscriptions[0].topic',
      'kafka.subscriptions[0].format',
      'kafka.subscriptions[0].dedupe',
      'kafka.subscriptions[0].mapping.name',
      'kafka.subscriptions[0].mapping.params.id',
      'kafka.subscriptions[0].mapping.payload',
    ]);
    expect(refusal({ ...sub, mapping: undefined }).errors).toEqual([{ field: 'kafka.subscriptions[0].mapping', message: 'is required: {name, params, payload}' }]);
  });

  it('accepts every shape the configuration file produces', () => {
    for (const payload of ['message', 'none', { field: 'data.body' }] as const) {
      expect(() => new KafkaIngestor({ db: t.db, adapter, config: config({ ...sub, mapping: { ...sub.mapping, payload } }) })).not.toThrow();
    }
    expect(() => new KafkaIngestor({ db: t.db, adapter, config: config({ ...sub, format: 'cloudevents', dedupe: { header: 'id' } }) })).not.toThrow();
  });
});
