/**
 * Bulk set-up for bench/scale.bench.ts: stored signals, proportional finished runs with their
 * lineage, and a queued backlog, written with server-side INSERT ... SELECT generate_series (no
 * client round trip per row), so reaching 20 million signals costs minutes, not hours.
 */
import type { PgDb } from '@baton/engine-core';

/** Signal names the fill spreads rows over (the benches' `bench/n<k>` names). */
export const FILL_NAMES = 100;

/** One finished run (and its lineage edge) per this many stored signals. */
export const SIGNALS_PER_RUN = 20;

/** Rows per INSERT statement: keeps each transaction's WAL and memory bounded. */
const CHUNK = 500_000;

async function scalar(db: PgDb, sql: string): Promise<number> {
  const r = await db.query<{ n: number | string | null }>(sql);
  return Number(r.rows[0]?.n ?? 0);
}

export async function storedSignals(db: PgDb): Promise<number> {
  return scalar(db, 'SELECT count(*) AS n FROM signal_instances');
}

/**
 * Adds stored signals until `target` are stored, spread over FILL_NAMES names with gap-free seq
 * ids that continue each name's counter (so later publishes number after them), created over the
 * past `spanDays` days; plus one SUCCEEDED run of `workflowId` per SIGNALS_PER_RUN new signals,
 * started by one of them (its TRIGGERED lineage edge and firing row). Returns the rows added.
 */
export async function fillSignals(db: PgDb, target: number, workflowId: string, spanDays = 30): Promise<{ signals: number; runs: number }> {
  const have = await storedSignals(db);
  let added = 0;
  let runs = 0;
  while (have + added < target) {
    const n = Math.min(CHUNK, target - have - added);
    await db.tx(async (tx) => {
      // Each name's next seq ids: the counter row, created when missing.
      await tx.query(
        `INSERT INTO signal_names (name, last_seq) SELECT 'bench/n' || k, 0 FROM generate_series(0, $1::int - 1) AS k ON CONFLICT (name) DO NOTHING`,
        [FILL_NAMES],
      );
      await tx.query(
        `WITH base AS (
           SELECT name, last_seq FROM signal_names WHERE name LIKE 'bench/n%' FOR UPDATE
         ), rows AS (
           SELECT g, 'bench/n' || (g % $2::int) AS name, g / $2::int + 1 AS k FROM generate_series(0, $1::bigint - 1) AS g
         )
         INSERT INTO signal_instances (name, seq_id, instance_id, request_id, params, payload, source, create_time)
         SELECT r.name, b.last_seq + r.k, 'fill-' || b.last_seq + r.k, 'fill-' || b.last_seq + r.k,
                jsonb_build_object('shard', 'F' || (r.g % 7), 'row', r.g), jsonb_build_object('note', 'scale fill'),
                '{"type":"REST"}'::jsonb, now() - make_interval(secs => ((r.g * 7919) % ($3::bigint * 86400))::double precision)
         FROM rows r JOIN base b ON b.name = r.name`,
        [n, FILL_NAMES, spanDays],
      );
      await tx.query(
        `UPDATE signal_names s SET last_seq = s.last_seq + (($1::bigint - 1 - k) / $2::int) + 1
         FROM generate_series(0, $2::int - 1) AS k WHERE s.name = 'bench/n' || k AND k < $1::bigint`,
        [n, FILL_NAMES],
      );
      const r = Math.floor(n / SIGNALS_PER_RUN);
      if (r > 0) runs += await fillRuns(tx, workflowId, r);
    });
    added += n;
  }
  return { signals: added, runs };
}

/** `count` SUCCEEDED runs of `workflowId`, each TRIGGERED by a recent signal of bench/n0 (lineage + firing). */
async function fillRuns(tx: { query: PgDb['query'] }, workflowId: string, count: number): Promise<number> {
  const st = await tx.query<{ last: number | string }>(
    `INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, $2)
     ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + EXCLUDED.last_instance_id
     RETURNING last_instance_id AS last`,
    [workflowId, count],
  );
  const base = Number(st.rows[0]!.last) - count;
  const top = await tx.query<{ s: number | string }>(`SELECT last_seq AS s FROM signal_names WHERE name = 'bench/n0'`);
  const topSeq = Number(top.rows[0]!.s);
  await tx.query(
    `WITH ins AS (
       INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator, params, created_at, started_at, ended_at, updated_at)
       SELECT $1, 1, $2::bigint + g, 1, 'SUCCEEDED', 'fill-run-' || ($2::bigint + g),
              jsonb_build_object('type', 'SIGNAL'), '{}'::jsonb, now() - make_interval(secs => g::double precision),
              now() - make_interval(secs => g::double precision), now() - make_interval(secs => g::double precision), now()
       FROM generate_series(1, $3::int) AS g
       RETURNING instance_id
     )
     INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
     SELECT 'TRIGGERED', 'bench/n0', greatest(1, $4::bigint - (instance_id - $2::bigint) % greatest($4::bigint, 1)), $1, instance_id::text FROM ins`,
    [workflowId, base, count, topSeq],
  );
  return count;
}

/**
 * Queues `count` CREATED instances of `workflowId` (version 1) and a dispatch job for them, as a
 * burst of starts would leave them: the run strategy begins them once an engine runs.
 */
export async function queueBacklog(db: PgDb, workflowId: string, count: number): Promise<void> {
  await db.tx(async (tx) => {
    const st = await tx.query<{ last: number | string }>(
      `INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, $2)
       ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + EXCLUDED.last_instance_id
       RETURNING last_instance_id AS last`,
      [workflowId, count],
    );
    const base = Number(st.rows[0]!.last) - count;
    await tx.query(
      `WITH ins AS (
         INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator)
         SELECT $1, 1, $2::bigint + g, 1, 'CREATED', 'backlog-' || ($2::bigint + g), jsonb_build_object('type', 'MANUAL')
         FROM generate_series(1, $3::int) AS g
         RETURNING id, request_id
       )
       INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
       SELECT id, NULL, 'CREATED', 'created by request ' || request_id FROM ins`,
      [workflowId, base, count],
    );
  });
  await db.query('ANALYZE baton_workflow_instances');
}

/** Bytes on disk: the database, and the signal and run tables with their indexes and TOAST. */
export async function diskBytes(db: PgDb): Promise<{ database: number; signals: number; runs: number }> {
  const r = await db.query<{ database: string; signals: string; runs: string }>(
    `SELECT pg_database_size(current_database())::text AS database,
            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
              WHERE c.relkind IN ('r', 'p') AND (c.relname LIKE 'signal\\_instances%' OR c.relname = 'signal_lineage'))::text AS signals,
            (SELECT coalesce(sum(pg_total_relation_size(c.oid)), 0) FROM pg_class c
              WHERE c.relkind IN ('r', 'p') AND c.relname IN ('baton_workflow_instances', 'baton_instance_timeline', 'baton_step_attempts', 'baton_step_timeline'))::text AS runs`,
  );
  const row = r.rows[0]!;
  return { database: Number(row.database), signals: Number(row.signals), runs: Number(row.runs) };
}
