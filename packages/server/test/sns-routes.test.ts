import { execFileSync } from 'node:child_process';
import { createSign } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { migrate, PGliteDb } from '@baton/engine-core';
import { signalsMigrations } from '@baton/signals';
import { validateSourcesConfig } from '../../signals/src/sources/config.js';
import { SnsIngestor } from '../../signals/src/sources/sns/ingest.js';
import { canonicalString, type SnsMessage } from '../../signals/src/sources/sns/verify.js';
import { snsRoutes } from '../src/routes/sns.js';

const TOPIC = 'arn:aws:sns:us-east-1:123456789012:orders';
const CERT_URL = 'https://sns.us-east-1.amazonaws.com/SimpleNotificationService-baton-test.pem';

let dir: string;
let key: string;
let otherKey: string;
let cert: string;
let db: PGliteDb;
let app: FastifyInstance;
let unsignedApp: FastifyInstance;
let confirmServer: Server;
let confirmBase: string;
const certFetches: string[] = [];
const confirmations: string[] = [];

/** A key pair and a self-signed certificate made with openssl for this run. */
function makeKeyAndCert(name: string): { key: string; cert: string } {
  const keyFile = path.join(dir, `${name}.key`);
  const certFile = path.join(dir, `${name}.pem`);
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', keyFile, '-out', certFile, '-days', '2', '-subj', '/CN=sns.amazonaws.com'], { stdio: 'ignore' });
  return { key: readFileSync(keyFile, 'utf8'), cert: readFileSync(certFile, 'utf8') };
}

function sign(msg: Omit<SnsMessage, 'Signature'>, withKey = key): SnsMessage {
  const s = createSign(msg.SignatureVersion === '1' ? 'RSA-SHA1' : 'RSA-SHA256');
  s.update(canonicalString(msg as SnsMessage));
  return { ...msg, Signature: s.sign(withKey, 'base64') };
}

let counter = 0;
function notification(message: object | string, extra: Partial<SnsMessage> = {}): Omit<SnsMessage, 'Signature'> {
  return {
    Type: 'Notification',
    MessageId: `msg-${++counter}-${Date.now()}`,
    TopicArn: TOPIC,
    Subject: 'order event',
    Message: typeof message === 'string' ? message : JSON.stringify(message),
    Timestamp: new Date().toISOString(),
    SignatureVersion: '2',
    SigningCertURL: CERT_URL,
    ...extra,
  };
}

function post(target: FastifyInstance, msg: object | string, type?: string) {
  const body = typeof msg === 'string' ? msg : JSON.stringify(msg);
  const headers: Record<string, string> = { 'content-type': 'text/plain; charset=UTF-8' };
  if (type) headers['x-amz-sns-message-type'] = type;
  return target.inject({ method: 'POST', url: '/api/v3/sns', headers, payload: body });
}

async function stored(): Promise<{ request_id: string; params: Record<string, unknown>; payload: unknown }[]> {
  const r = await db.query<{ request_id: string; params: Record<string, unknown>; payload: unknown }>(
    `SELECT request_id, params, payload FROM signal_instances WHERE name = 'orders/created' ORDER BY seq_id`,
  );
  return r.rows;
}

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'baton-sns-'));
  ({ key, cert } = makeKeyAndCert('sns'));
  otherKey = makeKeyAndCert('forger').key;
  db = await PGliteDb.open({});
  await migrate(db, [signalsMigrations]);
  confirmServer = createServer((req, res) => {
    confirmations.push(req.url ?? '');
    res.writeHead(200, { 'content-type': 'text/xml' }).end('<ConfirmSubscriptionResponse/>');
  });
  await new Promise<void>((r) => confirmServer.listen(0, '127.0.0.1', r));
  confirmBase = `http://127.0.0.1:${(confirmServer.address() as AddressInfo).port}`;

  const errors: { field: string; message: string }[] = [];
  const config = validateSourcesConfig(
    { sns: { subscriptions: [{ topicArn: TOPIC, name: { field: 'event' }, params: { order_id: { field: 'order.id' }, channel: { header: 'channel', optional: true } }, payload: { field: 'order' } }] } },
    errors,
  );
  expect(errors).toEqual([]);
  const sns = new SnsIngestor({
    db,
    config: config.sns,
    fetchCertificate: async (url) => {
      certFetches.push(url.href);
      if (url.href !== CERT_URL) throw new Error('not found');
      return cert;
    },
  });
  app = Fastify();
  await app.register(snsRoutes, { sns });
  await app.ready();

  const unsigned = new SnsIngestor({ db, config: { ...config.sns, verifySignatures: false } });
  unsignedApp = Fastify();
  await unsignedApp.register(snsRoutes, { sns: unsigned });
  await unsignedApp.ready();
});

afterAll(async () => {
  await app?.close();
  await unsignedApp?.close();
  await new Promise<void>((r) => (confirmServer ? confirmServer.close(() => r()) : r()));
  await db?.close();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('POST /api/v3/sns', () => {
  it('confirms a signed SubscriptionConfirmation by getting its SubscribeURL', async () => {
    const msg = sign({
      Type: 'SubscriptionConfirmation',
      MessageId: 'confirm-1',
      TopicArn: TOPIC,
      Token: 'token-123',
      Message: 'You have chosen to subscribe to the topic.',
      SubscribeURL: `${confirmBase}/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=token-123`,
      Timestamp: new Date().toISOString(),
      SignatureVersion: '1',
      SigningCertURL: CERT_URL,
    });
    const res = await post(app, msg, 'SubscriptionConfirmation');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ result: 'confirmed', topicArn: TOPIC });
    expect(confirmations).toEqual([`/?Action=ConfirmSubscription&TopicArn=${encodeURIComponent(TOPIC)}&Token=token-123`]);
  });

  it('indexes a signed notification (SignatureVersion 1 and 2) and stores a repeated MessageId once', async () => {
    const v2 = sign(notification({ event: 'orders/created', order: { id: 9007199254740993n.toString(), total: 12 } }, { MessageAttributes: { channel: { Type: 'String', Value: 'web' } } }));
    const r1 = await post(app, v2, 'Notification');
    expect(r1.statusCode).toBe(200);
    expect(r1.json()).toMatchObject({ result: 'indexed', topicArn: TOPIC, signal: { name: 'orders/created', instance_id: `sns:${v2.MessageId}`, duplicate: false } });
    const again = await post(app, v2, 'Notification');
    expect(again.statusCode).toBe(200);
    expect(again.json()).toMatchObject({ result: 'duplicate', signal: { duplicate: true, seq_id: r1.json().signal.seq_id } });

    const v1 = sign(notification({ event: 'orders/created', order: { id: 'A-2' } }, { SignatureVersion: '1', Subject: undefined }));
    delete (v1 as Partial<SnsMessage>).Subject;
    const r3 = await post(app, v1);
    expect(r3.statusCode).toBe(200);

    const rows = await stored();
    expect(rows.map((r) => r.request_id)).toEqual([`sns:${v2.MessageId}`, `sns:${v1.MessageId}`]);
    expect(rows[0]!.params).toEqual({ order_id: '9007199254740993', channel: 'web' });
    expect(rows[0]!.payload).toEqual({ id: '9007199254740993', total: 12 });
    expect(rows[1]!.params).toEqual({ order_id: 'A-2' });
    // One download, then the cache.
    expect(certFetches).toEqual([CERT_URL]);
  });

  it('answers 403 and stores nothing for tampered, forged or badly sourced signatures', async () => {
    const before = (await stored()).length;
    const good = sign(notification({ event: 'orders/created', order: { id: 'T-1' } }));
    const cases: [string, object][] = [
      ['tampered message', { ...good, Message: JSON.stringify({ event: 'orders/created', order: { id: 'T-666' } }) }],
      ['tampered message id', { ...good, MessageId: 'other-id' }],
      ['forged with another key', sign(notification({ event: 'orders/created', order: { id: 'F-1' } }), otherKey)],
      ['signature missing', { ...good, Signature: undefined }],
      ['garbage signature', { ...good, Signature: 'AAAA' }],
      ['unknown signature version', { ...good, SignatureVersion: '3' }],
      ['certificate on another host', sign(notification({ event: 'orders/created', order: { id: 'H-1' } }, { SigningCertURL: 'https://sns.evil.example.com/cert.pem' }))],
      ['certificate host suffix trick', sign(notification({ event: 'orders/created', order: { id: 'H-2' } }, { SigningCertURL: 'https://sns.us-east-1.amazonaws.com.evil.example/cert.pem' }))],
      ['certificate over http', sign(notification({ event: 'orders/created', order: { id: 'H-3' } }, { SigningCertURL: CERT_URL.replace('https:', 'http:') }))],
      ['unconfigured topic', sign(notification({ event: 'orders/created', order: { id: 'U-1' } }, { TopicArn: 'arn:aws:sns:us-east-1:123456789012:other' }))],
    ];
    for (const [what, msg] of cases) {
      const res = await post(app, msg);
      expect(res.statusCode, what).toBe(403);
      expect(res.headers['content-type']).toMatch(/application\/problem\+json/);
    }
    expect((await stored()).length).toBe(before);
    expect(certFetches).toEqual([CERT_URL]);
  });

  it('rejects bodies that are not SNS messages and notifications the mapping cannot use with 400', async () => {
    expect((await post(app, 'not json')).statusCode).toBe(400);
    expect((await post(app, { Type: 'Notification' })).statusCode).toBe(400);
    const wrongHeader = sign(notification({ event: 'orders/created', order: { id: 'W-1' } }));
    expect((await post(app, wrongHeader, 'SubscriptionConfirmation')).statusCode).toBe(400);
    const unmappable = await post(app, sign(notification({ event: 'orders/created', order: { total: 3 } })));
    expect(unmappable.statusCode).toBe(400);
    expect(unmappable.json().detail).toMatch(/param "order_id": field "order.id" is missing/);
    const badName = await post(app, sign(notification({ event: 'orders//created', order: { id: 'X' } })));
    expect(badName.statusCode).toBe(400);
    expect(badName.json().detail).toMatch(/name: must not have empty path segments/);
    expect((await stored()).every((r) => !['W-1', 'X'].includes(String(r.params.order_id)))).toBe(true);
  });

  it('accepts unsigned messages only where verification was explicitly turned off', async () => {
    const msg = { ...notification({ event: 'orders/created', order: { id: 'E-1' } }), Signature: 'EXAMPLE', SigningCertURL: 'http://localhost/moto.pem' };
    expect((await post(app, msg)).statusCode).toBe(403);
    const res = await post(unsignedApp, msg);
    expect(res.statusCode).toBe(200);
    expect(res.json().result).toBe('indexed');
    expect((await stored()).filter((r) => r.params.order_id === 'E-1')).toHaveLength(1);
  });
});
