/**
 * List query benchmark on PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else
 * BATON_TEST_PG_URL, else a throwaway server started here): `listInstancesAcross`, the read model
 * behind `GET /api/v3/instances` and `baton instance list`, over 1,000, 10,000 and 100,000
 * instances (BENCH_LIST_SIZES=1000,10000,100000) spread over 7 workflows, five statuses and four
 * initiator kinds, plus one loop iteration per ten instances (never listed). Each size gets a fresh
 * database, migrated, seeded in bulk and ANALYZEd; each query runs BENCH_LIST_RUNS times (default
 * 200) after 20 warm-up runs, one page of 50. Target: the 10,000-instance status filter answers in
 * < 50 ms median, and cost does not grow with the data (keyset pages read an index in order).
 * BENCH_LIST_EXPLAIN=1 prints each query's EXPLAIN ANALYZE to stderr. Prints a table and, as its
 * last line, one JSON object.
 *
 * Measured 2026-12-06 on 2 cores shared with other jobs (load average 16-20): status=FAILED, one
 * page of 50, median 4.6 ms at 1,000 instances, 1.8 ms at 10,000, 2.0 ms at 100,000 (p95 under
 * 13 ms throughout), each read in order from baton_instances_list_by_status.
 */
import { instanceListQuery, listInstancesAcross, migrate, engineMigrations, PgDb, type InstanceListQuery } from '@baton/engine-core';
import { cpus, loadavg } from 'node:os';
import { seedInstances } from '../packages/engine-core/test/lists/seed.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { benchPostgres } from './support.js';

const SIZES = (process.env.BENCH_LIST_SIZES ?? '1000,10000,100000').split(',').map(Number);
const RUNS = Number(process.env.BENCH_LIST_RUNS ?? 200);
const TARGET_MS = 50;

interface Case {
  name: string;
  query: InstanceListQuery;
  /** Pages to skip (following next_cursor) before the measured page. */
  deep?: number;
}

const CASES: Case[] = [
  { name: 'status=FAILED', query: { statuses: ['FAILED'] } },
  { name: 'status=FAILED,TIMED_OUT', query: { statuses: ['FAILED', 'TIMED_OUT'] } },
  { name: 'status=FAILED, page 20', query: { statuses: ['FAILED'] }, deep: 19 },
  { name: 'no filter', query: {} },
  { name: 'workflow=wf-3 status=STOPPED', query: { workflowIds: ['wf-3'], statuses: ['STOPPED'] } },
  { name: 'initiator=SIGNAL since=30m', query: { initiators: ['SIGNAL'], since: new Date(Date.now() - 30 * 60_000) } },
];

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
};
const p95 = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil(0.95 * s.length) - 1)]!;
};

interface Row {
  size: number;
  query: string;
  median_ms: number;
  p95_ms: number;
  rows: number;
  index: string;
}

async function measure(db: PgDb, size: number): Promise<Row[]> {
  await seedInstances(db, size, { workflows: 7 });
  await db.query('ANALYZE baton_workflow_instances');
  const out: Row[] = [];
  for (const c of CASES) {
    const query: InstanceListQuery = { ...c.query, limit: 50 };
    for (let i = 0; i < (c.deep ?? 0); i++) {
      const page = await listInstancesAcross(db, query);
      if (!page.nextCursor) break;
      query.cursor = page.nextCursor;
    }
    const { sql, params } = instanceListQuery(query);
    const plan = (await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params)).rows.map((r) => r['QUERY PLAN']).join('\n');
    const index = /(?:Index (?:Only )?Scan(?: Backward)? using|Bitmap Index Scan on) (baton_instances_\w+)/.exec(plan)?.[1] ?? (/Seq Scan on baton_workflow_instances/.test(plan) ? 'SEQ SCAN' : '?');
    if (process.env.BENCH_LIST_EXPLAIN) {
      const analyzed = await db.query<{ 'QUERY PLAN': string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql}`, params);
      console.error(`-- ${size} ${c.name}\n${analyzed.rows.map((r) => r['QUERY PLAN']).join('\n')}`);
    }
    let rows = 0;
    for (let i = 0; i < 20; i++) await listInstancesAcross(db, query);
    const times: number[] = [];
    for (let i = 0; i < RUNS; i++) {
      const t0 = process.hrtime.bigint();
      rows = (await listInstancesAcross(db, query)).items.length;
      times.push(Number(process.hrtime.bigint() - t0) / 1e6);
    }
    out.push({ size, query: c.name, median_ms: +median(times).toFixed(2), p95_ms: +p95(times).toFixed(2), rows, index });
  }
  return out;
}

async function main(): Promise<void> {
  const server = await benchPostgres();
  const rows: Row[] = [];
  try {
    for (const size of SIZES) {
      const database = await createDatabase(server.adminUrl, 'baton_bench_lists');
      const db = new PgDb({ connectionString: database.url, max: 2 });
      try {
        await migrate(db, [engineMigrations]);
        const got = await measure(db, size);
        rows.push(...got);
        for (const r of got) console.error(`${String(r.size).padStart(7)}  ${r.query.padEnd(30)} median ${r.median_ms.toFixed(2).padStart(7)} ms  p95 ${r.p95_ms.toFixed(2).padStart(7)} ms  ${r.rows} rows  ${r.index}`);
      } finally {
        await db.close();
        await database.drop();
      }
    }
  } finally {
    await server.stop();
  }
  console.log('');
  console.log(`instances  query                           median ms    p95 ms  rows  index`);
  for (const r of rows) console.log(`${String(r.size).padStart(9)}  ${r.query.padEnd(30)}  ${r.median_ms.toFixed(2).padStart(9)}  ${r.p95_ms.toFixed(2).padStart(8)}  ${String(r.rows).padStart(4)}  ${r.index}`);
  const target = rows.find((r) => r.size === 10_000 && r.query === 'status=FAILED');
  console.log(
    JSON.stringify({
      bench: 'lists',
      runs: RUNS,
      cpus: cpus().length,
      loadavg: loadavg().map((l) => +l.toFixed(2)),
      target_ms: TARGET_MS,
      status_filter_10k_median_ms: target?.median_ms ?? null,
      met: target ? target.median_ms < TARGET_MS : null,
      results: rows,
    }),
  );
}

await main();
