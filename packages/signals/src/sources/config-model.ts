/**
 * The shape of the sources and sinks configuration (Kafka and SNS sources, outbound sinks, the
 * outbox) and its defaults. `config.ts` reads and validates it.
 */
import type { FieldError } from '../errors.js';
import type { CloudEventMapping } from './cloudevents.js';
import type { SignalMapping } from './mapping.js';

/** The SNS certificate hosts AWS uses (commercial and China partitions). */
export const DEFAULT_SNS_CERT_HOSTS = '^sns\\.[a-z0-9-]+\\.amazonaws\\.com(\\.cn)?$';

export type KafkaDedupe = 'offset' | { header: string } | { field: string };

export interface KafkaSubscriptionConfig {
  topic: string;
  /** `json`: the mapping applies to the JSON value; `cloudevents`: binary (ce_* headers) or structured events. */
  format: 'json' | 'cloudevents';
  mapping: SignalMapping;
  cloudevents: CloudEventMapping;
  dedupe: KafkaDedupe;
}

export interface KafkaSourceConfig {
  brokers: string[];
  clientId: string;
  groupId: string;
  deadLetterTopic: string;
  subscriptions: KafkaSubscriptionConfig[];
  /** Throughput tuning; each absent one takes the ingestor's default (see KafkaIngestorOptions). */
  partitionsConcurrently?: number;
  lanes?: number;
  chunkSize?: number;
  maxSignalsPerTransaction?: number;
}

/** The Kafka ingestion tuning keys and the largest value each accepts. */
export const KAFKA_TUNING = { partitionsConcurrently: 64, lanes: 32, chunkSize: 100_000, maxSignalsPerTransaction: 200_000 } as const;

export interface SnsSubscriptionConfig {
  /** A topic ARN, or `*` for any topic not listed otherwise. */
  topicArn: string;
  format: 'json' | 'cloudevents';
  mapping: SignalMapping;
  cloudevents: CloudEventMapping;
}

export interface SnsSourceConfig {
  /** Off only by an explicit `false` (emulators such as moto do not sign verifiably). */
  verifySignatures: boolean;
  /** Regular expression the signing certificate's host must match (https only). */
  certificateHosts: string;
  subscriptions: SnsSubscriptionConfig[];
}

export type OutboundEventKind = 'signal' | 'workflow' | 'step';

export interface SinkBase {
  name: string;
  events: OutboundEventKind[];
  /** Only signals whose name starts with one of these (all when absent). */
  signalPrefixes?: string[];
}
export interface KafkaSinkConfig extends SinkBase {
  type: 'kafka';
  topic: string;
  brokers: string[];
}
export interface SnsSinkConfig extends SinkBase {
  type: 'sns';
  topicArn: string;
  region?: string;
  /** An SNS API endpoint other than AWS's (an emulator). */
  endpoint?: string;
}
export type SinkConfig = KafkaSinkConfig | SnsSinkConfig;

export interface OutboxConfig {
  leaseMs: number;
  batchSize: number;
  pollMs: number;
  minBackoffMs: number;
  maxBackoffMs: number;
}

export interface SourcesConfig {
  /** The file the configuration came from, if any. */
  file?: string;
  kafka?: KafkaSourceConfig;
  sns: SnsSourceConfig;
  cloudevents: CloudEventMapping;
  sinks: SinkConfig[];
  outbox: OutboxConfig;
}

/** Invalid configuration; every problem names its field (`kafka.subscriptions[1].topic`). */
export class SourcesConfigError extends Error {
  constructor(
    readonly errors: FieldError[],
    readonly file?: string,
  ) {
    super(`invalid sources and sinks configuration${file ? ` in ${file}` : ''}: ${errors.map((e) => `${e.field}: ${e.message}`).join('; ')}`);
    this.name = 'SourcesConfigError';
  }
}

export const OUTBOX_DEFAULTS: OutboxConfig = { leaseMs: 30_000, batchSize: 100, pollMs: 500, minBackoffMs: 500, maxBackoffMs: 60_000 };
