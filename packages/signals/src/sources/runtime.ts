import type { PublishedHook } from '../publish.js';
import type { IngestPressure } from '../ingest-pressure.js';
import type { Db } from '@baton/engine-core';
import { OutboundPublisher } from '../sinks/publisher.js';
import type { SinkBacklog } from '../sinks/outbox.js';
import type { TransportDeps } from '../sinks/transports.js';
import { CloudEventsIngestor, type SignalPublisher } from './cloudevents-ingest.js';
import type { SourcesConfig } from './config.js';
import type { KafkaAdapter } from './kafka/adapter.js';
import { KafkaIngestor, type KafkaIngestStats } from './kafka/ingest.js';
import { KafkajsAdapter } from './kafka/kafkajs-adapter.js';
import { SnsIngestor, type SnsIngestStats } from './sns/ingest.js';

export interface SourcesRuntimeOptions {
  db: Db;
  /** SignalService fits: CloudEvents over HTTP publish through it. */
  signals: SignalPublisher;
  config: SourcesConfig;
  /** The Kafka client for ingestion (default: kafkajs on config.kafka.brokers). */
  kafkaAdapter?: KafkaAdapter;
  transportDeps?: TransportDeps;
  /** Runs in each Kafka and SNS publishing transaction (outbound events for the new signals). */
  onPublished?: PublishedHook;
  /** The SignalService's: its matcher defers to Kafka ingestion while chunks are stored. */
  ingestPressure?: IngestPressure;
  logger?: { info(obj: object, msg: string): void; warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

/** What a metrics endpoint reports about sources and sinks. */
export interface SourcesMetrics {
  kafka?: KafkaIngestStats;
  sns: SnsIngestStats;
  outbound: Record<string, { delivered: number; failed: number }>;
  backlog: SinkBacklog[];
}

/**
 * Every configured source and sink of one process, built from a validated SourcesConfig: the
 * integrator mounts `sns` and `cloudevents` on the HTTP routes, hands `outbound` (its
 * enqueueOutbound) to the engine and signals, and calls start/stop with the server.
 */
export class SourcesRuntime {
  readonly kafka: KafkaIngestor | undefined;
  readonly sns: SnsIngestor;
  readonly cloudevents: CloudEventsIngestor;
  readonly outbound: OutboundPublisher;

  constructor(opts: SourcesRuntimeOptions) {
    const { config, db, logger } = opts;
    if (config.kafka && config.kafka.subscriptions.length > 0) {
      const adapter = opts.kafkaAdapter ?? new KafkajsAdapter({ brokers: config.kafka.brokers, clientId: config.kafka.clientId });
      this.kafka = new KafkaIngestor({ db, adapter, config: config.kafka, logger, onPublished: opts.onPublished, pressure: opts.ingestPressure });
    }
    this.sns = new SnsIngestor({ db, config: config.sns, logger, onPublished: opts.onPublished });
    this.cloudevents = new CloudEventsIngestor(opts.signals, config.cloudevents);
    this.outbound = new OutboundPublisher(db, { sinks: config.sinks, outbox: config.outbox, transportDeps: opts.transportDeps, logger });
  }

  async start(): Promise<void> {
    await this.outbound.start();
    await this.kafka?.start();
  }

  /** Stops consuming first (in-flight batches finish and commit), then the outbound loops. */
  async stop(): Promise<void> {
    await this.kafka?.stop();
    await this.outbound.stop();
  }

  async metrics(): Promise<SourcesMetrics> {
    return {
      ...(this.kafka ? { kafka: this.kafka.stats() } : {}),
      sns: this.sns.stats(),
      outbound: this.outbound.stats(),
      backlog: await this.outbound.backlog(),
    };
  }
}
