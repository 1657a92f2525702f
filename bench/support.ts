/** Set-up the benches share: where PostgreSQL is, and the signal-trigger workflows they store. */
import { readdirSync, readFileSync } from 'node:fs';
import type { Step } from '@baton/engine-core';
import type { ActiveDefinition } from '@baton/signals';
import { startPostgres } from '../scripts/infra/postgres.js';

export interface BenchPostgres {
  adminUrl: string;
  /** Stops the server if this bench started it; a server named by the environment is left running. */
  stop(): Promise<void>;
}

/** BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL. */
export function benchPgUrlFromEnv(): string | undefined {
  return process.env.BATON_BENCH_PG_URL ?? process.env.DATABASE_URL ?? process.env.BATON_TEST_PG_URL;
}

/**
 * The server named by the environment (`benchPgUrlFromEnv`), else a throwaway one started here
 * (with `settings` on top of the test server's: see scripts/infra/postgres-settings.ts).
 */
export async function benchPostgres(settings?: Readonly<Record<string, string>>): Promise<BenchPostgres> {
  const fromEnv = benchPgUrlFromEnv();
  if (fromEnv) return { adminUrl: fromEnv, stop: async () => {} };
  const pg = await startPostgres({ settings });
  return { adminUrl: pg.url, stop: () => pg.stop() };
}

/** Active version 1 of a workflow running `steps`, triggered by signal `name` whose `shard` param equals `shard`. */
export function signalTriggerDefinition(workflowId: string, name: string, shard: string, steps: Step[]): ActiveDefinition {
  return {
    workflowId,
    version: 1,
    workflow: {
      id: workflowId,
      tags: [],
      params: {},
      timeTriggers: [],
      steps,
      signalTriggers: [{ definitions: { [name]: { matchParams: { shard: { value: shard, operator: '=' } }, joinKeys: [] } }, params: {} }],
    },
  };
}

/** CPU seconds used so far by this process, by PostgreSQL's processes and by Kafka's JVM. */
export interface CpuTimes {
  self: number;
  postgres: number;
  kafka: number;
}

let postmaster: number | undefined;

/**
 * Counts only this PostgreSQL server's processes (its postmaster and that process's children)
 * from now on: on a shared machine other servers' processes would count too, and one that exits
 * between two readings makes a phase's PostgreSQL time wrong, even negative.
 */
export async function scopePostgresCpu(db: { query<R>(sql: string): Promise<{ rows: R[] }> }): Promise<void> {
  const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
  const stat = readFileSync(`/proc/${rows[0]!.pid}/stat`, 'utf8');
  postmaster = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * Reads every process's user + system time from /proc (Linux; zeros elsewhere), so a bench can
 * say where the CPU of a phase went: this process, the database server, the broker.
 */
export function cpuTimes(): CpuTimes {
  const out: CpuTimes = { self: 0, postgres: 0, kafka: 0 };
  let pids: string[];
  try {
    pids = readdirSync('/proc').filter((d) => /^\d+$/.test(d));
  } catch {
    return out;
  }
  for (const pid of pids) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      // The command name is parenthesised and may hold spaces: fields resume after its ')'.
      const close = stat.lastIndexOf(')');
      const comm = stat.slice(stat.indexOf('(') + 1, close);
      const f = stat.slice(close + 2).split(' ');
      const secs = (Number(f[11]) + Number(f[12])) / CLOCK_TICKS;
      if (Number(pid) === process.pid) out.self += secs;
      // The postmaster's children's times (f[13], f[14]) hold its backends that exited (an idle
      // pool connection closed): without them a phase in which one ended reads less, or negative.
      else if (comm === 'postgres' && postmaster !== undefined && Number(pid) === postmaster) out.postgres += secs + (Number(f[13]) + Number(f[14])) / CLOCK_TICKS;
      else if (comm === 'postgres' && (postmaster === undefined || Number(f[1]) === postmaster)) out.postgres += secs;
      else if (comm === 'java' && readFileSync(`/proc/${pid}/cmdline`, 'utf8').includes('kafka')) out.kafka += secs;
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return out;
}

/** USER_HZ: 100 on every Linux architecture Node runs on. */
const CLOCK_TICKS = 100;

export function cpuSince(start: CpuTimes): CpuTimes {
  const now = cpuTimes();
  return { self: now.self - start.self, postgres: now.postgres - start.postgres, kafka: now.kafka - start.kafka };
}

export function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Runs a bench's main and exits: 0 when it finished, 1 with the error printed when it threw. */
export function runMain(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (err: unknown) => {
      console.error(err);
      process.exit(1);
    },
  );
}
