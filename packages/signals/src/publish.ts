import type { Queryable } from '@baton/engine-core';
import { stringifyJson } from './json.js';
import type { PublishResult, SignalSource } from './model.js';
import type { NormalizedSignal } from './validate.js';
import { firstOccurrences } from './batch-firsts.js';

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
  return e?.code === '23505' && (e.constraint === undefined || e.constraint === 'signal_instance_keys_pkey');
}

/**
 * Stores a validated batch inside the caller's transaction and enqueues match jobs for the new
 * instances. Two statements whatever the batch size: a duplicate check, then one statement that
 * advances the per-name counters by the number of new instances (creating or locking the counter
 * rows in name order, so concurrent batches cannot deadlock), inserts the instances with the seq
 * ids that range reserves, and writes one match job per name over that range. The counter locks
 * are held only for that statement and the commit. Seq ids are gap-free: a concurrent duplicate
 * makes the insert fail and the counters roll back with it, to a savepoint, and the batch is tried
 * again (the check then reports the instance as a duplicate), so callers never see that race.
 *
 * `assumeNew` skips the duplicate check (its index lookups are about a tenth of the database's
 * work for a large batch): an instance stored already then fails the insert like a concurrent
 * duplicate does, and the batch is stored again with the check. For callers whose signals are
 * rarely stored already (Kafka between redeliveries). It needs the savepoint, so it is ignored
 * without one. A plain insert that may fail is cheaper than ON CONFLICT DO NOTHING, whose
 * speculative insertion costs about a fifth more per row.
 */
export async function publishInTx(
  tx: Queryable,
  signals: readonly NormalizedSignal[],
  source: SignalSource | readonly SignalSource[],
  opts: { savepoint?: boolean; assumeNew?: boolean } = {},
): Promise<PublishResult[]> {
  // A caller that owns the transaction and retries it whole (the group committer) saves the
  // savepoint's two round trips.
  if (opts.savepoint === false) return (await attemptPublish(tx, signals, source, true))!;
  let check = opts.assumeNew !== true;
  for (let attempt = 1; ; attempt++) {
    await tx.query('SAVEPOINT signal_publish');
    try {
      const out = await attemptPublish(tx, signals, source, check);
      await tx.query('RELEASE SAVEPOINT signal_publish');
      return out;
    } catch (err) {
      await tx.query('ROLLBACK TO SAVEPOINT signal_publish');
      if (!isConcurrentDuplicate(err) || attempt >= 5) throw err;
      check = true;
    }
  }
}

/**
 * Rows travel as one JSON document rather than one array parameter per column: the driver's
 * per-element escaping of text arrays and a separate serialisation of every params, payload and
 * source value cost more client CPU than the insert itself, and jsonb_to_recordset hands nested
 * values to the jsonb columns without parsing them twice. The built-in serialiser takes the
 * document unless it holds a bigint (64-bit params), which only the lossless one can write.
 */
function jsonDocument(value: unknown): string {
  try {
    return JSON.stringify(value);
  } catch (err) {
    if (err instanceof TypeError) return stringifyJson(value);
    throw err;
  }
}

/**
 * One row of the document (payloads go apart: see payloadText). Absent keys read as NULL, so
 * nothing is sent for an absent request time, the request id is sent only when it is not the instance id (it almost always is,
 * or is absent: `nr`), and the source is an index into the batch's distinct sources (`s`) plus,
 * for the sources that differ only by it (a Kafka partition's messages), the offset (`o`).
 * Document size is most of the client's cost of a large batch (serialising it, then writing it
 * to the socket) and the parse is part of the server's.
 */
interface Row {
  n: string;
  k: number;
  i: string;
  r?: string;
  nr?: 1;
  p: unknown;
  rt?: number | bigint;
  s: number;
  o?: string;
}

/**
 * A row's payload as JSON text (`null` for none). Payloads travel apart from the rows, as one
 * JSON array of them: a payload received as text (a Kafka message value) is written into it as
 * is, never parsed into objects kept until the commit and serialised again.
 */
function payloadText(s: NormalizedSignal): string {
  if (s.payloadJson !== undefined) return s.payloadJson;
  return s.payload === undefined || s.payload === null ? 'null' : jsonDocument(s.payload);
}

/** True when both have the same entries, scalar and equal, except `offset`. */
function sameButOffset(a: SignalSource, b: SignalSource): boolean {
  let n = 0;
  for (const k in a) {
    n++;
    if (k === 'offset') continue;
    const v = a[k];
    if ((v !== null && typeof v === 'object') || v !== b[k] || !(k in b)) return false;
  }
  for (const _k in b) n--;
  return n === 0;
}

/** A batch's distinct sources, each with its offset apart (see Row). */
class SourceTable {
  readonly list: SignalSource[] = [];
  /** Set by `ref`: the offset of the source it was given, when kept apart. */
  offset: string | undefined;
  private readonly index = new Map<unknown, number>();
  private last: { src: SignalSource; slot: number } | undefined;

  /** The source's index in `list`; sets `offset` to the offset kept apart, if any. */
  ref(src: SignalSource): number {
    this.offset = undefined;
    const offset = src.offset;
    if (typeof offset !== 'string') return this.slot(src, src, false);
    // A partition's messages come in runs: most sources match the one before but for the offset.
    if (this.last !== undefined && sameButOffset(src, this.last.src)) {
      this.offset = offset;
      return this.last.slot;
    }
    // Sources with an offset are built per message: key them by their other (scalar) entries.
    let key = '';
    for (const k in src) {
      if (k === 'offset') continue;
      const v = src[k];
      if (v !== null && typeof v === 'object') return this.slot(src, src, false);
      const text = String(v);
      // Length-prefixed, so no two different sources can spell the same key.
      key += `${k.length}:${k}${typeof v}${text.length}:${text}`;
    }
    this.offset = offset;
    const slot = this.slot(key, src, true);
    this.last = { src, slot };
    return slot;
  }

  private slot(key: unknown, src: SignalSource, withoutOffset: boolean): number {
    let s = this.index.get(key);
    if (s === undefined) {
      let base = src;
      if (withoutOffset) {
        const { offset: _offset, ...rest } = src;
        base = rest as SignalSource;
      }
      s = this.list.push(base) - 1;
      this.index.set(key, s);
    }
    return s;
  }
}

/** One try. Without `check`, an instance stored already fails the insert (a unique violation). */
async function attemptPublish(
  tx: Queryable,
  signals: readonly NormalizedSignal[],
  source: SignalSource | readonly SignalSource[],
  check: boolean,
): Promise<PublishResult[]> {
  const sourceOf = (i: number): SignalSource => (isSourceList(source) ? source[i]! : source);
  const results: (PublishResult | undefined)[] = new Array(signals.length);
  const { first, unique } = firstOccurrences(signals);

  const existing = check
    ? await tx.query<{ name: string; instance_id: string; seq_id: number | bigint }>(
        `SELECT s.name, s.instance_id, s.seq_id FROM signal_instance_keys s
         JOIN jsonb_to_recordset($1::jsonb) AS k(n text, i text) ON s.name = k.n AND s.instance_id = k.i`,
        [JSON.stringify(unique.map((i) => ({ n: signals[i]!.name, i: signals[i]!.instanceId })))],
      )
    : { rows: [] };
  const existingSeq = new Map(existing.rows.map((r) => [`${r.name}\u0000${r.instance_id}`, r.seq_id]));

  const counts = new Map<string, number>();
  // The new signals: their indexes in the batch and their seq ids' offsets within their names.
  const fresh: number[] = [];
  const freshK: number[] = [];
  const rows: Row[] = [];
  const payloads: string[] = [];
  const sources = new SourceTable();
  for (const idx of unique) {
    const s = signals[idx]!;
    const seen = existingSeq.size === 0 ? undefined : existingSeq.get(`${s.name}\u0000${s.instanceId}`);
    if (seen !== undefined) {
      results[idx] = { name: s.name, seq_id: seen, instance_id: s.instanceId, duplicate: true };
      continue;
    }
    const k = (counts.get(s.name) ?? 0) + 1;
    counts.set(s.name, k);
    fresh.push(idx);
    freshK.push(k);
    const row: Row = { n: s.name, k, i: s.instanceId, p: s.params, s: sources.ref(sourceOf(idx)) };
    const o = sources.offset;
    if (s.requestId === undefined || s.requestId === null) row.nr = 1;
    else if (s.requestId !== s.instanceId) row.r = s.requestId;
    payloads.push(payloadText(s));
    if (s.requestTime !== undefined && s.requestTime !== null) row.rt = s.requestTime;
    if (o !== undefined) row.o = o;
    rows.push(row);
  }

  if (fresh.length > 0) {
    const names = [...counts.keys()].sort();
    // A duplicate, concurrent or (without the check) stored already, fails the insert: see publishInTx.
    const res = await tx.query<{ name: string; last_seq: number | bigint }>(
      `WITH cnt AS (
         -- Each name's expiry (see signal_retention): its own retention, else the default ('*').
         SELECT x.n, x.c, CASE WHEN r.name IS NOT NULL THEN coalesce(now() + make_interval(secs => r.seconds), 'infinity')
                               WHEN d.name IS NOT NULL THEN coalesce(now() + make_interval(secs => d.seconds), 'infinity')
                               ELSE now() + interval '30 days' END AS e
         FROM jsonb_to_recordset($1::jsonb) AS x(n text, c bigint)
         LEFT JOIN signal_retention r ON r.name = x.n LEFT JOIN signal_retention d ON d.name = '*'
       ), locked AS (
         INSERT INTO signal_names AS sn (name, last_seq) SELECT n, c FROM cnt ORDER BY n
         ON CONFLICT (name) DO UPDATE SET last_seq = sn.last_seq + EXCLUDED.last_seq
         RETURNING sn.name, sn.last_seq
       ), t AS (
         SELECT u.n, l.last_seq - c.c + u.k AS s, c.e, u.i, CASE WHEN u.nr IS NULL THEN coalesce(u.r, u.i) END AS r, u.p,
                nullif($4::jsonb -> (u.at::int - 1), 'null'::jsonb) AS pl, u.rt,
                CASE WHEN u.o IS NULL THEN $3::jsonb -> u.s ELSE ($3::jsonb -> u.s) || jsonb_build_object('offset', u.o) END AS src
         FROM ROWS FROM (jsonb_to_recordset($2::jsonb) AS (n text, k bigint, i text, r text, nr int, p jsonb, rt bigint, s int, o text))
              WITH ORDINALITY AS u(n, k, i, r, nr, p, rt, s, o, at)
         JOIN locked l ON l.name = u.n JOIN cnt c ON c.n = u.n
       ), ins AS (
         INSERT INTO signal_instances (name, seq_id, expire_at, instance_id, request_id, params, payload, request_time, source)
         SELECT n, s, e, i, r, p, pl, rt, src FROM t
       ), k AS (
         -- The dedupe key: unique across partitions (a duplicate fails here, see publishInTx).
         INSERT INTO signal_instance_keys (name, instance_id, seq_id) SELECT n, i, s FROM t
       ), q AS (
         -- With the range's partition key, so the matcher reads it from its one partition.
         INSERT INTO signal_match_queue (name, seq_id, seq_to, expire_at)
         SELECT l.name, l.last_seq - c.c + 1, l.last_seq, c.e FROM locked l JOIN cnt c ON c.n = l.name ORDER BY l.name
       )
       SELECT l.name, l.last_seq, pg_notify('${SIGNAL_CHANNEL}', '') FROM locked l`,
      [JSON.stringify(names.map((n) => ({ n, c: counts.get(n)! }))), jsonDocument(rows), jsonDocument(sources.list), `[${payloads.join(',')}]`],
    );
    // Each name's seq id before this batch; numbers while every seq id of the name stays a safe integer.
    const base = new Map<string, number | bigint>();
    for (const r of res.rows) {
      const last = r.last_seq;
      const c = counts.get(r.name)!;
      base.set(r.name, typeof last === 'number' && Number.isSafeInteger(last) ? last - c : toBig(last) - BigInt(c));
    }
    for (let j = 0; j < fresh.length; j++) {
      const idx = fresh[j]!;
      const k = freshK[j]!;
      const s = signals[idx]!;
      const b = base.get(s.name)!;
      const seq = typeof b === 'number' ? b + k : fromBig(b + BigInt(k));
      results[idx] = { name: s.name, seq_id: seq, instance_id: s.instanceId, duplicate: false };
    }
  }
  for (let i = 0; i < signals.length; i++) if (!results[i]) results[i] = { ...results[first[i]!]!, duplicate: true };
  return results as PublishResult[];
}

function isSourceList(s: SignalSource | readonly SignalSource[]): s is readonly SignalSource[] {
  return Array.isArray(s);
}
