/**
 * One process of the engine before/after comparison (run by scripts/bench-compare.ts):
 *
 *   tsx scripts/bench-compare/engine-probe.ts <worktree> [postgres-admin-url]
 *
 * Loads <worktree>'s engine (its packages/engine-core/src) and does what bench/engine.bench.ts
 * does on PGlite and PostgreSQL — a live engine with the same options starts one-NoOp workflows
 * one at a time, then chains of 40 NoOps — with its Db wrapped (bench/db-counting.ts) to count:
 * - per start call: statements and transactions of `startWorkflow`, called before the engine's
 *   workers start (so nothing else runs SQL meanwhile; the instances run once they start);
 * - per one-step instance: everything from the start call to its completion event;
 * - per chain step: everything of a 40-step chain / 40 (a step's launch, result and advance).
 * and the SQL texts (whitespace collapsed) each phase issued, so "the same statements" can be
 * checked, not only "as many" (which of them an instance runs, and how often, may depend on timing:
 * e.g. whether a step's successor is launched inline; the comparison allows for that). The engine polls only once an hour here and
 * the waits listen to completion events instead of reading the database, so nothing but the
 * measured work runs SQL. Also CPU µs of this process for each one-step instance and per step
 * of each chain. Prints one JSON line.
 */
import { createHash } from 'node:crypto';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { counting } from '../../bench/db-counting.js';
import { createDatabase } from '../infra/postgres.js';
import { median } from './stats.js';

const WARM = 10;
const ONE_STEP = 15;
const CHAIN = 40;
const CHAINS = 3;

/** The slice of the engine's API that bench/engine.bench.ts uses (the same in both versions). */
interface EngineApi {
  start(): Promise<void>;
  stop(): Promise<void>;
  startWorkflow(req: { workflowId: string; requestId: string }): Promise<{ workflowInstanceId: number }>;
  registerRuntime(type: string, runtime: unknown): void;
  events: { on(event: string, fn: (e: { workflowId: string; instanceId: number; status?: string }) => void): void };
}

async function load(worktree: string) {
  const mod = async (rel: string) => import(pathToFileURL(path.join(worktree, rel)).href);
  const core = await mod('packages/engine-core/src/index.ts');
  const { parseWorkflowJson } = await mod('packages/engine-core/src/definition/parse.ts');
  const { InMemoryDefinitions } = await mod('packages/engine-core/src/runtime/definitions.ts');
  const { Engine } = await mod('packages/engine-core/src/runtime/engine.ts');
  const { noOpRuntime } = await mod('packages/engine-core/src/runtime/step-runtime.ts');
  return { ...core, parseWorkflowJson, InMemoryDefinitions, Engine, noOpRuntime };
}

type Loaded = Awaited<ReturnType<typeof load>>;

function definitions(m: Loaded): unknown {
  const wf = (json: unknown) => {
    const parsed = m.parseWorkflowJson(JSON.stringify(json));
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    return parsed.value;
  };
  const defs = new m.InMemoryDefinitions();
  defs.add(wf({ properties: { run_strategy: { rule: 'parallel', workflow_concurrency: 1000 } }, workflow: { id: 'bench-one', steps: [{ step: { id: 's', type: 'NoOp' } }] } }));
  defs.add(
    wf({
      properties: { run_strategy: 'parallel' },
      workflow: {
        id: 'bench-chain',
        steps: Array.from({ length: CHAIN }, (_, i) => ({
          step: { id: `s${i}`, type: 'NoOp', transition: { successors: i + 1 < CHAIN ? { [`s${i + 1}`]: 'true' } : {} } },
        })),
      },
    }),
  );
  return defs;
}

interface Tally {
  statements: number;
  transactions: number;
  sql: Map<string, number>;
}
const tally = (): Tally => ({ statements: 0, transactions: 0, sql: new Map() });

/** The set of distinct SQL texts a phase issued (how often each ran may vary with timing; the counts are reported apart). */
function fingerprint(t: Tally): string {
  const lines = [...t.sql.keys()].sort();
  return createHash('sha256').update(lines.join('\n')).digest('hex').slice(0, 16);
}

const cpuMicros = (): number => {
  const u = process.cpuUsage();
  return u.user + u.system;
};

async function probe(m: Loaded, raw: unknown) {
  await m.migrate(raw, [m.engineMigrations]);
  let all: Tally = tally();
  const union = tally();
  const add = (t: Tally, sql?: string) => {
    if (sql === undefined) return void t.transactions++;
    t.statements++;
    const key = sql.replace(/\s+/g, ' ').trim();
    t.sql.set(key, (t.sql.get(key) ?? 0) + 1);
  };
  const { db } = counting(raw as never, {
    statement(sql) {
      add(all, sql);
      add(union, sql);
    },
    transaction() {
      add(all);
    },
  });
  const engine = new m.Engine({ db, definitions: definitions(m), concurrency: 64, pollMs: 3_600_000 }) as EngineApi;
  engine.registerRuntime('NoOp', m.noOpRuntime);
  // Completion events, kept until asked for: an instance may end before its start call returns.
  const ended = new Map<string, string>();
  const waiting = new Map<string, (status: string) => void>();
  engine.events.on('instance.completed', (e) => {
    const key = `${e.workflowId}/${e.instanceId}`;
    const w = waiting.get(key);
    if (w) w(e.status ?? '?');
    else ended.set(key, e.status ?? '?');
  });
  let n = 0;
  const completion = async (key: string): Promise<void> => {
    const status =
      ended.get(key) ??
      (await new Promise<string>((resolve, reject) => {
        const t = setTimeout(() => reject(new Error(`${key} did not complete in 120 s`)), 120_000);
        waiting.set(key, (st) => {
          clearTimeout(t);
          resolve(st);
        });
      }));
    waiting.delete(key);
    ended.delete(key);
    if (status !== 'SUCCEEDED') throw new Error(`${key} ended ${status}`);
  };
  /** Starts one instance and resolves once it completed. */
  const run = async (workflowId: string): Promise<void> => {
    const r = await engine.startWorkflow({ workflowId, requestId: `probe-${n++}` });
    await completion(`${workflowId}/${r.workflowInstanceId}`);
  };

  // Start calls on an engine whose workers have not started: only the start's own SQL runs.
  all = tally();
  const queued: string[] = [];
  for (let i = 0; i < ONE_STEP; i++) queued.push(`bench-one/${(await engine.startWorkflow({ workflowId: 'bench-one', requestId: `probe-${n++}` })).workflowInstanceId}`);
  const startCall = all;
  all = tally();
  await engine.start();
  for (const key of queued) await completion(key);
  for (let i = 0; i < WARM; i++) await run('bench-one');

  const perInstance: number[] = [];
  const perInstanceTx: number[] = [];
  const cpuOne: number[] = [];
  const oneAll = tally();
  for (let i = 0; i < ONE_STEP; i++) {
    all = tally();
    const c0 = cpuMicros();
    await run('bench-one');
    cpuOne.push(cpuMicros() - c0);
    perInstance.push(all.statements);
    perInstanceTx.push(all.transactions);
    for (const [k, v] of all.sql) oneAll.sql.set(k, (oneAll.sql.get(k) ?? 0) + v);
  }
  const perChain: number[] = [];
  const perChainTx: number[] = [];
  const cpuStep: number[] = [];
  const chainAll = tally();
  for (let c = 0; c < CHAINS; c++) {
    all = tally();
    const c0 = cpuMicros();
    await run('bench-chain');
    cpuStep.push((cpuMicros() - c0) / CHAIN);
    perChain.push(all.statements);
    perChainTx.push(all.transactions);
    for (const [k, v] of all.sql) chainAll.sql.set(k, (chainAll.sql.get(k) ?? 0) + v);
  }
  await engine.stop();
  const range = (xs: number[], per = 1) => ({ min: Math.min(...xs) / per, median: median(xs) / per, max: Math.max(...xs) / per });
  return {
    startCall: { statements: startCall.statements / ONE_STEP, transactions: startCall.transactions / ONE_STEP, sql: fingerprint(startCall) },
    oneStepInstance: { statements: range(perInstance), transactions: range(perInstanceTx), sql: fingerprint(oneAll) },
    chainStep: { statements: range(perChain, CHAIN), transactions: range(perChainTx, CHAIN), sql: fingerprint(chainAll) },
    cpuUs: { oneStepInstance: cpuOne.map(Math.round), chainStep: cpuStep.map(Math.round) },
    /** Every SQL text the probe ran on this backend (migrations aside), with how often. */
    sqlTexts: Object.fromEntries([...union.sql].sort(([a], [b]) => a.localeCompare(b))),
  };
}

async function main(): Promise<void> {
  const [worktree, adminUrl] = process.argv.slice(2);
  if (!worktree) throw new Error('usage: engine-probe.ts <worktree> [postgres-admin-url]');
  const m = await load(path.resolve(worktree));
  const out: Record<string, unknown> = {};
  const lite = await m.PGliteDb.open();
  try {
    out.pglite = await probe(m, lite);
  } finally {
    await lite.close();
  }
  if (adminUrl) {
    const database = await createDatabase(adminUrl, 'baton_bench');
    const pg = new m.PgDb({ connectionString: database.url, max: 20 });
    try {
      out.postgres = await probe(m, pg);
    } finally {
      await pg.close();
      await database.drop();
    }
  }
  console.log(JSON.stringify(out));
}

await main();
