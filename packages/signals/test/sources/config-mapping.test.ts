import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cloudEventToSignal, parseBinaryKafkaEvent } from '../../src/sources/cloudevents.js';
import { loadSourcesConfig, SourcesConfigError, type KafkaSubscriptionConfig } from '../../src/sources/config.js';
import type { InboundMessage } from '../../src/sources/kafka/adapter.js';
import { convert, KafkaIngestor } from '../../src/sources/kafka/ingest.js';
import type { Db } from '@baton/engine-core';
import type { KafkaAdapter } from '../../src/sources/kafka/adapter.js';
import { dedupeRequestId, mapMessage, parseMessageJson } from '../../src/sources/mapping.js';

const dir = mkdtempSync(path.join(tmpdir(), 'baton-sources-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

function file(name: string, text: string): string {
  writeFileSync(path.join(dir, name), text);
  return name;
}

describe('loadSourcesConfig', () => {
  it('reads YAML, applies defaults and environment overrides', () => {
    const f = file(
      'ok.yaml',
      `kafka:
  brokers: [a:9092]
  lanes: 8
  partitionsConcurrently: 4
  subscriptions:
    - topic: orders
      name: { header: kind }
      params: { id: { field: order.id }, src: kafka }
      dedupe: { field: order.id }
    - topic: events
      format: cloudevents
      cloudevents: { nameAttribute: signalname }
sns:
  subscriptions:
    - topicArn: arn:aws:sns:eu-west-1:123456789012:orders
      name: orders/created
sinks:
  - { name: audit, type: kafka, topic: baton-events, events: [signal, workflow] }
  - { name: fanout, type: sns, topicArn: "arn:aws:sns:eu-west-1:123456789012:out", endpoint: "http://127.0.0.1:5000" }
outbox: { leaseMs: 5000 }
`,
    );
    const c = loadSourcesConfig({ BATON_SOURCES_CONFIG: f, BATON_KAFKA_BROKERS: 'k1:1,k2:2' }, dir);
    expect(c.file).toBe(path.join(dir, f));
    expect(c.kafka).toMatchObject({ brokers: ['k1:1', 'k2:2'], groupId: 'baton-signals', deadLetterTopic: 'baton-signals-dlq', lanes: 8, partitionsConcurrently: 4 });
    expect(c.kafka!.chunkSize).toBeUndefined();
    expect(c.kafka!.subscriptions[0]).toMatchObject({ format: 'json', dedupe: { field: 'order.id' }, mapping: { name: { header: 'kind' }, params: { id: { field: 'order.id' }, src: { value: 'kafka' } }, payload: 'message' } });
    expect(c.kafka!.subscriptions[1]!.cloudevents).toEqual({ nameAttribute: 'signalname', params: 'data' });
    expect(c.sns).toMatchObject({ verifySignatures: true, certificateHosts: '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$' });
    expect(c.sinks).toEqual([
      { name: 'audit', type: 'kafka', topic: 'baton-events', brokers: ['k1:1', 'k2:2'], events: ['signal', 'workflow'] },
      { name: 'fanout', type: 'sns', topicArn: 'arn:aws:sns:eu-west-1:123456789012:out', region: 'eu-west-1', endpoint: 'http://127.0.0.1:5000', events: ['signal', 'workflow', 'step'] },
    ]);
    expect(c.outbox.leaseMs).toBe(5000);
    expect(loadSourcesConfig({ BATON_SOURCES_CONFIG: f, BATON_SNS_VERIFY_SIGNATURES: 'false' }, dir).sns.verifySignatures).toBe(false);
  });

  it('tunes Kafka ingestion from the file, options first, defaults by database', () => {
    const f = file('tuned.yaml', 'kafka:\n  brokers: [a:1]\n  lanes: 8\n  chunkSize: 1000\n  subscriptions: [{ topic: t, name: n }]\n');
    const config = loadSourcesConfig({ BATON_SOURCES_CONFIG: f }, dir).kafka!;
    const adapter = {} as KafkaAdapter;
    const pg = { kind: 'postgres' } as Db;
    expect(new KafkaIngestor({ db: pg, adapter, config }).tuning).toEqual({ partitionsConcurrently: 2, lanes: 8, chunkSize: 1000, maxSignalsPerTransaction: 20_000 });
    expect(new KafkaIngestor({ db: pg, adapter, config, lanes: 2, concurrency: 6 }).tuning).toMatchObject({ partitionsConcurrently: 6, lanes: 2 });
    const bare = { ...config, lanes: undefined, chunkSize: undefined };
    expect(new KafkaIngestor({ db: { kind: 'pglite' } as Db, adapter, config: bare }).tuning).toEqual({ partitionsConcurrently: 1, lanes: 1, chunkSize: 5000, maxSignalsPerTransaction: 20_000 });
  });

  it('without a file there are no sources and no sinks', () => {
    const c = loadSourcesConfig({}, dir);
    expect(c.kafka).toBeUndefined();
    expect(c.sinks).toEqual([]);
    expect(c.sns.subscriptions).toEqual([]);
  });

  it('names every field at fault', () => {
    const f = file(
      'bad.json',
      JSON.stringify({
        kafka: { subscriptions: [{ topic: 'bad topic!', name: { header: 'a', field: 'b' } }, { name: 'x', dedupe: 'never' }], extra: 1, lanes: 0, chunkSize: 1e9, partitionsConcurrently: 'many' },
        sns: { verifySignatures: 'no', certificateHosts: '(', subscriptions: [{ topicArn: 'arn:nope' }] },
        sinks: [{ name: 'a', type: 'smtp' }, { name: 'a', type: 'kafka', topic: 't', events: ['everything'] }],
        outbox: { leaseMs: -1 },
      }),
    );
    let err: SourcesConfigError | undefined;
    try {
      loadSourcesConfig({ BATON_SOURCES_CONFIG: f, BATON_SNS_VERIFY_SIGNATURES: 'maybe' }, dir);
    } catch (e) {
      err = e as SourcesConfigError;
    }
    expect(err).toBeInstanceOf(SourcesConfigError);
    const fields = err!.errors.map((e) => e.field).sort();
    expect(fields).toEqual(
      [
        'BATON_SNS_VERIFY_SIGNATURES',
        'kafka.extra',
        'kafka.lanes',
        'kafka.chunkSize',
        'kafka.partitionsConcurrently',
        'kafka.brokers',
        'kafka.subscriptions[0].topic',
        'kafka.subscriptions[0].name',
        'kafka.subscriptions[1].topic',
        'kafka.subscriptions[1].dedupe',
        'sns.certificateHosts',
        'sns.verifySignatures',
        'sns.subscriptions[0].topicArn',
        'sns.subscriptions[0].name',
        'sinks[0].type',
        'sinks[1].name',
        'sinks[1].events[0]',
        'sinks[1].brokers',
        'outbox.leaseMs',
      ].sort(),
    );
    expect(err!.message).toContain(path.join(dir, f));
    expect(() => loadSourcesConfig({ BATON_SOURCES_CONFIG: 'missing.yaml' }, dir)).toThrow(/BATON_SOURCES_CONFIG: cannot read/);
    expect(() => loadSourcesConfig({ BATON_SOURCES_CONFIG: file('broken.yaml', 'kafka: [\n') }, dir)).toThrow(/not valid YAML/);
  });
});

describe('message mapping', () => {
  const mapping = { name: { field: 'kind' }, params: { id: { field: 'items.0.id' }, tenant: { header: 'tenant' }, opt: { field: 'nope', optional: true } }, payload: { field: 'items' } } as const;

  it('reads fields (with array indexes), headers and fixed values', () => {
    expect(mapMessage(mapping, { body: { kind: 'a/b', items: [{ id: 7n }] }, headers: { tenant: 't1' } })).toEqual({ name: 'a/b', params: { id: 7n, tenant: 't1' }, payload: [{ id: 7n }] });
  });

  it('says which source is missing or mistyped', () => {
    expect(() => mapMessage(mapping, { body: { items: [] }, headers: {} })).toThrow('signal name from field "kind" is missing');
    expect(() => mapMessage(mapping, { body: { kind: 'a', items: [{}] }, headers: {} })).toThrow('param "id": field "items.0.id" is missing');
    expect(() => mapMessage(mapping, { body: { kind: 'a', items: [{ id: 1.5 }] }, headers: {} })).toThrow('param "id": field "items.0.id" must be a string or an integer (got number)');
    expect(() => mapMessage(mapping, { body: undefined, headers: {} })).toThrow('message is not JSON');
  });

  it('parses message JSON exactly, big integers as bigint', () => {
    expect(parseMessageJson('{"a": 9007199254740993, "b": 12, "c": 1.5}')).toEqual({ a: 9007199254740993n, b: 12, c: 1.5 });
    expect(parseMessageJson('{"a": 123456789012345, "b": "9007199254740993"}')).toEqual({ a: 123456789012345, b: '9007199254740993' });
    expect(() => parseMessageJson('{"a":')).toThrow(SyntaxError);
  });

  it('hashes dedupe keys that would be too long', () => {
    expect(dedupeRequestId('sns', 'abc')).toBe('sns:abc');
    expect(dedupeRequestId('sns', 'x'.repeat(600))).toMatch(/^sns:sha256:[0-9a-f]{64}$/);
  });
});

describe('Kafka message conversion', () => {
  const msg = (value: string | null, headers: Record<string, string> = {}, offset = '5'): InboundMessage => ({ topic: 't', partition: 1, offset, key: null, value: value === null ? null : Buffer.from(value), headers, timestamp: '0' });
  const json: KafkaSubscriptionConfig = { topic: 't', format: 'json', mapping: { name: { value: 'orders' }, params: { id: { field: 'id' } }, payload: 'none' }, cloudevents: { nameAttribute: 'type', params: 'data' }, dedupe: 'offset' };

  it('keys on topic-partition-offset, a header or a field', () => {
    expect(convert(json, msg('{"id": 12345678901234567890}'))).toMatchObject({ ok: false });
    expect(convert(json, msg('{"id": 1234567890123456789}'))).toEqual({ ok: true, signal: expect.objectContaining({ name: 'orders', params: { id: 1234567890123456789n }, requestId: 'kafka:t:1:5', instanceId: 'kafka:t:1:5' }) });
    expect(convert({ ...json, dedupe: { header: 'h' } }, msg('{"id": 1}', { h: 'k-1' }))).toMatchObject({ ok: true, signal: { requestId: 'kafka:t:k-1' } });
    expect(convert({ ...json, dedupe: { field: 'id' } }, msg('{"id": 1}'))).toMatchObject({ ok: true, signal: { requestId: 'kafka:t:1' } });
    expect(convert({ ...json, dedupe: { header: 'h' } }, msg('{"id": 1}'))).toEqual({ ok: false, reason: 'dedupe key header "h" is missing' });
    expect(convert(json, msg('nope'))).toEqual({ ok: false, reason: expect.stringMatching(/^value is not valid JSON/) });
  });

  it('reads binary-mode CloudEvents from ce_ headers', () => {
    const ce: KafkaSubscriptionConfig = { ...json, format: 'cloudevents' };
    const headers = { ce_specversion: '1.0', ce_id: 'x1', ce_source: 'src', ce_type: 'orders/paid', 'content-type': 'application/json' };
    expect(convert(ce, msg('{"id": "o-1", "amount": 3.5}', headers))).toMatchObject({ ok: true, signal: { name: 'orders/paid', params: { id: 'o-1' }, requestId: 'ce:3:src:x1' } });
    expect(convert(ce, msg('{"id": "o-1"}', { ...headers, ce_type: '' }))).toEqual({ ok: false, reason: 'headers: CloudEvent is missing required attribute type' });
    const structured = JSON.stringify({ specversion: '1.0', id: 'x2', source: 'src', type: 'orders/paid', data: { id: 'o-2' } });
    expect(convert(ce, msg(structured))).toMatchObject({ ok: true, signal: { params: { id: 'o-2' }, requestId: 'ce:3:src:x2' } });
  });

  it('maps CloudEvents by a configured attribute and data fields', () => {
    const event = parseBinaryKafkaEvent({ ce_specversion: '1.0', ce_id: '1', ce_source: 's', ce_type: 't', ce_signal: 'db/orders', ce_subject: 'sub' }, Buffer.from('{"a": {"b": 2}}'));
    expect(cloudEventToSignal(event, { nameAttribute: 'signal', params: { b: { field: 'a.b' }, subject: { header: 'subject' } } })).toMatchObject({ name: 'db/orders', params: { b: 2, subject: 'sub' } });
    expect(() => cloudEventToSignal(event, { nameAttribute: 'other', params: 'data' })).toThrow('CloudEvent attribute "other" (the signal name) is missing');
  });
});
