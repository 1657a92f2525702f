import type pg from 'pg';

/** One stored copy of a signal: a live row, or the tombstone retention left when it purged it. */
export interface SignalCopy {
  name: string;
  seq_id: number;
  instance_id: string;
  request_id: string | null;
  key: string | null;
  createMs: number;
  /** When the purge began by the real clock (the tombstone's time less the test clock offset); null: live. */
  purgedMs: number | null;
}

/**
 * Live rows and tombstones of the given names. A purged row that lineage points to (a consumed
 * signal) has a tombstone with its name, seq and instance id; its request id is its instance id.
 */
export async function signalCopies(db: pg.Pool, names: string[], clockOffsetMs: number): Promise<SignalCopy[]> {
  const res = await db.query<{ name: string; seq_id: number; instance_id: string; request_id: string | null; key: string | null; create_ms: string; purged_ms: string | null }>(
    `SELECT name, seq_id::int AS seq_id, instance_id, request_id, params->>'key' AS key,
            (extract(epoch FROM create_time) * 1000)::bigint::text AS create_ms, NULL AS purged_ms
     FROM signal_instances WHERE name = ANY($1)
     UNION ALL
     SELECT name, seq_id::int, instance_id, instance_id, NULL, (extract(epoch FROM create_time) * 1000)::bigint::text,
            (extract(epoch FROM purged_at) * 1000)::bigint::text
     FROM signal_tombstones WHERE name = ANY($1)`,
    [names],
  );
  return res.rows.map((r) => ({
    name: r.name,
    seq_id: r.seq_id,
    instance_id: r.instance_id,
    request_id: r.request_id,
    key: r.key,
    createMs: Number(r.create_ms),
    purgedMs: r.purged_ms === null ? null : Number(r.purged_ms) - clockOffsetMs,
  }));
}

/**
 * Copies of one signal (name and instance id) beyond the first that are legitimate: the one
 * before was purged (its dedupe key gone with it) before this one was stored, so a repeat of the
 * request after the purge is a new signal. Returns the seq ids of such re-publications.
 */
export function republishedAfterPurge(copies: SignalCopy[]): Set<string> {
  const byId = new Map<string, SignalCopy[]>();
  for (const c of copies) {
    const k = `${c.name}:${c.instance_id}`;
    byId.set(k, [...(byId.get(k) ?? []), c]);
  }
  const out = new Set<string>();
  for (const list of byId.values()) {
    list.sort((a, b) => a.seq_id - b.seq_id);
    for (let i = 1; i < list.length; i++) {
      const prev = list[i - 1]!;
      if (prev.purgedMs !== null && list[i]!.createMs >= prev.purgedMs) out.add(`${list[i]!.name}#${list[i]!.seq_id}`);
    }
  }
  return out;
}
