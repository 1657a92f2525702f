import type { Queryable } from '@baton/engine-core';
import type { SinkConfig } from '../sources/config.js';
import { EVENT_TYPES, messageKey, outboundCloudEvent, outboundEventId, type OutboundEvent } from './events.js';

/** One claimed outbox row, as a transport sends it. */
export interface OutboxRecord {
  id: number | bigint;
  sink: string;
  eventId: string;
  eventType: string;
  key: string | null;
  /** The CloudEvents JSON document. */
  body: string;
  /** Delivery attempts so far, this one included. */
  attempts: number;
}

/** Pending events of one sink, for metrics. */
export interface SinkBacklog {
  sink: string;
  count: number;
  /** Age of the oldest pending event in milliseconds (0 when none). */
  oldestAgeMs: number;
}

/** The sinks an event goes to: by event kind and, for signals, by name prefix. */
export function sinksFor(event: OutboundEvent, sinks: readonly SinkConfig[]): SinkConfig[] {
  return sinks.filter((s) => s.events.includes(event.kind) && (event.kind !== 'signal' || !s.signalPrefixes || s.signalPrefixes.some((p) => event.name.startsWith(p))));
}

/**
 * Writes an event to the outbox in the caller's transaction, one row per sink that wants it, so
 * the event is published if and only if the change commits. Cheap and never waits on a sink.
 * Returns the event id (also when no sink wants the event).
 */
export async function enqueueOutbound(tx: Queryable, event: OutboundEvent | readonly OutboundEvent[], sinks: readonly SinkConfig[]): Promise<string[]> {
  const events = Array.isArray(event) ? (event as readonly OutboundEvent[]) : [event as OutboundEvent];
  const cols = { sink: [] as string[], id: [] as string[], type: [] as string[], key: [] as string[], body: [] as string[] };
  const ids: string[] = [];
  const now = Date.now();
  for (const e of events) {
    const id = outboundEventId(e);
    ids.push(id);
    const targets = sinksFor(e, sinks);
    if (targets.length === 0) continue;
    const body = outboundCloudEvent(e, id, now);
    for (const s of targets) {
      cols.sink.push(s.name);
      cols.id.push(id);
      cols.type.push(EVENT_TYPES[e.kind]);
      cols.key.push(messageKey(e));
      cols.body.push(body);
    }
  }
  if (cols.sink.length > 0) {
    await tx.query(
      `INSERT INTO signal_outbox (sink, event_id, event_type, message_key, body)
       SELECT * FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[])
       ON CONFLICT (sink, event_id) DO NOTHING`,
      [cols.sink, cols.id, cols.type, cols.key, cols.body],
    );
  }
  return ids;
}

/** Leases up to `limit` due rows of one sink; rows leased by a worker that died come back when the lease ends. */
export async function claimOutbox(db: Queryable, sink: string, owner: string, limit: number, leaseMs: number): Promise<OutboxRecord[]> {
  const res = await db.query<{ id: number | bigint; event_id: string; event_type: string; message_key: string | null; body: string; attempts: number }>(
    `UPDATE signal_outbox SET lease_owner = $2, lease_until = now() + make_interval(secs => $4::double precision / 1000), attempts = attempts + 1
     WHERE id IN (
       SELECT id FROM signal_outbox
       WHERE sink = $1 AND available_at <= now() AND (lease_until IS NULL OR lease_until < now())
       ORDER BY id LIMIT $3 FOR UPDATE SKIP LOCKED)
     RETURNING id, event_id, event_type, message_key, body, attempts`,
    [sink, owner, limit, leaseMs],
  );
  return res.rows
    .map((r) => ({ id: r.id, sink, eventId: r.event_id, eventType: r.event_type, key: r.message_key, body: r.body, attempts: r.attempts }))
    .sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Deletes delivered rows, only while this worker still holds their lease. */
export async function completeOutbox(db: Queryable, owner: string, ids: readonly (number | bigint)[]): Promise<void> {
  if (ids.length === 0) return;
  await db.query('DELETE FROM signal_outbox WHERE id = ANY($1::bigint[]) AND lease_owner = $2', [ids.map(String), owner]);
}

/** Releases failed rows for a later attempt: min(max, min·2^(attempts-1)) milliseconds from now. */
export async function retryOutbox(db: Queryable, owner: string, ids: readonly (number | bigint)[], error: string, minBackoffMs: number, maxBackoffMs: number): Promise<void> {
  if (ids.length === 0) return;
  await db.query(
    `UPDATE signal_outbox SET lease_owner = NULL, lease_until = NULL, last_error = $3,
       available_at = now() + make_interval(secs => least($5::double precision, $4::double precision * power(2, least(attempts, 30) - 1)) / 1000)
     WHERE id = ANY($1::bigint[]) AND lease_owner = $2`,
    [ids.map(String), owner, error.slice(0, 2000), minBackoffMs, maxBackoffMs],
  );
}

/** Pending events per sink (every configured sink is listed, with zeros when it is empty). */
export async function outboxBacklog(db: Queryable, sinks: readonly string[] = []): Promise<SinkBacklog[]> {
  const res = await db.query<{ sink: string; n: number; age_ms: number | null }>(
    `SELECT sink, count(*)::int AS n, (extract(epoch FROM now() - min(created_at)) * 1000)::float8 AS age_ms FROM signal_outbox GROUP BY sink ORDER BY sink`,
  );
  const out = new Map<string, SinkBacklog>(sinks.map((s) => [s, { sink: s, count: 0, oldestAgeMs: 0 }]));
  for (const r of res.rows) out.set(r.sink, { sink: r.sink, count: r.n, oldestAgeMs: Math.max(0, Math.round(r.age_ms ?? 0)) });
  return [...out.values()];
}
