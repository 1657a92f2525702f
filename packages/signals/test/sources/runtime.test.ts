import { afterAll, beforeAll, expect, it } from 'vitest';
import { SNSClient } from '@aws-sdk/client-sns';
import { migrate, PGliteDb } from '@baton/engine-core';
import { signalsMigrations } from '../../src/migrations.js';
import { SignalService } from '../../src/service.js';
import { validateSourcesConfig } from '../../src/sources/config.js';
import { SourcesRuntime } from '../../src/sources/runtime.js';

let db: PGliteDb;
beforeAll(async () => {
  db = await PGliteDb.open({});
  await migrate(db, [signalsMigrations]);
});
afterAll(async () => {
  await db?.close();
});

it('builds every source and sink from the configuration and reports their metrics', async () => {
  const errors: { field: string; message: string }[] = [];
  const config = validateSourcesConfig(
    {
      sns: { subscriptions: [{ topicArn: '*', name: 'sns/any' }] },
      cloudevents: { nameAttribute: 'signal' },
      sinks: [{ name: 'unreachable', type: 'sns', topicArn: 'arn:aws:sns:us-east-1:123456789012:out', endpoint: 'http://127.0.0.1:9', events: ['signal'] }],
      outbox: { pollMs: 20, minBackoffMs: 5000 },
    },
    errors,
  );
  expect(errors).toEqual([]);
  const signals = new SignalService(db, {
    starter: {
      startWorkflow() {
        throw new Error('nothing subscribes here');
      },
    },
    expressions: { condition: () => true, dedupKey: () => undefined },
  });
  const rt = new SourcesRuntime({
    db,
    signals,
    config,
    transportDeps: { sns: (s) => new SNSClient({ endpoint: s.endpoint, region: s.region, credentials: { accessKeyId: 'x', secretAccessKey: 'x' }, maxAttempts: 1 }) },
  });
  expect(rt.kafka).toBeUndefined();
  await rt.start();
  try {
    const [res] = await rt.cloudevents.publish([{ specversion: '1.0', id: '1', source: 's', type: 't', signal: 'ce/named', data: { k: 'v' } }], 'structured');
    expect(res).toMatchObject({ name: 'ce/named', duplicate: false });
    await db.tx((tx) => rt.outbound.enqueueOutbound(tx, { kind: 'signal', name: res!.name, seq_id: res!.seq_id, instance_id: res!.instance_id, params: { k: 'v' } }));
    const deadline = Date.now() + 10_000;
    while ((await rt.metrics()).outbound.unreachable!.failed === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const m = await rt.metrics();
    expect(m.outbound.unreachable).toEqual({ delivered: 0, failed: 1 });
    expect(m.backlog).toEqual([{ sink: 'unreachable', count: 1, oldestAgeMs: expect.any(Number) }]);
    expect(m.sns).toEqual({ indexed: 0, duplicates: 0, rejected: 0, confirmed: 0 });
  } finally {
    await rt.stop();
  }
});
