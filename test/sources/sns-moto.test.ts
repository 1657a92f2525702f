import { PassThrough } from 'node:stream';
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { CreateTopicCommand, ListSubscriptionsByTopicCommand, PublishCommand, SNSClient } from '@aws-sdk/client-sns';
import { migrate, PgDb, type Queryable, type Workflow } from '@baton/engine-core';
import { SignalService, signalsMigrations, stringifyJson, type StartRequest } from '@baton/signals';
import { createTestDatabase, requireSns, type Database } from '../setup/infra.js';
import { validateSourcesConfig } from '../../packages/signals/src/sources/config.js';
import { SnsIngestor } from '../../packages/signals/src/sources/sns/ingest.js';
import { snsRoutes } from '../../packages/server/src/routes/sns.js';
import { main } from '../../packages/server/src/cli/main.js';

const run = Date.now().toString(36);
let database: Database;
let db: PgDb;
let svc: SignalService;
let app: FastifyInstance;
let sns: SNSClient;
let topicArn: string;
let endpointUrl: string;

/** The engine's side of a start as signals uses it: one row per run, unique by request id. */
const starter = {
  async startWorkflow(tx: Queryable, req: StartRequest) {
    const r = await tx.query<{ id: number }>(
      `INSERT INTO sns_test_starts (workflow_id, request_id, initiator) VALUES ($1, $2, $3::jsonb)
       ON CONFLICT (request_id) DO UPDATE SET request_id = EXCLUDED.request_id RETURNING id`,
      [req.workflowId, req.requestId, stringifyJson(req.initiator)],
    );
    return { workflowInstanceId: r.rows[0]!.id, created: true };
  },
};

beforeAll(async () => {
  database = await createTestDatabase();
  db = new PgDb({ connectionString: database.url, max: 6 });
  await migrate(db, [signalsMigrations]);
  await db.exec('CREATE TABLE sns_test_starts (id BIGSERIAL PRIMARY KEY, workflow_id TEXT NOT NULL, request_id TEXT NOT NULL UNIQUE, initiator JSONB NOT NULL)');
  svc = new SignalService(db, { starter, expressions: { condition: () => true, dedupKey: () => undefined }, sweepIntervalMs: 200 });
  await svc.start();
  const workflow: Workflow = {
    id: 'order-etl',
    tags: [],
    params: {},
    timeTriggers: [],
    signalTriggers: [{ definitions: { 'orders/created': { matchParams: { region: { value: 'eu', operator: '=' } }, joinKeys: [] } }, params: {} }],
    steps: [],
  };
  await svc.syncSubscriptions('order-etl', { workflowId: 'order-etl', version: 1, workflow });

  const { endpoint, region, credentials } = requireSns();
  sns = new SNSClient({ endpoint, region, credentials });
  ({ TopicArn: topicArn } = (await sns.send(new CreateTopicCommand({ Name: `baton-ingest-${run}` }))) as { TopicArn: string });

  const errors: { field: string; message: string }[] = [];
  // moto signs with a placeholder key, so verification is turned off explicitly, as for any emulator.
  const config = validateSourcesConfig(
    { sns: { verifySignatures: false, subscriptions: [{ topicArn, name: { field: 'event' }, params: { order_id: { field: 'order.id' }, region: { field: 'order.region' } } }] } },
    errors,
  );
  expect(errors).toEqual([]);
  app = Fastify();
  await app.register(snsRoutes, { sns: new SnsIngestor({ db, config: config.sns }) });
  await app.listen({ host: '127.0.0.1', port: 0 });
  endpointUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}/api/v3/sns`;
});

afterAll(async () => {
  await app?.close();
  await svc?.stop();
  sns?.destroy();
  await db?.close();
  await database?.drop();
});

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = '';
  let err = '';
  stdout.on('data', (d: Buffer) => (out += d.toString()));
  stderr.on('data', (d: Buffer) => (err += d.toString()));
  const { credentials } = requireSns();
  const code = await main(args, { stdout, stderr, cwd: process.cwd(), env: { AWS_ACCESS_KEY_ID: credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey } });
  return { code, out, err };
}

async function until<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

it('baton sns subscribe checks its arguments', async () => {
  expect((await cli(['sns', 'subscribe', '--endpoint', endpointUrl])).code).toBe(2);
  const bad = await cli(['sns', 'subscribe', '--topic-arn', 'arn:nope', '--endpoint', endpointUrl]);
  expect(bad.code).toBe(2);
  expect(bad.err).toMatch(/is not an SNS topic ARN/);
  expect((await cli(['sns', 'subscribe', '--topic-arn', topicArn, '--endpoint', 'ftp://x'])).code).toBe(2);
});

it('topic → `baton sns subscribe` → publish: the signal is indexed once and the subscribed workflow trigger fires', async () => {
  const { endpoint } = requireSns();
  const sub = await cli(['sns', 'subscribe', '--topic-arn', topicArn, '--endpoint', endpointUrl, '--sns-endpoint', endpoint, '--json']);
  expect(sub.err).toBe('');
  expect(sub.code).toBe(0);
  const result = JSON.parse(sub.out) as { subscriptionArn: string; pendingConfirmation: boolean };
  expect(result.subscriptionArn).toMatch(/^arn:aws:sns:/);
  const listed = await sns.send(new ListSubscriptionsByTopicCommand({ TopicArn: topicArn }));
  expect(listed.Subscriptions?.map((s) => s.Endpoint)).toEqual([endpointUrl]);

  const message = JSON.stringify({ event: 'orders/created', order: { id: 'o-17', region: 'eu' } });
  const { MessageId } = await sns.send(new PublishCommand({ TopicArn: topicArn, Message: message }));
  const inst = await until('the signal', async () => (await svc.listInstances('orders/created')).instances[0]);
  expect(inst).toMatchObject({ name: 'orders/created', request_id: `sns:${MessageId}`, params: { order_id: 'o-17', region: 'eu' }, source: { type: 'SNS', topicArn, messageId: MessageId } });

  // The signals trigger of the subscribed workflow consumed it (the starter here is the port's
  // table double; the engine's real starter plugs in at the same port).
  const start = await until('the trigger firing', async () => (await db.query<{ workflow_id: string; initiator: { signals: { name: string }[] } }>('SELECT workflow_id, initiator FROM sns_test_starts')).rows[0]);
  expect(start.workflow_id).toBe('order-etl');
  expect(start.initiator.signals.map((s) => s.name)).toEqual(['orders/created']);

  const other = await sns.send(new PublishCommand({ TopicArn: topicArn, Message: JSON.stringify({ event: 'orders/created', order: { id: 'o-18', region: 'us' } }) }));
  await until('the second signal', async () => ((await svc.listInstances('orders/created')).instances.length === 2 ? true : undefined));
  expect((await svc.listInstances('orders/created')).instances.map((i) => i.request_id).sort()).toEqual([`sns:${MessageId}`, `sns:${other.MessageId}`].sort());
  await svc.drain();
  expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM sns_test_starts')).rows[0]!.n).toBe(1);
});
