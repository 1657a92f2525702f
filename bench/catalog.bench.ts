/**
 * Lineage catalog benchmark: `lineageCatalog`, the read model behind `GET /api/v3/lineage/catalog`,
 * over BENCH_CATALOG_WORKFLOWS active workflows (default 2,000) on PGlite and on PostgreSQL
 * (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL, else a throwaway server started
 * here; BENCH_CATALOG_DBS=pglite,postgres). Each workflow has four steps: it is started by the
 * signal the workflow before it emits, one step waits for a signal of a workflow 50 before, one
 * emits its own signal, and every tenth has a cron trigger. Cases, each BENCH_CATALOG_RUNS times
 * (default 30) after 3 warm-up calls: the whole catalog, a workflow at depth 2, a signal at depth
 * 1, and "after a push" (one workflow pushed again with a change, then a focused read: what the
 * first read after any definition change costs). Prints a table and, as its last line, one JSON
 * object (medians in ms).
 *
 * Measured 2026-12-07 on 2 cores shared with other jobs (load average 15-19), 2,000 workflows,
 * medians in ms, PGlite / PostgreSQL. Before (every request read and parsed every definition):
 * whole catalog 1502 / 735, workflow depth 2 1144 / 346, signal depth 1 1118 / 382, first read
 * after a push 1942 / 538. After (graph kept per process, keyed by the active workflows'
 * fingerprint; a rebuild parses only the changed versions): 12.7 / 16.3, 5.9 / 7.6, 8.2 / 8.3,
 * and 250 / 188 for the first read after a push (the graph is rebuilt from the kept versions).
 */
import { engineMigrations, migrate, parseWorkflowJson, PGliteDb, PgDb, pushWorkflow, type Db } from '@baton/engine-core';
import { lineageCatalog, signalsMigrations, type CatalogQuery } from '@baton/signals';
import { cpus, loadavg } from 'node:os';
import { createDatabase } from '../scripts/infra/postgres.js';
import { benchPostgres, median } from './support.js';

const WORKFLOWS = Number(process.env.BENCH_CATALOG_WORKFLOWS ?? 2000);
const RUNS = Number(process.env.BENCH_CATALOG_RUNS ?? 30);
const DBS = (process.env.BENCH_CATALOG_DBS ?? 'pglite,postgres').split(',');

const wfId = (i: number): string => `cat-wf-${String(i).padStart(5, '0')}`;
const sig = (i: number): string => `bench/out-${i}`;

function definition(i: number, variant = 0): string {
  const steps = [
    { step: { id: 'load', type: 'NoOp', transition: { successors: { wait: 'true' } } } },
    { step: { id: 'wait', type: 'NoOp', ...(i >= 50 ? { signal_dependencies: [{ name: sig(i - 50), match_params: {} }] } : {}), transition: { successors: { work: 'true' } } } },
    { step: { id: 'work', type: 'NoOp', params: { n: { value: variant, type: 'LONG' } }, transition: { successors: { publish: 'true' } } } },
    { step: { id: 'publish', type: 'NoOp', signal_outputs: [{ name: sig(i), params: {} }], transition: {} } },
  ];
  const workflow: Record<string, unknown> = { id: wfId(i), name: `Bench workflow ${i}`, steps };
  if (i > 0) workflow.signal_triggers = [{ definitions: { [sig(i - 1)]: {} } }];
  if (i % 10 === 0) workflow.time_triggers = [{ type: 'CRON', cron: '0 3 * * *', timezone: 'UTC' }];
  return JSON.stringify({ properties: { owner: 'bench' }, workflow });
}

async function push(db: Db, i: number, variant = 0): Promise<void> {
  const parsed = parseWorkflowJson(definition(i, variant));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => `${e.field}: ${e.message}`).join('; '));
  await pushWorkflow(db, parsed.value);
}

interface Row {
  db: string;
  case: string;
  median_ms: number;
  nodes: number;
}

async function measure(db: Db, kind: string): Promise<Row[]> {
  const t0 = performance.now();
  for (let i = 0; i < WORKFLOWS; i++) await push(db, i);
  console.error(`${kind}: pushed ${WORKFLOWS} workflows in ${Math.round(performance.now() - t0)} ms`);
  const cases: Array<{ name: string; query: CatalogQuery; before?: (n: number) => Promise<void> }> = [
    { name: 'whole catalog', query: {} },
    { name: 'workflow, depth 2', query: { focus: { workflow: wfId(WORKFLOWS >> 1) }, depth: 2 } },
    { name: 'signal, depth 1', query: { focus: { signal: sig(WORKFLOWS >> 2) }, depth: 1 } },
    { name: 'after a push, workflow depth 2', query: { focus: { workflow: wfId(WORKFLOWS >> 1) }, depth: 2 }, before: (n) => push(db, 7, n + 1) },
  ];
  const rows: Row[] = [];
  for (const c of cases) {
    const times: number[] = [];
    let nodes = 0;
    for (let r = 0; r < RUNS + 3; r++) {
      await c.before?.(r);
      const start = performance.now();
      const g = await lineageCatalog(db, c.query);
      if (r >= 3) times.push(performance.now() - start);
      nodes = g.nodes.length;
    }
    rows.push({ db: kind, case: c.name, median_ms: Math.round(median(times) * 10) / 10, nodes });
  }
  return rows;
}

async function main(): Promise<void> {
  const rows: Row[] = [];
  if (DBS.includes('pglite')) {
    const db = await PGliteDb.open();
    try {
      await migrate(db, [engineMigrations, signalsMigrations]);
      rows.push(...(await measure(db, 'pglite')));
    } finally {
      await db.close();
    }
  }
  if (DBS.includes('postgres')) {
    const server = await benchPostgres();
    try {
      const database = await createDatabase(server.adminUrl, 'baton_bench_catalog');
      const db = new PgDb({ connectionString: database.url, max: 4 });
      try {
        await migrate(db, [engineMigrations, signalsMigrations]);
        rows.push(...(await measure(db, 'postgres')));
      } finally {
        await db.close();
        await database.drop();
      }
    } finally {
      await server.stop();
    }
  }
  console.log(`lineage catalog, ${WORKFLOWS} active workflows, ${RUNS} runs a case (${cpus().length} cores, load ${loadavg()[0]!.toFixed(1)})`);
  console.log('db        case                              median ms   nodes');
  for (const r of rows) console.log(`${r.db.padEnd(10)}${r.case.padEnd(34)}${String(r.median_ms).padStart(9)}${String(r.nodes).padStart(8)}`);
  console.log(JSON.stringify({ bench: 'catalog', workflows: WORKFLOWS, runs: RUNS, load: Number(loadavg()[0]!.toFixed(1)), results: rows }));
}

await main();
