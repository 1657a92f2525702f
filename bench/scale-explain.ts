/**
 * The plan check of bench/scale.bench.ts: runs each measured query once on a session with
 * auto_explain reporting every plan back as a NOTICE, and names each Seq Scan over a big table
 * (a flat p99 at 20M signals needs index scans; a Seq Scan there grows with the data).
 */
import pg from 'pg';
import { PgDb } from '@baton/engine-core';

/** Tables with at least this many rows (pg_class.reltuples after ANALYZE) count as big. */
export const BIG_TABLE_ROWS = 100_000;

export interface PlanCheck {
  /** Per query label: the big tables it scans sequentially (empty: index scans only). */
  seqScans: Record<string, string[]>;
  /** Why the check could not run (auto_explain missing, not a superuser), else undefined. */
  unavailable?: string;
}

/** Runs `queries` once each on an auto_explain session of `url` and lists the Seq Scans over big tables. */
export async function checkPlans(db: PgDb, url: string, queries: Record<string, (q: PgDb) => Promise<unknown>>): Promise<PlanCheck> {
  const explain = new PgDb({ connectionString: url, max: 1, applicationName: 'scale-bench-explain' });
  let notices: string[] = [];
  explain.pool.on('connect', (c: pg.PoolClient) => {
    c.on('notice', (n) => notices.push(n.message ?? ''));
  });
  const seqScans: Record<string, string[]> = {};
  try {
    try {
      await explain.exec(`LOAD 'auto_explain'`);
      await explain.exec(`SET auto_explain.log_min_duration = 0; SET auto_explain.log_level = 'notice'; SET client_min_messages = 'notice'`);
    } catch (err) {
      return { seqScans, unavailable: `auto_explain could not be loaded: ${(err as Error).message}` };
    }
    const scanned = new Map<string, Set<string>>();
    for (const [label, run] of Object.entries(queries)) {
      notices = [];
      await run(explain);
      const tables = new Set<string>();
      for (const n of notices) for (const m of n.matchAll(/Seq Scan on (\w+)/g)) tables.add(m[1]!);
      scanned.set(label, tables);
    }
    const all = [...new Set([...scanned.values()].flatMap((s) => [...s]))];
    const rows = await db.query<{ name: string; n: number }>(`SELECT relname AS name, reltuples::float8 AS n FROM pg_class WHERE relname = ANY($1::text[])`, [all]);
    const big = new Set(rows.rows.filter((r) => r.n >= BIG_TABLE_ROWS).map((r) => r.name));
    for (const [label, tables] of scanned) seqScans[label] = [...tables].filter((t) => big.has(t));
    return { seqScans };
  } finally {
    await explain.close();
  }
}
