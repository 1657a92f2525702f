import type { Queryable } from '@baton/engine-core';
import { stringifyJson } from './json.js';
import type { PublishResult, SignalSource } from './model.js';
import type { NormalizedSignal } from './validate.js';

/** The channel a publishing transaction notifies; matchers in every process listen on it. */
/**
 * Runs in a publishing transaction right after the batch is stored (REST, CloudEvents, SNS, Kafka;
 * not step outputs, whose hook is the engine's), with each result beside its signal: the
 * integrator enqueues outbound events for the new ones, so they go out if and only if stored.
 */
export type PublishedHook = (tx: Queryable, results: readonly PublishResult[], signals: readonly NormalizedSignal[]) => Promise<void>;

export const SIGNAL_CHANNEL = 'baton_signals';

function toBig(v: unknown): bigint {
  return typeof v === 'bigint' ? v : BigInt(v as number | string);
}

function fromBig(b: bigint): number | bigint {
  return b <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(b) : b;
}

/** True for the error an insert gets when another transaction stored one of its instances first. */
export function isConcurrentDuplicate(err: unknown): boolean {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' && (e.constraint === undefined || e.constraint === 'signal_instances_name_instance_id_key');
}

/**
 * Stores a validated batch inside the caller's transaction and enqueues one match job per new
 * instance. Two statements whatever the batch size: a duplicate check, then one statement that
 * advances the per-name counters by the number of new instances (creating or locking the counter
 * rows in name order, so concurrent batches cannot deadlock), inserts the instances with the seq
 * ids that range reserves, and writes their match jobs. The counter locks are held only for that
 * statement and the commit. Seq ids are gap-free: a concurrent duplicate makes the insert fail
 * and the counters roll back with it, to a savepoint, and the batch is tried again (the check
 * then reports the instance as a duplicate), so callers never see that race.
 */
export async function publishInTx(
  tx: Queryable,
  signals: readonly NormalizedSignal[],
  source: SignalSource | readonly SignalSource[],
  opts: { savepoint?: boolean } = {},
): Promise<PublishResult[]> {
  // A caller that owns the transaction and retries it whole (the group committer) saves the
  // savepoint's two round trips.
  if (opts.savepoint === false) return attemptPublish(tx, signals, source);
  for (let attempt = 1; ; attempt++) {
    await tx.query('SAVEPOINT signal_publish');
    try {
      const out = await attemptPublish(tx, signals, source);
      await tx.query('RELEASE SAVEPOINT signal_publish');
      return out;
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT signal_publish');
      if (!isConcurrentDuplicate(err) || attempt >= 5) throw err;
    }
  }
}

async function attemptPublish(tx: Queryable, signals: readonly NormalizedSignal[], source: SignalSource | readonly SignalSource[]): Promise<PublishResult[]> {
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

  const existing = await tx.query<{ name: string; instance_id: string; seq_id: number | bigint }>(
    `SELECT s.name, s.instance_id, s.seq_id FROM signal_instances s
     JOIN unnest($1::text[], $2::text[]) AS k(n, i) ON s.name = k.n AND s.instance_id = k.i`,
    [unique.map((i) => signals[i]!.name), unique.map((i) => signals[i]!.instanceId)],
  );
  const existingSeq = new Map(existing.rows.map((r) => [`${r.name}\u0000${r.instance_id}`, r.seq_id]));

  const counts = new Map<string, number>();
  const fresh: { idx: number; k: number }[] = [];
  const cols = { n: [] as string[], k: [] as number[], i: [] as string[], r: [] as (string | null)[], p: [] as string[], pl: [] as (string | null)[], rt: [] as (string | null)[], src: [] as string[] };
  for (const idx of unique) {
    const s = signals[idx]!;
    const seen = existingSeq.get(`${s.name}\u0000${s.instanceId}`);
    if (seen !== undefined) {
      results[idx] = { name: s.name, seq_id: seen, instance_id: s.instanceId, duplicate: true };
      continue;
    }
    const k = (counts.get(s.name) ?? 0) + 1;
    counts.set(s.name, k);
    fresh.push({ idx, k });
    cols.n.push(s.name);
    cols.k.push(k);
    cols.i.push(s.instanceId);
    cols.r.push(s.requestId ?? null);
    cols.p.push(stringifyJson(s.params));
    cols.pl.push(s.payload === null || s.payload === undefined ? null : stringifyJson(s.payload));
    cols.rt.push(s.requestTime === undefined ? null : s.requestTime.toString());
    cols.src.push(sourceText ? sourceText[idx]! : oneSource!);
  }

  if (fresh.length > 0) {
    const names = [...counts.keys()].sort();
    const res = await tx.query<{ name: string; last_seq: number | bigint }>(
      `WITH cnt AS (
         SELECT n, c FROM unnest($1::text[], $2::bigint[]) AS x(n, c)
       ), locked AS (
         INSERT INTO signal_names AS sn (name, last_seq) SELECT n, c FROM cnt ORDER BY n
         ON CONFLICT (name) DO UPDATE SET last_seq = sn.last_seq + EXCLUDED.last_seq
         RETURNING sn.name, sn.last_seq
       ), t AS (
         SELECT u.n, l.last_seq - c.c + u.k AS s, u.i, u.r, u.p::jsonb AS p, u.pl::jsonb AS pl, u.rt::bigint AS rt, u.src::jsonb AS src
         FROM unnest($3::text[], $4::bigint[], $5::text[], $6::text[], $7::text[], $8::text[], $9::text[], $10::text[]) AS u(n, k, i, r, p, pl, rt, src)
         JOIN locked l ON l.name = u.n JOIN cnt c ON c.n = u.n
       ), ins AS (
         INSERT INTO signal_instances (name, seq_id, instance_id, request_id, params, payload, request_time, source)
         SELECT n, s, i, r, p, pl, rt, src FROM t
       ), q AS (
         INSERT INTO signal_match_queue (name, seq_id) SELECT n, s FROM t
       )
       SELECT l.name, l.last_seq, pg_notify('${SIGNAL_CHANNEL}', '') FROM locked l`,
      [names, names.map((n) => counts.get(n)!), cols.n, cols.k, cols.i, cols.r, cols.p, cols.pl, cols.rt, cols.src],
    );
    const base = new Map(res.rows.map((r) => [r.name, toBig(r.last_seq) - BigInt(counts.get(r.name)!)]));
    for (const { idx, k } of fresh) {
      const s = signals[idx]!;
      results[idx] = { name: s.name, seq_id: fromBig(base.get(s.name)! + BigInt(k)), instance_id: s.instanceId, duplicate: false };
    }
  }
  signals.forEach((s, i) => {
    if (results[i]) return;
    const first = results[firstIndex.get(`${s.name}\u0000${s.instanceId}`)!]!;
    results[i] = { ...first, duplicate: true };
  });
  return results as PublishResult[];
}
