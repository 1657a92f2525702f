/**
 * Scheduler benchmark, on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else
 * BATON_TEST_PG_URL, else a throwaway server started here): 100,000 time triggers (one per
 * workflow, four cron shapes in three zones) all due at the same instant. A real timer-driven
 * Scheduler fires them; each start inserts an instance row (UNIQUE request id) in the same
 * transaction that advances the trigger, as the engine's start port will. Measured: delay from
 * the scheduled fire time to the instance row's clock_timestamp(), and duplicates.
 * Prints a table and, as its last line, one JSON object.
 */
import { migrate, PgDb, type Queryable } from '@baton/engine-core';
import { Scheduler, schedulerMigrations, type SyncItem, type TimeStartRequest } from '@baton/scheduler';
import { cpus, loadavg } from 'node:os';
import { DateTime } from 'luxon';
import { createDatabase, startPostgres } from '../scripts/infra/postgres.js';

const TRIGGERS = Number(process.env.BENCH_TRIGGERS ?? 100_000);
const LEAD_MS = Number(process.env.BENCH_LEAD_MS ?? 20_000);
const TARGET_MS = 10_000;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/** Cron expressions in several zones that all fire at `at`. */
function cronsFiringAt(at: number): Array<{ cron: string; timezone: string }> {
  const shapes: Array<{ cron: string; timezone: string }> = [];
  for (const timezone of ['UTC', 'America/New_York', 'Asia/Kolkata']) {
    const d = DateTime.fromMillis(at, { zone: timezone });
    shapes.push({ cron: `${d.second} ${d.minute} ${d.hour} * * ?`, timezone });
  }
  const u = DateTime.fromMillis(at, { zone: 'UTC' });
  shapes.push({ cron: `${u.second} ${u.minute} * * * ?`, timezone: 'UTC' });
  return shapes;
}

async function main(): Promise<void> {
  let adminUrl = process.env.BATON_BENCH_PG_URL ?? process.env.DATABASE_URL ?? process.env.BATON_TEST_PG_URL;
  let stopServer: (() => Promise<void>) | undefined;
  if (!adminUrl) {
    const pg = await startPostgres();
    adminUrl = pg.url;
    stopServer = () => pg.stop();
  }
  const database = await createDatabase(adminUrl, 'baton_bench');
  const db = new PgDb({ connectionString: database.url, max: 12, applicationName: 'scheduler-bench' });
  try {
    await migrate(db, [schedulerMigrations]);
    await db.exec(`CREATE TABLE bench_instances (
      id BIGSERIAL PRIMARY KEY, request_id TEXT NOT NULL UNIQUE, workflow_id TEXT NOT NULL, run_ts BIGINT NOT NULL,
      initiator JSONB NOT NULL, dup_attempts INTEGER NOT NULL DEFAULT 0,
      created_ms BIGINT NOT NULL DEFAULT (extract(epoch from clock_timestamp()) * 1000)::bigint)`);

    const starter = {
      async startWorkflow(tx: Queryable, req: TimeStartRequest) {
        const r = await tx.query<{ id: number; created: boolean }>(
          `INSERT INTO bench_instances (request_id, workflow_id, run_ts, initiator) VALUES ($1, $2, $3, $4::jsonb)
           ON CONFLICT (request_id) DO UPDATE SET dup_attempts = bench_instances.dup_attempts + 1
           RETURNING id, (xmax = 0) AS created`,
          [req.requestId, req.workflowId, req.params.RUN_TS, JSON.stringify(req.initiator)],
        );
        return { workflowInstanceId: r.rows[0]!.id, created: r.rows[0]!.created };
      },
      async startWorkflows(tx: Queryable, reqs: readonly TimeStartRequest[]) {
        const r = await tx.query<{ id: number; created: boolean }>(
          `INSERT INTO bench_instances (request_id, workflow_id, run_ts, initiator)
           SELECT * FROM unnest($1::text[], $2::text[], $3::bigint[], $4::jsonb[])
           ON CONFLICT (request_id) DO UPDATE SET dup_attempts = bench_instances.dup_attempts + 1
           RETURNING id, (xmax = 0) AS created`,
          [reqs.map((q) => q.requestId), reqs.map((q) => q.workflowId), reqs.map((q) => q.params.RUN_TS), reqs.map((q) => JSON.stringify(q.initiator))],
        );
        return r.rows.map((row) => ({ workflowInstanceId: row.id, created: row.created }));
      },
    };

    // Fire time: a whole second far enough ahead to register everything first.
    const fireAt = Math.ceil((Date.now() + LEAD_MS) / 1000) * 1000;
    const shapes = cronsFiringAt(fireAt);
    const scheduler = new Scheduler({ db, starter, compile: { minIntervalMs: 1000 }, concurrency: Number(process.env.BENCH_CONCURRENCY ?? 3), txBatch: Number(process.env.BENCH_TX_BATCH ?? 2000) });
    const t0 = performance.now();
    for (let i = 0; i < TRIGGERS; i += 5000) {
      const items: SyncItem[] = [];
      for (let j = i; j < Math.min(i + 5000, TRIGGERS); j++) {
        items.push({ workflowId: `bench-wf-${j}`, active: { version: 1, triggers: [{ type: 'CRON', ...shapes[j % shapes.length]! }] } });
      }
      await scheduler.syncMany(items);
    }
    const registerMs = performance.now() - t0;
    const due = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM scheduler_triggers WHERE next_fire_ms = $1', [fireAt]);
    if (due.rows[0]!.n !== TRIGGERS) throw new Error(`expected ${TRIGGERS} triggers due at ${new Date(fireAt).toISOString()}, found ${due.rows[0]!.n}`);
    if (Date.now() >= fireAt) throw new Error(`registering took ${Math.round(registerMs)} ms, past the fire time; raise BENCH_LEAD_MS`);

    scheduler.start();
    const deadline = fireAt + 60_000;
    let created = 0;
    while (Date.now() < deadline) {
      created = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_instances')).rows[0]!.n;
      if (created >= TRIGGERS) break;
      await sleep(250);
    }
    await scheduler.stop();

    const rows = await db.query<{ delay: string }>('SELECT (created_ms - run_ts)::text AS delay FROM bench_instances ORDER BY 1');
    const delays = rows.rows.map((r) => Number(r.delay)).sort((a, b) => a - b);
    const dup = (await db.query<{ dups: number; distinct_req: number; total: number }>(
      'SELECT COALESCE(sum(dup_attempts), 0)::int AS dups, count(DISTINCT request_id)::int AS distinct_req, count(*)::int AS total FROM bench_instances',
    )).rows[0]!;
    const duplicates = dup.dups + (dup.total - dup.distinct_req);
    const wrongRunTs = (await db.query<{ n: number }>('SELECT count(*)::int AS n FROM bench_instances WHERE run_ts <> $1', [fireAt])).rows[0]!.n;
    const result = {
      bench: 'scheduler',
      triggers: TRIGGERS,
      started: delays.length,
      missing: TRIGGERS - delays.length,
      duplicates,
      wrong_run_ts: wrongRunTs,
      min_ms: delays[0] ?? null,
      p50_ms: percentile(delays, 50),
      p99_ms: percentile(delays, 99),
      max_ms: delays.at(-1) ?? null,
      within_10s: delays.filter((d) => d <= TARGET_MS).length,
      target_met: delays.length === TRIGGERS && (delays.at(-1) ?? Infinity) <= TARGET_MS && duplicates === 0,
      register_ms: Math.round(registerMs),
      cpus: cpus().length,
      load_avg_1m: Number(loadavg()[0]!.toFixed(2)),
      starter: 'table-backed WorkflowStarter.startWorkflows (one INSERT per batch, UNIQUE request id, in the firing transaction); the engine start port is not transaction-capable yet',
      postgres: adminUrl.replace(/\/\/[^@]*@/, '//'),
    };
    const line = (k: string, v: unknown) => console.log(`${k.padEnd(28)} ${String(v)}`);
    console.log('Scheduler: 100k triggers due at one instant');
    line('triggers registered', `${TRIGGERS} in ${result.register_ms} ms`);
    line('fire time', new Date(fireAt).toISOString());
    line('instances started', `${result.started} (missing ${result.missing})`);
    line('delay min / p50 / p99 / max (ms)', `${result.min_ms} / ${result.p50_ms} / ${result.p99_ms} / ${result.max_ms}`);
    line('started within 10 s', `${result.within_10s} of ${TRIGGERS}`);
    line('duplicates', result.duplicates);
    line('RUN_TS != fire time', result.wrong_run_ts);
    line('machine', `${result.cpus} CPUs, load average ${result.load_avg_1m}`);
    line('target met', result.target_met);
    console.log(JSON.stringify(result));
  } finally {
    await db.close();
    await database.drop();
    await stopServer?.();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
