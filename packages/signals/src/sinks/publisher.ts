import { randomUUID } from 'node:crypto';
import type { Db, Queryable } from '@baton/engine-core';
import { OUTBOX_DEFAULTS, type OutboxConfig, type SinkConfig } from '../sources/config.js';
import type { OutboundEvent } from './events.js';
import { claimOutbox, completeOutbox, enqueueOutbound, outboxBacklog, retryOutbox, type SinkBacklog } from './outbox.js';
import { createTransport, type OutboundTransport, type TransportDeps } from './transports.js';

export interface OutboundPublisherOptions {
  sinks: readonly SinkConfig[];
  outbox?: Partial<OutboxConfig>;
  /** Ready transports by sink name (tests, custom clients); the others are made from the config. */
  transports?: ReadonlyMap<string, OutboundTransport>;
  transportDeps?: TransportDeps;
  logger?: { warn(obj: object, msg: string): void; error(obj: object, msg: string): void };
}

export interface SinkStats {
  delivered: number;
  failed: number;
}

/**
 * Outbound events through the durable outbox: `enqueueOutbound` writes them in the caller's
 * transaction; `start` runs one delivery loop per sink (any number of processes may run them:
 * rows are leased with FOR UPDATE SKIP LOCKED). Delivery is at least once; each message carries
 * the event's stable id. A failing sink only delays its own rows (retried with exponential
 * backoff); the engine never waits for a sink, the outbox just grows (see backlog()).
 */
export class OutboundPublisher {
  private readonly cfg: OutboxConfig;
  private readonly owner = `${process.pid}-${randomUUID()}`;
  private readonly transports = new Map<string, OutboundTransport>();
  private readonly counters = new Map<string, SinkStats>();
  private running = false;
  private loops: Promise<void>[] = [];
  private sleepers = new Set<() => void>();

  constructor(
    private readonly db: Db,
    private readonly opts: OutboundPublisherOptions,
  ) {
    this.cfg = { ...OUTBOX_DEFAULTS, ...opts.outbox };
    for (const s of opts.sinks) this.counters.set(s.name, { delivered: 0, failed: 0 });
  }

  /** Writes the event(s) for every sink that wants them, in `tx`; returns the stable event ids. */
  enqueueOutbound(tx: Queryable, event: OutboundEvent | readonly OutboundEvent[]): Promise<string[]> {
    return enqueueOutbound(tx, event, this.opts.sinks);
  }

  backlog(): Promise<SinkBacklog[]> {
    return outboxBacklog(this.db, this.opts.sinks.map((s) => s.name));
  }

  stats(): Record<string, SinkStats> {
    return Object.fromEntries([...this.counters].map(([k, v]) => [k, { ...v }]));
  }

  async start(): Promise<void> {
    if (this.running) return;
    await this.ensureTransports();
    this.running = true;
    this.loops = this.opts.sinks.map((s) => this.loop(s.name));
  }

  async stop(): Promise<void> {
    this.running = false;
    for (const wake of this.sleepers) wake();
    await Promise.all(this.loops);
    this.loops = [];
    await Promise.all([...this.transports.values()].map((t) => t.close().catch(() => {})));
    this.transports.clear();
  }

  /** One delivery round for each sink (tests and one-shot tools); returns the events delivered. */
  async runOnce(): Promise<number> {
    await this.ensureTransports();
    let n = 0;
    for (const s of this.opts.sinks) n += await this.deliver(s.name);
    return n;
  }

  private async ensureTransports(): Promise<void> {
    for (const s of this.opts.sinks) {
      if (this.transports.has(s.name)) continue;
      this.transports.set(s.name, this.opts.transports?.get(s.name) ?? (await createTransport(s, this.opts.transportDeps)));
    }
  }

  private async loop(sink: string): Promise<void> {
    let errors = 0;
    while (this.running) {
      let n = 0;
      try {
        n = await this.deliver(sink);
        errors = 0;
      } catch (err) {
        // The database is unreachable (delivery failures are handled per row): back off, log once per streak.
        if (errors++ === 0) this.opts.logger?.error({ err, sink }, 'outbound: delivery round failed');
      }
      if (!this.running) break;
      if (errors > 0) await this.sleep(Math.min(30_000, this.cfg.pollMs * 2 ** Math.min(errors, 10)));
      else if (n === 0) await this.sleep(this.cfg.pollMs);
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.sleepers.delete(done);
        resolve();
      };
      const timer = setTimeout(done, ms);
      this.sleepers.add(done);
    });
  }

  /** Claims a batch of one sink, sends it, deletes what was acknowledged and schedules the rest. */
  private async deliver(sink: string): Promise<number> {
    const records = await claimOutbox(this.db, sink, this.owner, this.cfg.batchSize, this.cfg.leaseMs);
    if (records.length === 0) return 0;
    const transport = this.transports.get(sink)!;
    let failed: Map<string, string>;
    try {
      failed = await transport.send(records);
    } catch (err) {
      failed = new Map(records.map((r) => [String(r.id), (err as Error).message]));
    }
    const ok = records.filter((r) => !failed.has(String(r.id)));
    await completeOutbox(this.db, this.owner, ok.map((r) => r.id));
    const c = this.counters.get(sink)!;
    c.delivered += ok.length;
    if (failed.size > 0) {
      c.failed += failed.size;
      const bad = records.filter((r) => failed.has(String(r.id)));
      const reason = failed.values().next().value!;
      this.opts.logger?.warn({ sink, failed: failed.size, reason }, 'outbound: sink refused events; they will be retried');
      // Rows sharing a reason are released together; distinct reasons are kept per row.
      const byReason = new Map<string, (number | bigint)[]>();
      for (const r of bad) {
        const why = failed.get(String(r.id))!;
        byReason.set(why, [...(byReason.get(why) ?? []), r.id]);
      }
      for (const [why, ids] of byReason) await retryOutbox(this.db, this.owner, ids, why, this.cfg.minBackoffMs, this.cfg.maxBackoffMs);
    }
    return ok.length;
  }
}
