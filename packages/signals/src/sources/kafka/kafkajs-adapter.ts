import { Kafka, logLevel, Partitioners, type Consumer, type IHeaders, type KafkaConfig, type Producer } from 'kafkajs';
import type { ConsumerRunOptions, InboundMessage, KafkaAdapter, KafkaConsumerAdapter, KafkaProducerAdapter, OutboundMessage } from './adapter.js';

export interface KafkajsAdapterOptions {
  brokers: string[];
  clientId?: string;
  /** kafkajs log level (default: errors only; kafkajs is chatty about rebalances). */
  logLevel?: logLevel;
  /** Group session timeout: how soon a killed member's partitions move to another (default 10 s). */
  sessionTimeoutMs?: number;
  /** Extra kafkajs client settings (SSL, SASL, ...). */
  client?: Omit<KafkaConfig, 'brokers' | 'clientId' | 'logLevel'>;
  /**
   * Bytes fetched per partition at most (default 4 MiB) and per fetch (default 16 MiB). kafkajs
   * fetches again only once every batch of the last fetch was handled, so the database waits
   * between fetches: larger batches make that wait rarer and let the ingestor convert a batch's
   * next chunk while the previous one is stored.
   */
  maxBytesPerPartition?: number;
  maxBytes?: number;
}

/** See KafkajsAdapterOptions.maxBytesPerPartition. */
const FETCH = { maxBytesPerPartition: 4 * 1024 * 1024, maxBytes: 16 * 1024 * 1024 };

/** The headers of a message without any (most): shared, and frozen so no reader can change it. */
const NO_HEADERS: Record<string, string | undefined> = Object.freeze({});

function headerText(headers: IHeaders | undefined): Record<string, string | undefined> {
  if (!headers) return NO_HEADERS;
  let any = false;
  for (const _k in headers) {
    any = true;
    break;
  }
  if (!any) return NO_HEADERS;
  const out: Record<string, string | undefined> = {};
  for (const [k, v] of Object.entries(headers)) {
    const last = Array.isArray(v) ? v[v.length - 1] : v;
    out[k] = last === undefined ? undefined : last.toString();
  }
  return out;
}

class KafkajsConsumer implements KafkaConsumerAdapter {
  private readonly consumer: Consumer;
  private readonly crashListeners: ((err: Error) => void)[] = [];

  constructor(kafka: Kafka, groupId: string, sessionTimeout: number, fetch: typeof FETCH) {
    this.consumer = kafka.consumer({ groupId, sessionTimeout, heartbeatInterval: Math.max(500, Math.floor(sessionTimeout / 5)), allowAutoTopicCreation: false, ...fetch });
    this.consumer.on(this.consumer.events.CRASH, (e) => {
      // kafkajs restarts the consumer itself for retriable errors; report only when it gave up.
      if (!e.payload.restart) for (const l of this.crashListeners) l(e.payload.error);
    });
  }

  onCrash(listener: (err: Error) => void): void {
    this.crashListeners.push(listener);
  }

  async start(opts: ConsumerRunOptions): Promise<void> {
    await this.consumer.connect();
    await this.consumer.subscribe({ topics: opts.topics, fromBeginning: opts.fromBeginning });
    await this.consumer.run({
      autoCommit: false,
      eachBatchAutoResolve: false,
      partitionsConsumedConcurrently: opts.concurrency ?? 1,
      eachBatch: async ({ batch, resolveOffset, commitOffsetsIfNecessary, heartbeat, isRunning, isStale }) => {
        const messages: InboundMessage[] = batch.messages.map((m) => ({
          topic: batch.topic,
          partition: batch.partition,
          offset: m.offset,
          key: m.key ?? null,
          value: m.value ?? null,
          headers: headerText(m.headers),
          timestamp: m.timestamp,
        }));
        await opts.handler({
          topic: batch.topic,
          partition: batch.partition,
          messages,
          isRunning,
          isStale,
          heartbeat,
          commit: async (offset) => {
            resolveOffset(offset);
            const next = (BigInt(offset) + 1n).toString();
            await commitOffsetsIfNecessary({ topics: [{ topic: batch.topic, partitions: [{ partition: batch.partition, offset: next }] }] });
          },
        });
      },
    });
  }

  async stop(): Promise<void> {
    await this.consumer.disconnect();
  }
}

class KafkajsProducer implements KafkaProducerAdapter {
  private readonly producer: Producer;
  constructor(kafka: Kafka) {
    this.producer = kafka.producer({ createPartitioner: Partitioners.DefaultPartitioner, idempotent: true, maxInFlightRequests: 1, allowAutoTopicCreation: true });
  }
  connect(): Promise<void> {
    return this.producer.connect();
  }
  async send(topic: string, messages: OutboundMessage[]): Promise<void> {
    if (messages.length === 0) return;
    await this.producer.send({ topic, acks: -1, messages: messages.map((m) => ({ key: m.key ?? null, value: m.value, headers: m.headers })) });
  }
  disconnect(): Promise<void> {
    return this.producer.disconnect();
  }
}

/** The shipped KafkaAdapter, on kafkajs. */
export class KafkajsAdapter implements KafkaAdapter {
  readonly kafka: Kafka;
  private readonly sessionTimeout: number;
  private readonly fetch: typeof FETCH;

  constructor(opts: KafkajsAdapterOptions) {
    this.fetch = { maxBytesPerPartition: opts.maxBytesPerPartition ?? FETCH.maxBytesPerPartition, maxBytes: opts.maxBytes ?? FETCH.maxBytes };
    this.kafka = new Kafka({ ...opts.client, brokers: opts.brokers, clientId: opts.clientId ?? 'baton', logLevel: opts.logLevel ?? logLevel.ERROR });
    this.sessionTimeout = opts.sessionTimeoutMs ?? 10_000;
  }

  consumer(groupId: string): KafkaConsumerAdapter {
    return new KafkajsConsumer(this.kafka, groupId, this.sessionTimeout, this.fetch);
  }

  producer(): KafkaProducerAdapter {
    return new KafkajsProducer(this.kafka);
  }
}
