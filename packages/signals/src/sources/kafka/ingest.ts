import type { PublishedHook } from '../../publish.js';
import type { Db } from '@baton/engine-core';
import { SignalValidationError } from '../../errors.js';
import type { PublishInput, SignalSource } from '../../model.js';
import { normalizeSignal, type NormalizedSignal } from '../../validate.js';
import { cloudEventToSignal, isBinaryKafkaEvent, parseBinaryKafkaEvent, parseStructuredEvent } from '../cloudevents.js';
import type { KafkaSourceConfig, KafkaSubscriptionConfig } from '../config.js';
import { dedupeRequestId, mapMessage, MappingError, parseMessageJson, readPath } from '../mapping.js';
import type { IngestPressure } from '../../ingest-pressure.js';
import { GroupCommitter } from './group-commit.js';
import { checkKafkaSubscriptions } from './subscription-check.js';
import type { InboundBatch, InboundMessage, KafkaAdapter, KafkaConsumerAdapter, KafkaProducerAdapter, OutboundMessage } from './adapter.js';

/** Headers a dead-lettered message carries besides its own. */
export const DLQ_HEADERS = {
  reason: 'baton-dlq-reason',
  topic: 'baton-dlq-topic',
  partition: 'baton-dlq-partition',
  offset: 'baton-dlq-offset',
  group: 'baton-dlq-group',
  time: 'baton-dlq-time',
} as const;

export interface KafkaIngestorOptions {
  db: Db;
  adapter: KafkaAdapter;
  config: KafkaSourceConfig;
  /** A new consumer group starts at the earliest offset (default) or only at new messages. */
  fromBeginning?: boolean;
  /** Partitions processed at once (default 2 on PostgreSQL, 1 on PGlite). */
  concurrency?: number;
  /** Messages per chunk; a chunk's offset is committed once its transaction committed (default 5000). */
  chunkSize?: number;
  /** Signals per database transaction when chunks of several partitions are stored together (default 20000). */
  maxSignalsPerTx?: number;
  /**
   * Publishing transactions in flight at once, each for its own share of the signal names so
   * they never wait on each other's per-name counter locks (default 4 on PostgreSQL, 1 on PGlite).
   * Each takes a pool connection while it runs.
   */
  lanes?: number;
  /** Runs in each publishing transaction (outbound events for the new signals). */
  onPublished?: PublishedHook;
  /** Marked while chunks are being stored, so this process's matcher defers to them (SignalService.ingestPressure). */
  pressure?: IngestPressure;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface KafkaIngestStats {
  /** New signal instances stored. */
  indexed: number;
  /** Messages whose signal existed already (redelivery or a repeated dedupe key). */
  duplicates: number;
  /** Poison messages sent to the dead-letter topic. */
  deadLettered: number;
  /** Database transactions that indexed a chunk and were followed by an offset commit. */
  commits: number;
}

/** Publishing transactions in flight at once on PostgreSQL unless configured. */
export const DEFAULT_POSTGRES_LANES = 4;

type Converted = { ok: true; signal: NormalizedSignal } | { ok: false; reason: string };

/** A chunk converted: its signals with their sources, and its poison messages as dead letters. */
interface ConvertedChunk {
  signals: NormalizedSignal[];
  sources: SignalSource[];
  poison: OutboundMessage[];
}

/** Messages converted between two yields to the event loop. */
const CONVERT_SLICE = 500;

/**
 * Consumes the configured topics in one consumer group and indexes each message as a signal.
 * Per chunk of a partition's batch: poison messages go to the dead-letter topic first, then
 * database transactions store the signals (one per lane of signal names, each shared with chunks
 * of other partitions that arrived meanwhile), and only once all committed is the offset. A crash at any point redelivers the chunk;
 * the dedupe key makes the second indexing a no-op.
 */
export class KafkaIngestor {
  private readonly subs: Map<string, KafkaSubscriptionConfig>;
  private consumer: KafkaConsumerAdapter | undefined;
  private producer: KafkaProducerAdapter | undefined;
  private readonly counters: KafkaIngestStats = { indexed: 0, duplicates: 0, deadLettered: 0, commits: 0 };
  private readonly writer: GroupCommitter;
  /** The tuning in effect: the options', else the configuration's, else the defaults. */
  readonly tuning: Required<Pick<KafkaSourceConfig, 'partitionsConcurrently' | 'lanes' | 'chunkSize' | 'maxSignalsPerTransaction'>>;

  /** Throws SourcesConfigError when a subscription cannot be applied (see checkKafkaSubscriptions). */
  constructor(private readonly opts: KafkaIngestorOptions) {
    checkKafkaSubscriptions(opts.config);
    this.subs = new Map(opts.config.subscriptions.map((s) => [s.topic, s]));
    const c = opts.config;
    const pg = opts.db.kind === 'postgres';
    this.tuning = {
      partitionsConcurrently: opts.concurrency ?? c.partitionsConcurrently ?? (pg ? 2 : 1),
      lanes: opts.lanes ?? c.lanes ?? (pg ? DEFAULT_POSTGRES_LANES : 1),
      chunkSize: opts.chunkSize ?? c.chunkSize ?? 5000,
      maxSignalsPerTransaction: opts.maxSignalsPerTx ?? c.maxSignalsPerTransaction ?? 20_000,
    };
    this.writer = new GroupCommitter(opts.db, this.tuning.maxSignalsPerTransaction, opts.onPublished, this.tuning.lanes);
  }

  stats(): KafkaIngestStats {
    return { ...this.counters };
  }

  async start(): Promise<void> {
    if (this.consumer) return;
    if (this.subs.size === 0) return;
    const producer = this.opts.adapter.producer();
    await producer.connect();
    this.producer = producer;
    const consumer = this.opts.adapter.consumer(this.opts.config.groupId);
    consumer.onCrash((err) => this.opts.logger?.error({ err }, 'kafka ingestion: consumer stopped after an unrecoverable error'));
    this.consumer = consumer;
    await consumer.start({
      topics: [...this.subs.keys()],
      fromBeginning: this.opts.fromBeginning ?? true,
      concurrency: this.tuning.partitionsConcurrently,
      handler: (batch) => this.handle(batch),
    });
  }

  async stop(): Promise<void> {
    const c = this.consumer;
    const p = this.producer;
    this.consumer = undefined;
    this.producer = undefined;
    await c?.stop();
    await p?.disconnect();
  }

  /**
   * Stores the batch chunk by chunk, in order, committing each chunk's offset once its
   * transactions committed. Chunk k+1 is converted while chunk k is stored (the CPU work of the
   * one overlaps the database work of the other) but stored only after chunk k, so a partition's
   * signals get seq ids in offset order whatever fails.
   */
  private async handle(batch: InboundBatch): Promise<void> {
    const sub = this.subs.get(batch.topic);
    if (!sub) return;
    const size = this.tuning.chunkSize;
    const chunks: InboundMessage[][] = [];
    for (let i = 0; i < batch.messages.length; i += size) chunks.push(batch.messages.slice(i, i + size));
    let converted = chunks.length > 0 ? this.convertChunk(sub, chunks[0]!) : undefined;
    for (let k = 0; k < chunks.length; k++) {
      if (!batch.isRunning() || batch.isStale()) return;
      const chunk = chunks[k]!;
      const ready = converted!;
      this.opts.pressure?.enter();
      try {
        let first = true;
        // A retry converts the chunk again: an unexpected conversion error is retried like a database one.
        const storing = this.retrying(batch, async () => {
          const reuse = first;
          first = false;
          await this.storeChunk(reuse ? await ready : await this.convertChunk(sub, chunk));
        });
        converted = k + 1 < chunks.length ? this.convertChunk(sub, chunks[k + 1]!) : undefined;
        if (!(await storing)) return;
        // A revoked partition belongs to another member now: its commit would be refused or wrong.
        if (batch.isStale()) return;
        // Commit and heartbeat errors (a rebalance, a lost coordinator) go to the client, which
        // rejoins the group; whatever was not committed is delivered again and dedupes.
        await batch.commit(chunk[chunk.length - 1]!.offset);
        this.counters.commits++;
      } finally {
        this.opts.pressure?.leave();
      }
      await batch.heartbeat();
    }
  }

  /**
   * Retries indexing a chunk while the database or the dead-letter topic fails, heartbeating so
   * the group keeps the partition; a heartbeat that fails (rebalance) ends the batch.
   */
  private async retrying(batch: InboundBatch, work: () => Promise<void>): Promise<boolean> {
    for (let attempt = 0; ; attempt++) {
      try {
        await work();
        return true;
      } catch (err) {
        if (!batch.isRunning() || batch.isStale()) return false;
        this.opts.logger?.warn({ err, topic: batch.topic, partition: batch.partition, attempt }, 'kafka ingestion: indexing a chunk failed, retrying');
        await new Promise((r) => setTimeout(r, Math.min(5000, 100 * 2 ** attempt)));
        await batch.heartbeat();
      }
    }
  }

  /**
   * A chunk's messages as signals and dead letters. It yields first and then every
   * CONVERT_SLICE messages, so the replies of a transaction in flight are not held up behind it;
   * it never rejects unhandled (a caller that stops early leaves it unread).
   */
  private convertChunk(sub: KafkaSubscriptionConfig, chunk: InboundMessage[]): Promise<ConvertedChunk> {
    const work = async (): Promise<ConvertedChunk> => {
      const out: ConvertedChunk = { signals: [], sources: [], poison: [] };
      const group = this.opts.config.groupId;
      for (let i = 0; i < chunk.length; i++) {
        if (i % CONVERT_SLICE === 0) await new Promise((r) => setImmediate(r));
        const msg = chunk[i]!;
        const c = convert(sub, msg);
        if (c.ok) {
          out.signals.push(c.signal);
          out.sources.push({ type: 'KAFKA', topic: msg.topic, partition: msg.partition, offset: msg.offset, group });
        } else out.poison.push(this.deadLetter(msg, c.reason));
      }
      return out;
    };
    const p = work();
    p.catch(() => {});
    return p;
  }

  private async storeChunk({ signals, sources, poison }: ConvertedChunk): Promise<void> {
    // Dead letters first: once the offset is committed they must already be in their topic.
    if (poison.length > 0) await this.producer!.send(this.opts.config.deadLetterTopic, poison);
    if (signals.length > 0) {
      const results = await this.writer.publish(signals, sources);
      for (const r of results) {
        if (r.duplicate) this.counters.duplicates++;
        else this.counters.indexed++;
      }
    }
    this.counters.deadLettered += poison.length;
  }

  private deadLetter(msg: InboundMessage, reason: string): OutboundMessage {
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(msg.headers)) if (v !== undefined) headers[k] = v;
    headers[DLQ_HEADERS.reason] = reason;
    headers[DLQ_HEADERS.topic] = msg.topic;
    headers[DLQ_HEADERS.partition] = String(msg.partition);
    headers[DLQ_HEADERS.offset] = msg.offset;
    headers[DLQ_HEADERS.group] = this.opts.config.groupId;
    headers[DLQ_HEADERS.time] = new Date().toISOString();
    return { key: msg.key === null ? null : msg.key.toString(), value: msg.value, headers };
  }
}

function parseText(text: string | undefined): unknown {
  if (text === undefined) return null;
  try {
    return parseMessageJson(text);
  } catch (err) {
    throw new MappingError(`value is not valid JSON: ${(err as Error).message}`);
  }
}

function parseValue(msg: InboundMessage): unknown {
  return parseText(msg.value === null ? undefined : msg.value.toString('utf8'));
}

/** One message to a validated signal, or the reason it is poison. */
export function convert(sub: KafkaSubscriptionConfig, msg: InboundMessage): Converted {
  try {
    let input: PublishInput;
    if (sub.format === 'cloudevents') {
      const event = isBinaryKafkaEvent(msg.headers) ? parseBinaryKafkaEvent(msg.headers, msg.value) : parseStructuredEvent(parseValue(msg), 'value');
      input = cloudEventToSignal(event, sub.cloudevents);
    } else {
      const text = msg.value === null ? undefined : msg.value.toString('utf8');
      const body = parseText(text);
      input = mapMessage(sub.mapping, { body, headers: msg.headers, text });
      input.request_id = dedupeKey(sub, msg, body);
    }
    return { ok: true, signal: normalizeSignal(input, 'signal[0]') };
  } catch (err) {
    if (err instanceof MappingError || err instanceof SignalValidationError) return { ok: false, reason: err.message };
    throw err;
  }
}

function dedupeKey(sub: KafkaSubscriptionConfig, msg: InboundMessage, body: unknown): string {
  const d = sub.dedupe;
  if (d === 'offset') return `kafka:${msg.topic}:${msg.partition}:${msg.offset}`;
  let key: unknown;
  if ('header' in d) key = msg.headers[d.header];
  else key = readPath(body, d.field);
  if (key === undefined || key === null || key === '') throw new MappingError(`dedupe key ${'header' in d ? `header "${d.header}"` : `field "${d.field}"`} is missing`);
  if (typeof key !== 'string' && typeof key !== 'number' && typeof key !== 'bigint') throw new MappingError('dedupe key must be a string or a number');
  return dedupeRequestId(`kafka:${msg.topic}`, String(key));
}
