/**
 * Run retention pass time before and after the run history was partitioned (issue 16), on one
 * PostgreSQL, in the same run: two databases filled alike with RUNS expired top-level runs (2 step
 * attempts each; 3 instance and 4 step timeline rows, 2 log chunks per run) plus KEPT recently
 * ended ones. "before": the family purge as it was at commit fd29099 (it deleted the timelines and
 * chunks row by row, in the same batched statement; read with `git show`), "after": today's purge
 * (instances, attempts) then the expired weekly history partitions dropped whole.
 *
 *   npx tsx bench/run-history-retention.ts [RUNS=10000] [KEPT=1000]
 *
 * PostgreSQL: BATON_BENCH_PG_URL / DATABASE_URL, else one started from BATON_CACHE_DIR.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { dropExpiredHistory, engineMigrations, ensureHistoryPartitions, migrate, PgDb, purgeExpiredRuns, type Db } from '@baton/engine-core';
import { createDatabase } from '../scripts/infra/postgres.js';
import { benchPostgres } from './support.js';

const RUNS = Number(process.argv[2] ?? 10_000);
const KEPT = Number(process.argv[3] ?? 1_000);
const DAY = 86_400_000;
const NOW = new Date(Date.now() + 100 * DAY);
const CUTOFF = new Date(NOW.getTime() - 90 * DAY);

async function fill(db: Db): Promise<void> {
  // Expired runs end 95 days before NOW, kept ones 10 days before.
  await db.query(
    `INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, created_at, ended_at)
     SELECT 'bench', 1, g, 1, 'SUCCEEDED', $3::timestamptz - interval '1 minute', CASE WHEN g <= $1::int THEN $3::timestamptz ELSE $4::timestamptz END
     FROM generate_series(1, $1::int + $2::int) g`,
    [RUNS, KEPT, new Date(NOW.getTime() - 95 * DAY), new Date(NOW.getTime() - 10 * DAY)],
  );
  await db.query(`INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message) SELECT i.id, NULL, s, 'bench' FROM baton_workflow_instances i, unnest(ARRAY['CREATED','IN_PROGRESS','SUCCEEDED']) s`);
  await db.query(`INSERT INTO baton_step_attempts (instance_pk, step_id, status) SELECT i.id, s, 'SUCCEEDED' FROM baton_workflow_instances i, unnest(ARRAY['a','b']) s`);
  await db.query(`INSERT INTO baton_step_timeline (attempt_pk, to_status, message) SELECT a.id, s, 'bench' FROM baton_step_attempts a, unnest(ARRAY['RUNNING','SUCCEEDED']) s`);
  await db.query(`INSERT INTO baton_step_logs (attempt_pk, stream, total_bytes, stored_bytes) SELECT id, 'stdout', 64, 64 FROM baton_step_attempts`);
  await db.query(`INSERT INTO baton_step_log_chunks (attempt_pk, stream, byte_offset, data) SELECT id, 'stdout', 0, convert_to(repeat('x', 64), 'UTF8') FROM baton_step_attempts`);
  await db.query('ANALYZE');
}

async function withDb<T>(adminUrl: string, fn: (db: Db) => Promise<T>): Promise<T> {
  const d = await createDatabase(adminUrl, 'baton_history_bench');
  const db = new PgDb({ connectionString: d.url, max: 4, applicationName: 'history-bench' });
  try {
    await migrate(db, [engineMigrations]);
    await ensureHistoryPartitions(db);
    await fill(db);
    return await fn(db);
  } finally {
    await db.close();
    await d.drop();
  }
}

const remaining = async (db: Db): Promise<string> =>
  (await db.query<{ t: string }>(`SELECT (SELECT count(*) FROM baton_workflow_instances) || ' runs, ' || (SELECT count(*) FROM baton_instance_timeline) || ' instance timeline, ' || (SELECT count(*) FROM baton_step_timeline) || ' step timeline, ' || (SELECT count(*) FROM baton_step_log_chunks) || ' chunks' AS t`)).rows[0]!.t;

async function main(): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), 'history16-bench-'));
  const oldFile = join(dir, 'old-run-retention.ts');
  writeFileSync(oldFile, execFileSync('git', ['show', 'fd29099:packages/engine-core/src/retention/run-retention.ts'], { encoding: 'utf8' }));
  const old = (await import(pathToFileURL(oldFile).href)) as { purgeExpiredRuns: typeof purgeExpiredRuns };
  const pg = await benchPostgres();
  try {
    const maxBatches = Math.ceil(RUNS / 200) + 1;
    const before = await withDb(pg.adminUrl, async (db) => {
      const t0 = performance.now();
      const r = await old.purgeExpiredRuns(db, { cutoff: CUTOFF, now: NOW, maxBatches });
      const ms = performance.now() - t0;
      return { ms, runs: r.runs, left: await remaining(db) };
    });
    const after = await withDb(pg.adminUrl, async (db) => {
      const t0 = performance.now();
      await ensureHistoryPartitions(db, { now: NOW });
      const t1 = performance.now();
      const r = await purgeExpiredRuns(db, { cutoff: CUTOFF, now: NOW, maxBatches });
      const t2 = performance.now();
      const h = await dropExpiredHistory(db, CUTOFF, { now: NOW });
      const t3 = performance.now();
      return { ms: t3 - t0, ensureMs: t1 - t0, purgeMs: t2 - t1, dropMs: t3 - t2, runs: r.runs, dropped: h.dropped, left: await remaining(db) };
    });
    console.log(`before (batched deletes of everything): ${before.ms.toFixed(0)} ms for ${before.runs} runs; left: ${before.left}`);
    console.log(
      `after (batched purge + partition drop): ${after.ms.toFixed(0)} ms (create ahead ${after.ensureMs.toFixed(0)}, purge ${after.purgeMs.toFixed(0)}, drop ${after.dropMs.toFixed(0)}) for ${after.runs} runs; left: ${after.left}`,
    );
    for (const d of after.dropped) console.log(`  dropped ${d.partition}: ${d.rows} rows, ${d.kept} kept`);
    console.log(JSON.stringify({ runs: RUNS, kept: KEPT, before_ms: Math.round(before.ms), after_ms: Math.round(after.ms), after_purge_ms: Math.round(after.purgeMs), after_drop_ms: Math.round(after.dropMs) }));
  } finally {
    await pg.stop();
  }
}

await main();
