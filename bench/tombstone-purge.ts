/**
 * Signal tombstone removal cost (issue 16, build 2) on one PostgreSQL: TOMBS signal tombstones,
 * each with one TRIGGERED lineage edge to its own run; the first half's runs are purged (a run
 * tombstone, no instance row), the second half's are stored. One walk (as a retention pass runs it,
 * unbounded here) removes the first half with their edges; a second walk finds nothing to remove
 * (the steady state: every pass looks at every remaining tombstone).
 *
 *   npx tsx bench/tombstone-purge.ts [TOMBS=200000]
 *
 * PostgreSQL: BATON_BENCH_PG_URL / DATABASE_URL, else one started from BATON_CACHE_DIR.
 */
import { engineMigrations, migrate, PgDb } from '@baton/engine-core';
import { purgeTombstones, signalsMigrations } from '@baton/signals';
import { createDatabase } from '../scripts/infra/postgres.js';
import { benchPostgres } from './support.js';

const TOMBS = Number(process.argv[2] ?? 200_000);
const half = Math.floor(TOMBS / 2);

const pg = await benchPostgres();
const d = await createDatabase(pg.adminUrl, 'baton_tomb_bench');
const db = new PgDb({ connectionString: d.url, max: 4, applicationName: 'tomb-bench' });
try {
  await migrate(db, [engineMigrations, signalsMigrations]);
  await db.query(
    `INSERT INTO baton_run_tombstones (workflow_id, instance_id, runs, last_run_id, status, created_at, ended_at, purged_at)
     SELECT 'bench', g, 1, 1, 'SUCCEEDED', now(), now(), now() FROM generate_series(1, $1::int) g`,
    [half],
  );
  await db.query(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, created_at, ended_at)
     SELECT 'bench', 1, g, 1, 'SUCCEEDED', now(), now() FROM generate_series($1::int + 1, $2::int) g`,
    [half, TOMBS],
  );
  await db.query(
    `INSERT INTO signal_tombstones (name, seq_id, instance_id, create_time, purged_at)
     SELECT 'bench/s' || (g % 20), g, 'i' || g, now(), now() FROM generate_series(1, $1::int) g`,
    [TOMBS],
  );
  await db.query(
    `INSERT INTO signal_lineage (kind, signal_name, seq_id, workflow_id, workflow_instance_id)
     SELECT 'TRIGGERED', 'bench/s' || (g % 20), g, 'bench', g::text FROM generate_series(1, $1::int) g`,
    [TOMBS],
  );
  await db.query('ANALYZE');
  const t0 = performance.now();
  const first = await purgeTombstones(db, { maxBatches: 1_000_000 });
  const t1 = performance.now();
  const second = await purgeTombstones(db, { maxBatches: 1_000_000 });
  const t2 = performance.now();
  console.log(`first walk: ${(t1 - t0).toFixed(0)} ms, ${first.scanned} looked at, ${first.removed} removed (${first.edges} edges), ${first.batches} statements`);
  console.log(`second walk: ${(t2 - t1).toFixed(0)} ms, ${second.scanned} looked at, ${second.removed} removed`);
  console.log(JSON.stringify({ tombstones: TOMBS, first_ms: Math.round(t1 - t0), removed: first.removed, second_ms: Math.round(t2 - t1), kept: second.scanned }));
} finally {
  await db.close();
  await d.drop();
  await pg.stop();
}
