import { tmpdir } from 'node:os';
import { migrate, PGliteDb } from '@baton/engine-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { createLogger } from '../src/logger.js';
import { packageMigrations } from '../src/migrations.js';
import { loadServiceSettings } from '../src/service-config.js';
import { createServices, type BatonServices } from '../src/services.js';
import { publishedSignalsOutbound } from '../src/wiring/outbound.js';
import type { SinkConfig } from '../src/wiring/signals-sources.js';
import { GroupCommitter } from '../../signals/src/sources/kafka/group-commit.js';
import { normalizeBatch } from '../../signals/src/validate.js';

let db: PGliteDb;
let services: BatonServices;

const sinks: SinkConfig[] = [
  { name: 'tables', type: 'kafka', topic: 'baton-out', brokers: ['127.0.0.1:1'], events: ['signal'], signalPrefixes: ['db/'] },
  { name: 'runs', type: 'kafka', topic: 'baton-runs', brokers: ['127.0.0.1:1'], events: ['workflow'] },
];

beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [...packageMigrations]);
  const base = loadServiceSettings({}, tmpdir());
  const sns = {
    ...base.sources.sns,
    verifySignatures: false,
    subscriptions: [{ topicArn: '*', format: 'json' as const, mapping: { name: { value: 'db/sns' }, params: { id: { field: 'id' } }, payload: 'none' as const }, cloudevents: { nameAttribute: 'type', params: 'data' as const } }],
  };
  // Built, not started: the outbox is filled in the publishing transaction, whether or not a
  // publisher is running to drain it.
  services = createServices({ db, logger: createLogger('warn'), settings: { ...base, sources: { ...base.sources, sns, sinks } } });
}, 60_000);
afterAll(async () => {
  await db?.close();
});

async function outbox(): Promise<Array<{ sink: string; name: string; seq_id: number }>> {
  const r = await db.query<{ sink: string; body: string }>('SELECT sink, body FROM signal_outbox ORDER BY id');
  return r.rows.map((row) => {
    const body = JSON.parse(row.body) as { name?: string; seq_id?: number; data?: { name: string; seq_id: number } };
    const e = body.data ?? body;
    return { sink: row.sink, name: e.name!, seq_id: e.seq_id! };
  });
}

it('enqueues signals published over REST, publishInTx and SNS for the sinks that take them, once', async () => {
  await services.signals.publish([{ name: 'db/rest', params: { day: 1 } }, { name: 'other/rest' }], { type: 'REST' });
  expect(await outbox()).toEqual([{ sink: 'tables', name: 'db/rest', seq_id: 1 }]);

  // A duplicate stores nothing and sends nothing.
  await services.signals.publish([{ name: 'db/rest', params: { day: 1 } }], { type: 'REST' });
  expect(await outbox()).toHaveLength(1);

  await db.tx((tx) => services.signals.publishInTx(tx, [{ name: 'db/intx' }], { type: 'REST' }));
  const sns = await services.sources.sns.handle({ Type: 'Notification', MessageId: 'm-1', TopicArn: 'arn:aws:sns:eu-west-1:1:t', Message: '{"id": "a"}', Timestamp: '2026-01-01T00:00:00Z' });
  expect(sns).toMatchObject({ status: 200, kind: 'indexed' });
  expect(await outbox()).toEqual([
    { sink: 'tables', name: 'db/rest', seq_id: 1 },
    { sink: 'tables', name: 'db/intx', seq_id: 1 },
    { sink: 'tables', name: 'db/sns', seq_id: 1 },
  ]);
});

it('rolls the outbox row back with the signal when the publishing transaction fails', async () => {
  await expect(
    db.tx(async (tx) => {
      await services.signals.publishInTx(tx, [{ name: 'db/rolled-back' }], { type: 'REST' });
      throw new Error('caller failed after publishing');
    }),
  ).rejects.toThrow('caller failed after publishing');
  expect((await outbox()).map((e) => e.name)).not.toContain('db/rolled-back');
});

it('enqueues signals a Kafka consumer stores, in its group-commit transaction', async () => {
  // The committer the Kafka ingestor builds with the hook SourcesRuntime passes it.
  const kafka = new GroupCommitter(db, 100, publishedSignalsOutbound(sinks));
  const batch = normalizeBatch([{ name: 'db/kafka', request_id: 'kafka:t:0:1' }, { name: 'other/kafka', request_id: 'kafka:t:0:2' }]);
  await kafka.publish(batch, { type: 'KAFKA', topic: 't', partition: 0 });
  await kafka.publish(batch, { type: 'KAFKA', topic: 't', partition: 0 });
  expect((await outbox()).filter((e) => e.name.endsWith('kafka'))).toEqual([{ sink: 'tables', name: 'db/kafka', seq_id: 1 }]);
  expect(publishedSignalsOutbound([sinks[1]!])).toBeUndefined();
});
