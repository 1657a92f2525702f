import { Kafka, logLevel } from 'kafkajs';
import type { KafkaSourceConfig } from '../config.js';

/** The part of a kafkajs `Admin` the lag reader uses. */
export interface LagAdmin {
  connect(): Promise<void>;
  disconnect(): Promise<void>;
  /** The group's committed offsets; `-1` for a partition it has not committed yet. */
  fetchOffsets(options: { groupId: string; topics: string[] }): Promise<Array<{ topic: string; partitions: Array<{ partition: number; offset: string }> }>>;
  /** Per partition: `high` is the offset the next message will get, `low` the earliest kept. */
  fetchTopicOffsets(topic: string): Promise<Array<{ partition: number; high: string; low: string }>>;
}

export interface PartitionLag {
  topic: string;
  partition: number;
  /** Messages in the partition the consumer group has not committed yet. */
  lag: number;
}

export interface KafkaLagOptions {
  groupId: string;
  topics: readonly string[];
  /** Default: a kafkajs admin client on the given brokers. */
  admin?: LagAdmin;
  brokers?: string[];
  clientId?: string;
  /** Reads within this long of the last one share its answer (one scrape, several collectors). Default 1 s. */
  cacheMs?: number;
}

/**
 * Consumer lag of Baton's Kafka consumer group per topic partition: the log end offset minus the
 * group's committed offset, both from the brokers (so every Baton process reports the group's
 * lag, whichever process owns the partition). A partition the group never committed counts from
 * its earliest kept offset. The admin connection is opened on first use and kept.
 */
export class KafkaLagReader {
  private readonly admin: LagAdmin;
  private connected: Promise<void> | undefined;
  private cached: { at: number; value: Promise<PartitionLag[]> } | undefined;

  constructor(private readonly opts: KafkaLagOptions) {
    if (opts.admin) this.admin = opts.admin;
    else {
      if (!opts.brokers || opts.brokers.length === 0) throw new Error('KafkaLagReader needs brokers or an admin client');
      this.admin = new Kafka({ brokers: opts.brokers, clientId: opts.clientId ?? 'baton', logLevel: logLevel.NOTHING }).admin();
    }
  }

  /** A reader for a Kafka source configuration: its group and every subscribed topic. */
  static forSource(config: KafkaSourceConfig, admin?: LagAdmin): KafkaLagReader {
    const topics = [...new Set(config.subscriptions.map((s) => s.topic))];
    return new KafkaLagReader({ groupId: config.groupId, topics, brokers: config.brokers, clientId: config.clientId, ...(admin ? { admin } : {}) });
  }

  read(): Promise<PartitionLag[]> {
    const now = performance.now();
    if (!this.cached || now - this.cached.at > (this.opts.cacheMs ?? 1000)) {
      const value = this.fetch();
      // A failed read is not kept: the next scrape asks the brokers again.
      value.catch(() => {
        if (this.cached?.value === value) this.cached = undefined;
      });
      this.cached = { at: now, value };
    }
    return this.cached.value;
  }

  async close(): Promise<void> {
    if (!this.connected) return;
    this.connected = undefined;
    await this.admin.disconnect();
  }

  private async fetch(): Promise<PartitionLag[]> {
    if (this.opts.topics.length === 0) return [];
    if (!this.connected) {
      const c = this.admin.connect();
      c.catch(() => {
        if (this.connected === c) this.connected = undefined;
      });
      this.connected = c;
    }
    await this.connected;
    const topics = [...this.opts.topics];
    const [committed, ends] = await Promise.all([
      this.admin.fetchOffsets({ groupId: this.opts.groupId, topics }),
      Promise.all(topics.map(async (topic) => ({ topic, partitions: await this.admin.fetchTopicOffsets(topic) }))),
    ]);
    const done = new Map<string, bigint>();
    for (const t of committed) for (const p of t.partitions) done.set(`${t.topic}\u0000${p.partition}`, BigInt(p.offset));
    const out: PartitionLag[] = [];
    for (const { topic, partitions } of ends) {
      for (const p of partitions) {
        const high = BigInt(p.high);
        const at = done.get(`${topic}\u0000${p.partition}`);
        const from = at === undefined || at < 0n ? BigInt(p.low) : at;
        const lag = high > from ? high - from : 0n;
        out.push({ topic, partition: p.partition, lag: Number(lag) });
      }
    }
    return out.sort((a, b) => (a.topic < b.topic ? -1 : a.topic > b.topic ? 1 : a.partition - b.partition));
  }
}
