import type { Queryable } from '@baton/engine-core';
import { stringifyJson } from './json.js';
import type { PublishResult, SignalSource } from './model.js';
import type { NormalizedSignal } from './validate.js';

/** The channel a publishing transaction notifies; matchers in every process listen on it. */
export const SIGNAL_CHANNEL = 'baton_signals';

function toBig(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number | string);
}

function fromBig(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/**
 * Stores a validated batch inside the caller's transaction and enqueues one match job per new
 * instance. Gap-free, conflict-free seq ids: the per-name counter rows are created or locked
 * first (sorted, so concurrent batches cannot deadlock), duplicates are detected under that lock,
 * and only new instances advance the counter. Four statements whatever the batch size.
 */
export async function publishInTx(tx: Queryable, signals: readonly NormalizedSignal[], source: SignalSource | readonly SignalSource[]): Promise<PublishResult[]> {
  const sourceText = Array.isArray(source) ? source.map((s) => stringifyJson(s)) : undefined;
  const oneSource = Array.isArray(source) ? undefined : stringifyJson(source);
  const results: (PublishResult | undefined)[] = new Array(signals.length);
  const firstIndex = new Map<string, number>();
  const unique: number[] = [];
  signals.forEach((s, i) => {
    const key = `${s.name}\u0000${s.instanceId}`;
    if (!firstIndex.has(key)) {
      firstIndex.set(key, i);
      unique.push(i);
    }
  });

  const names = [...new Set(signals.map((s) => s.name))].sort();
  const locked = await tx.query<{ name: string; last_seq: number | bigint }>(
    `INSERT INTO signal_names (name) SELECT n FROM unnest($1::text[]) AS n ORDER BY n
     ON CONFLICT (name) DO UPDATE SET last_seq = signal_names.last_seq
     RETURNING name, last_seq`,
    [names],
  );
  const next = new Map<string, bigint>(locked.rows.map((r) => [r.name, toBig(r.last_seq)]));

  const existing = await tx.query<{ name: string; instance_id: string; seq_id: number | bigint }>(
    `SELECT s.name, s.instance_id, s.seq_id FROM signal_instances s
     JOIN unnest($1::text[], $2::text[]) AS k(n, i) ON s.name = k.n AND s.instance_id = k.i`,
    [unique.map((i) => signals[i]!.name), unique.map((i) => signals[i]!.instanceId)],
  );
  const existingSeq = new Map(existing.rows.map((r) => [`${r.name}\u0000${r.instance_id}`, r.seq_id]));

  const cols = { n: [] as string[], s: [] as string[], i: [] as string[], r: [] as (string | null)[], p: [] as string[], pl: [] as (string | null)[], rt: [] as (string | null)[], src: [] as string[] };
  for (const idx of unique) {
    const s = signals[idx]!;
    const key = `${s.name}\u0000${s.instanceId}`;
    const seen = existingSeq.get(key);
    if (seen !== undefined) {
      results[idx] = { name: s.name, seq_id: seen, instance_id: s.instanceId, duplicate: true };
      continue;
    }
    const seq = next.get(s.name)! + 1n;
    next.set(s.name, seq);
    results[idx] = { name: s.name, seq_id: fromBig(seq), instance_id: s.instanceId, duplicate: false };
    cols.n.push(s.name);
    cols.s.push(seq.toString());
    cols.i.push(s.instanceId);
    cols.r.push(s.requestId ?? null);
    cols.p.push(stringifyJson(s.params));
    cols.pl.push(s.payload === null || s.payload === undefined ? null : stringifyJson(s.payload));
    cols.rt.push(s.requestTime === undefined ? null : s.requestTime.toString());
    cols.src.push(sourceText ? sourceText[idx]! : oneSource!);
  }
  signals.forEach((s, i) => {
    if (results[i]) return;
    const first = results[firstIndex.get(`${s.name}\u0000${s.instanceId}`)!]!;
    results[i] = { ...first, duplicate: true };
  });

  if (cols.n.length > 0) {
    await tx.query(
      `WITH t AS (
         SELECT n, s::bigint AS s, i, r, p::jsonb AS p, pl::jsonb AS pl, rt::bigint AS rt, src::jsonb AS src
         FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::text[]) AS u(n, s, i, r, p, pl, rt, src)
       ), ins AS (
         INSERT INTO signal_instances (name, seq_id, instance_id, request_id, params, payload, request_time, source)
         SELECT n, s, i, r, p, pl, rt, src FROM t
       ), q AS (
         INSERT INTO signal_match_queue (name, seq_id) SELECT n, s FROM t
       ), c AS (
         UPDATE signal_names SET last_seq = m.s FROM (SELECT n, max(s) AS s FROM t GROUP BY n) m WHERE signal_names.name = m.n
       )
       SELECT pg_notify('${SIGNAL_CHANNEL}', '')`,
      [cols.n, cols.s, cols.i, cols.r, cols.p, cols.pl, cols.rt, cols.src],
    );
  }
  return results as PublishResult[];
}
