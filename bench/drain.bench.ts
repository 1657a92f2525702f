/**
 * The backlog drain of bench/scale.bench.ts alone, with its per-instance cost: a quick, repeatable
 * measurement (no signal fill). Queues BENCH_DRAIN_INSTANCES (default 10,000) instances of a
 * one-NoOp PARALLEL workflow (workflow_concurrency BENCH_DRAIN_WORKFLOW_CONCURRENCY, default 500;
 * engine concurrency BENCH_DRAIN_ENGINE_CONCURRENCY, default 32), drains them with one engine on
 * PostgreSQL (as bench/scale.bench.ts: BATON_BENCH_PG_URL, … else a throwaway server) and prints
 * the rate at 100%, 50% and 10% left, and per instance: transactions, statements (round trips),
 * NOTIFYs, queue jobs created, rows inserted/updated/deleted, CPU of this process and of PostgreSQL.
 * BENCH_DRAIN_STATEMENTS=1 also lists the statements by count.
 */
import { engineMigrations, migrate, PgDb } from '@baton/engine-core';
import { createDatabase } from '../scripts/infra/postgres.js';
import { measureDrain } from './scale-drain.js';
import { benchPostgres, cpuSince, cpuTimes, runMain, scopePostgresCpu } from './support.js';

const env = (k: string, d: string) => process.env[k] ?? d;
const N = Number(env('BENCH_DRAIN_INSTANCES', '10000'));
const say = (msg: string) => process.stderr.write(`bench: ${new Date().toISOString()} ${msg}\n`);

interface Counts {
  tx: number;
  statements: number;
  bySql: Map<string, number>;
  /** Per statement: when it was sent and how long it took (ms), for the time split. */
  timed: { key: string; at: number; ms: number }[];
}

/** Counts transactions and statements (each one round trip) the engine sends through `db`. */
function countQueries(db: PgDb): Counts {
  const counts: Counts = { tx: 0, statements: 0, bySql: new Map(), timed: [] };
  const note = <T>(sql: string, run: () => Promise<T>): Promise<T> => {
    counts.statements++;
    const key = sql.replace(/\s+/g, ' ').trim().slice(0, 90);
    counts.bySql.set(key, (counts.bySql.get(key) ?? 0) + 1);
    const at = performance.now();
    return run().finally(() => counts.timed.push({ key, at, ms: performance.now() - at }));
  };
  const query = db.query.bind(db);
  db.query = ((sql: string, params?: readonly unknown[]) => note(sql, () => query(sql, params))) as typeof db.query;
  const tx = db.tx.bind(db);
  db.tx = ((fn) =>
    tx((t) => {
      counts.tx++;
      counts.statements += 2; // BEGIN, COMMIT
      return fn({
        query: (sql: string, params?: readonly unknown[]) => note(sql, () => t.query(sql, params)),
      } as typeof t);
    })) as typeof db.tx;
  return counts;
}

async function tableStats(db: PgDb): Promise<Map<string, { ins: number; upd: number; del: number }>> {
  const r = await db.query<{ relname: string; ins: string; upd: string; del: string }>(
    `SELECT relname, n_tup_ins::text AS ins, n_tup_upd::text AS upd, n_tup_del::text AS del FROM pg_stat_user_tables WHERE relname LIKE 'baton\\_%'`,
  );
  return new Map(r.rows.map((x) => [x.relname, { ins: Number(x.ins), upd: Number(x.upd), del: Number(x.del) }]));
}

async function main(): Promise<void> {
  const server = await benchPostgres();
  const database = await createDatabase(server.adminUrl, 'baton_drain');
  const db = new PgDb({ connectionString: database.url, max: 16, applicationName: 'drain-bench' });
  try {
    await migrate(db, [engineMigrations]);
    await scopePostgresCpu(db);
    const notifies = { n: 0 };
    const listener = await db.pool.connect();
    listener.on('notification', () => notifies.n++);
    await listener.query('LISTEN baton_jobs');
    const jobsBefore = await db.query<{ v: string }>(`SELECT last_value::text AS v FROM baton_jobs_id_seq`);
    const statsBefore = await tableStats(db);
    const counts = countQueries(db);
    const cpu0 = cpuTimes();
    const drain = await measureDrain(
      db,
      {
        instances: N,
        workflowConcurrency: Number(env('BENCH_DRAIN_WORKFLOW_CONCURRENCY', '500')),
        engineConcurrency: Number(env('BENCH_DRAIN_ENGINE_CONCURRENCY', '32')),
        timeoutSeconds: Number(env('BENCH_DRAIN_TIMEOUT_SECONDS', '600')),
      },
      say,
    );
    const cpu = cpuSince(cpu0);
    await new Promise((r) => setTimeout(r, 200));
    listener.release();
    const jobsAfter = await db.query<{ v: string }>(`SELECT last_value::text AS v FROM baton_jobs_id_seq`);
    const statsAfter = await tableStats(db);
    const per = (x: number) => (x / Math.max(1, drain.drained)).toFixed(2);
    console.log(`drain of ${N}: ${drain.drained} ended (${drain.failed} not SUCCEEDED) in ${drain.totalSeconds.toFixed(1)} s (queued in ${drain.queueSeconds.toFixed(1)} s), ${drain.overallPerSecond.toFixed(0)}/s overall`);
    for (const w of drain.windows) console.log(`  at ${w.left} left: ${w.perSecond.toFixed(0)} instances/s (${w.ended} in ${w.seconds.toFixed(2)} s)`);
    console.log(`per instance (includes queueing the backlog): ${per(counts.tx)} transactions, ${per(counts.statements)} statements, ${per(notifies.n)} NOTIFYs, ${per(Number(jobsAfter.rows[0]!.v) - Number(jobsBefore.rows[0]!.v))} jobs created`);
    console.log(`CPU per instance: node ${((cpu.self * 1000) / drain.drained).toFixed(2)} ms, postgres ${((cpu.postgres * 1000) / drain.drained).toFixed(2)} ms`);
    const rows: string[] = [];
    for (const [t, a] of statsAfter) {
      const b = statsBefore.get(t) ?? { ins: 0, upd: 0, del: 0 };
      const d = { ins: a.ins - b.ins, upd: a.upd - b.upd, del: a.del - b.del };
      if (d.ins + d.upd + d.del > 0) rows.push(`${t} ins ${per(d.ins)} upd ${per(d.upd)} del ${per(d.del)}`);
    }
    console.log(`rows per instance: ${rows.join('; ')}`);
    if (process.env.BENCH_DRAIN_STATEMENTS === '1') {
      // Mean time of each statement in the first and the last third of the drain.
      const t0 = counts.timed.reduce((m, t) => Math.min(m, t.at), Infinity);
      const t1 = counts.timed.reduce((m, t) => Math.max(m, t.at), 0);
      const third = (t1 - t0) / 3;
      const mean = (key: string, lo: number, hi: number) => {
        const xs = counts.timed.filter((t) => t.key === key && t.at >= lo && t.at < hi);
        return xs.length === 0 ? '-' : (xs.reduce((a, t) => a + t.ms, 0) / xs.length).toFixed(2);
      };
      for (const [sql, c] of [...counts.bySql].sort((a, b) => b[1] - a[1])) {
        console.log(`  ${per(c).padStart(6)}  ${mean(sql, t0, t0 + third).padStart(7)} ${mean(sql, t1 - third, t1 + 1).padStart(7)} ms  ${sql}`);
      }
    }
    console.log(JSON.stringify({ bench: 'drain', ...drain, perInstance: { tx: counts.tx / drain.drained, statements: counts.statements / drain.drained, notifies: notifies.n / drain.drained, cpuNodeMs: (cpu.self * 1000) / drain.drained, cpuPgMs: (cpu.postgres * 1000) / drain.drained } }));
  } finally {
    await db.close();
    await database.drop();
    await server.stop();
  }
}

runMain(main);
