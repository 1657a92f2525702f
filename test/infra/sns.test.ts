import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  ConfirmSubscriptionCommand,
  CreateTopicCommand,
  GetSubscriptionAttributesCommand,
  PublishCommand,
  SNSClient,
  SubscribeCommand,
  UnsubscribeCommand,
} from '@aws-sdk/client-sns';
import { requireSns } from '../setup/infra.js';

interface Delivery {
  path: string;
  messageType: string | undefined;
  body: Record<string, unknown>;
}

async function readBody(req: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

/**
 * SNS through the emulator end to end: topic, HTTP subscription served by this test, publish,
 * delivery. moto confirms HTTP subscriptions itself; a SubscriptionConfirmation, should one
 * arrive, is confirmed with its token the way a real endpoint would.
 */
describe('SNS round trip (moto)', () => {
  let sns: SNSClient;
  let server: Server;
  let endpointBase: string;
  const deliveries: Delivery[] = [];
  const waiters: Array<() => void> = [];

  beforeAll(async () => {
    const { endpoint, region, credentials } = requireSns();
    sns = new SNSClient({ endpoint, region, credentials });
    server = createServer((req, res) => {
      void readBody(req).then(async (raw) => {
        const body = JSON.parse(raw) as Record<string, unknown>;
        deliveries.push({ path: req.url ?? '', messageType: req.headers['x-amz-sns-message-type'] as string | undefined, body });
        if (body.Type === 'SubscriptionConfirmation') {
          await sns.send(new ConfirmSubscriptionCommand({ TopicArn: String(body.TopicArn), Token: String(body.Token) }));
        }
        res.writeHead(200).end();
        for (const w of waiters.splice(0)) w();
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpointBase = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    sns?.destroy();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  async function notification(messageId: string, timeoutMs = 10_000): Promise<Delivery> {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      const hit = deliveries.find((d) => d.body.Type === 'Notification' && d.body.MessageId === messageId);
      if (hit) return hit;
      await new Promise<void>((resolve) => {
        waiters.push(resolve);
        setTimeout(resolve, 200);
      });
    }
    throw new Error(`no Notification for ${messageId}; deliveries: ${JSON.stringify(deliveries)}`);
  }

  it('delivers a published message to a subscribed HTTP endpoint, and stops after unsubscribe', async () => {
    const { TopicArn } = await sns.send(new CreateTopicCommand({ Name: `baton-roundtrip-${Date.now()}` }));
    expect(TopicArn).toMatch(/^arn:aws:sns:[a-z0-9-]+:\d{12}:baton-roundtrip-\d+$/);

    const { SubscriptionArn } = await sns.send(new SubscribeCommand({ TopicArn, Protocol: 'http', Endpoint: `${endpointBase}/hook`, ReturnSubscriptionArn: true }));
    expect(SubscriptionArn).toMatch(/^arn:aws:sns:/);
    const attrs = await sns.send(new GetSubscriptionAttributesCommand({ SubscriptionArn }));
    expect(attrs.Attributes?.PendingConfirmation).toBe('false');

    const message = JSON.stringify({ signal: 'order.created', params: { id: 42, big: '9007199254740993' } });
    const published = await sns.send(new PublishCommand({ TopicArn, Message: message, Subject: 'baton test' }));
    expect(published.MessageId).toBeTruthy();

    const got = await notification(published.MessageId!);
    expect(got.path).toBe('/hook');
    expect(got.body).toMatchObject({ Type: 'Notification', TopicArn, Message: message, Subject: 'baton test', MessageId: published.MessageId });
    expect(got.body.Signature).toEqual(expect.any(String));

    await sns.send(new UnsubscribeCommand({ SubscriptionArn }));
    const count = deliveries.length;
    const silent = await sns.send(new PublishCommand({ TopicArn, Message: 'after unsubscribe' }));
    await expect(notification(silent.MessageId!, 1000)).rejects.toThrow(/no Notification/);
    expect(deliveries).toHaveLength(count);
  });
});
