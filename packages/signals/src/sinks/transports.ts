import { PublishBatchCommand, SNSClient, type PublishBatchRequestEntry } from '@aws-sdk/client-sns';
import type { SinkConfig } from '../sources/config.js';
import type { KafkaAdapter, KafkaProducerAdapter } from '../sources/kafka/adapter.js';
import type { OutboxRecord } from './outbox.js';

/**
 * Delivers claimed outbox records to one sink. Resolves to the records that failed (by id, with
 * the reason); an empty map means the sink acknowledged all of them. Throwing means none were.
 */
export interface OutboundTransport {
  send(records: readonly OutboxRecord[]): Promise<Map<string, string>>;
  close(): Promise<void>;
}

export const EVENT_ID_HEADER = 'baton-event-id';
export const EVENT_TYPE_HEADER = 'baton-event-type';

/** To a Kafka topic: value = the CloudEvents JSON, key = signal name or workflow instance. */
export class KafkaTransport implements OutboundTransport {
  private connected: Promise<void> | undefined;

  constructor(
    private readonly producer: KafkaProducerAdapter,
    private readonly topic: string,
  ) {}

  async send(records: readonly OutboxRecord[]): Promise<Map<string, string>> {
    this.connected ??= this.producer.connect().catch((err: unknown) => {
      this.connected = undefined;
      throw err;
    });
    await this.connected;
    await this.producer.send(
      this.topic,
      records.map((r) => ({
        key: r.key,
        value: r.body,
        headers: { 'content-type': 'application/cloudevents+json; charset=utf-8', [EVENT_ID_HEADER]: r.eventId, [EVENT_TYPE_HEADER]: r.eventType },
      })),
    );
    return new Map();
  }

  async close(): Promise<void> {
    if (this.connected) await this.producer.disconnect().catch(() => {});
    this.connected = undefined;
  }
}

/** To an SNS topic with PublishBatch (10 per request); FIFO topics dedupe on the event id as well. */
export class SnsTransport implements OutboundTransport {
  private readonly fifo: boolean;

  constructor(
    private readonly client: SNSClient,
    private readonly topicArn: string,
  ) {
    this.fifo = topicArn.endsWith('.fifo');
  }

  async send(records: readonly OutboxRecord[]): Promise<Map<string, string>> {
    const failed = new Map<string, string>();
    for (let i = 0; i < records.length; i += 10) {
      const chunk = records.slice(i, i + 10);
      const entries: PublishBatchRequestEntry[] = chunk.map((r, j) => ({
        Id: `e${j}`,
        Message: r.body,
        MessageAttributes: {
          [EVENT_ID_HEADER]: { DataType: 'String', StringValue: r.eventId },
          [EVENT_TYPE_HEADER]: { DataType: 'String', StringValue: r.eventType },
        },
        ...(this.fifo ? { MessageGroupId: (r.key ?? 'baton').slice(0, 128), MessageDeduplicationId: r.eventId } : {}),
      }));
      try {
        const res = await this.client.send(new PublishBatchCommand({ TopicArn: this.topicArn, PublishBatchRequestEntries: entries }));
        for (const f of res.Failed ?? []) {
          const rec = chunk[Number(f.Id?.slice(1))];
          if (rec) failed.set(String(rec.id), `${f.Code ?? 'error'}: ${f.Message ?? 'SNS refused the message'}`);
        }
      } catch (err) {
        for (const r of chunk) failed.set(String(r.id), (err as Error).message);
      }
    }
    return failed;
  }

  async close(): Promise<void> {
    this.client.destroy();
  }
}

export interface TransportDeps {
  /** Makes the Kafka client for a sink's brokers (default: kafkajs). */
  kafka?: (brokers: string[]) => KafkaAdapter;
  /** Makes the SNS client for a sink (default: @aws-sdk/client-sns with the default credentials chain). */
  sns?: (sink: Extract<SinkConfig, { type: 'sns' }>) => SNSClient;
}

/** The transport for a configured sink. */
export async function createTransport(sink: SinkConfig, deps: TransportDeps = {}): Promise<OutboundTransport> {
  if (sink.type === 'kafka') {
    const make = deps.kafka ?? (await defaultKafka());
    return new KafkaTransport(make(sink.brokers).producer(), sink.topic);
  }
  const client = deps.sns ? deps.sns(sink) : new SNSClient({ ...(sink.region ? { region: sink.region } : {}), ...(sink.endpoint ? { endpoint: sink.endpoint } : {}) });
  return new SnsTransport(client, sink.topicArn);
}

async function defaultKafka(): Promise<(brokers: string[]) => KafkaAdapter> {
  const { KafkajsAdapter } = await import('../sources/kafka/kafkajs-adapter.js');
  return (brokers) => new KafkajsAdapter({ brokers, clientId: 'baton-outbound' });
}
