/**
 * The small surface Baton needs from a Kafka client, so the client library can be swapped
 * (kafkajs is the one shipped: see kafkajs-adapter.ts).
 */

export interface InboundMessage {
  topic: string;
  partition: number;
  /** The offset as decimal text (64-bit). */
  offset: string;
  key: Buffer | null;
  value: Buffer | null;
  /** Header values as UTF-8 text; a repeated header keeps its last value. */
  headers: Record<string, string | undefined>;
  /** Broker or producer timestamp, epoch milliseconds as text. */
  timestamp: string;
}

/** One fetched batch of one partition, handed to the handler in offset order. */
export interface InboundBatch {
  topic: string;
  partition: number;
  messages: InboundMessage[];
  /** False once the consumer is stopping. */
  isRunning(): boolean;
  /** True when the partition was revoked or sought meanwhile: stop without committing. */
  isStale(): boolean;
  heartbeat(): Promise<void>;
  /**
   * Marks everything up to and including `offset` as processed and commits the next offset for
   * the group. Call only after the messages' effects are durable.
   */
  commit(offset: string): Promise<void>;
}

export interface ConsumerRunOptions {
  topics: string[];
  /** Partitions of different topics/partitions processed at once (default 1). */
  concurrency?: number;
  /** Start of a new group: the earliest offset (true) or only new messages (false). */
  fromBeginning: boolean;
  handler(batch: InboundBatch): Promise<void>;
}

export interface KafkaConsumerAdapter {
  /** Joins the group and runs until stop(); rejects when it cannot connect or subscribe. */
  start(opts: ConsumerRunOptions): Promise<void>;
  /** Leaves the group cleanly: waits for the batch in flight, then disconnects. */
  stop(): Promise<void>;
  /** Called when the client crashed and gave up (after its own retries). */
  onCrash(listener: (err: Error) => void): void;
}

export interface OutboundMessage {
  key?: string | null;
  value: string | Buffer | null;
  headers?: Record<string, string>;
}

export interface KafkaProducerAdapter {
  connect(): Promise<void>;
  /** Sends and waits for acknowledgement by all in-sync replicas. */
  send(topic: string, messages: OutboundMessage[]): Promise<void>;
  disconnect(): Promise<void>;
}

export interface KafkaAdapter {
  consumer(groupId: string): KafkaConsumerAdapter;
  producer(): KafkaProducerAdapter;
}
