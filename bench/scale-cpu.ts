/**
 * CPU seconds the PostgreSQL server of bench/scale.bench.ts has used, ended backends included (the
 * postmaster's reaped-children times), so a step's cost can be told apart from the machine's load:
 * on a quiet machine a CPU-bound step takes about its CPU seconds over the cores it keeps busy.
 */
import { readdirSync, readFileSync } from 'node:fs';

const CLOCK_TICKS = 100;

function stat(pid: number | string): string[] {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return s.slice(s.lastIndexOf(')') + 2).split(' ');
}

/** The postmaster's pid from a backend's (its parent); undefined when /proc cannot show it (a remote server). */
export async function postmasterOf(db: { query<R>(sql: string): Promise<{ rows: R[] }> }): Promise<number | undefined> {
  try {
    const { rows } = await db.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    return Number(stat(rows[0]!.pid)[1]);
  } catch {
    return undefined;
  }
}

/** User + system seconds of the postmaster, its live children and the children it has reaped. */
export function postgresCpuSeconds(postmaster: number | undefined): number | undefined {
  if (postmaster === undefined) return undefined;
  try {
    const p = stat(postmaster);
    let ticks = Number(p[11]) + Number(p[12]) + Number(p[13]) + Number(p[14]);
    for (const pid of readdirSync('/proc')) {
      if (!/^\d+$/.test(pid)) continue;
      try {
        const f = stat(pid);
        if (Number(f[1]) === postmaster) ticks += Number(f[11]) + Number(f[12]);
      } catch {
        // ended between the listing and the read: its time is in the postmaster's reaped count now
      }
    }
    return ticks / CLOCK_TICKS;
  } catch {
    return undefined;
  }
}
