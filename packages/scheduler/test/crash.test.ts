import { spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Scheduler } from '../src/index.js';
import { openTestDb, TableStarter, type TestDb } from './support/pg.js';

const CHILD = fileURLToPath(new URL('./support/child-scheduler.ts', import.meta.url));
const WORKFLOWS = 12;

let t: TestDb;
beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => {
  await t?.close();
});

function spawnChild(): { child: ChildProcess; lines: AsyncIterator<string> } {
  const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
    env: { ...process.env, CHILD_DB_URL: t.database.url, CHILD_START_DELAY_MS: '15', CHILD_OWNER: 'victim' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  return { child, lines: createInterface({ input: child.stdout! })[Symbol.asyncIterator]() };
}

async function count(): Promise<number> {
  return (await t.db.query<{ n: number }>('SELECT count(*)::int AS n FROM test_instances')).rows[0]!.n;
}

describe('a scheduler process killed mid-round', () => {
  it('loses no fire time and starts none twice', async () => {
    // Every second, catch-up ALL: every fire time from the first to the last watermark must run once.
    const setup = new Scheduler({ db: t.db, starter: new TableStarter(), compile: { minIntervalMs: 1000 } });
    await setup.syncMany(
      Array.from({ length: WORKFLOWS }, (_, i) => ({
        workflowId: `wf-k${i}`,
        active: { version: 1, triggers: [{ type: 'CRON' as const, cron: '* * * * * ?', catch_up: { policy: 'ALL' as const, max_runs: 1000 } }] },
      })),
    );

    const firstFire = new Map((await setup.list()).map((r) => [r.workflow_id, r.next_fire_ms] as const));

    const { child, lines } = spawnChild();
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    try {
      expect((await lines.next()).value).toBe('ready');
      // Let it commit a few rounds, then kill it while a round is inside its transaction.
      while ((await count()) < WORKFLOWS * 2) await new Promise((r) => setTimeout(r, 50));
      // Poll the server (not the child's buffered output, which can lag behind) until a firing
      // transaction of the child is open; each holds for CHILD_START_DELAY_MS, so the kill lands inside it.
      let open = { rows: [{ n: 0 }] };
      for (let tries = 0; tries < 2000 && open.rows[0]!.n === 0; tries++) {
        open = await t.db.query<{ n: number }>(
          "SELECT count(*)::int AS n FROM pg_stat_activity WHERE application_name = 'scheduler-child' AND xact_start IS NOT NULL",
        );
      }
      child.kill('SIGKILL');
      expect(await exited).toBe('SIGKILL');
      expect(open.rows[0]!.n).toBeGreaterThan(0); // killed with a firing transaction open
    } finally {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    const killedAt = Date.now();

    // A survivor takes over (the dead connection released the victim's rows) and catches up.
    const survivor = new Scheduler({ db: t.db, starter: new TableStarter(), compile: { minIntervalMs: 1000 }, pollIntervalMs: 100, owner: 'survivor' });
    survivor.start();
    await new Promise((r) => setTimeout(r, 3000));
    await survivor.stop();

    const rows = (
      await t.db.query<{ workflow_id: string; runs: number; first: string; last: string; dups: number }>(
        `SELECT workflow_id, count(*)::int AS runs, min(run_ts)::text AS first, max(run_ts)::text AS last, sum(dup_attempts)::int AS dups
           FROM test_instances GROUP BY workflow_id ORDER BY workflow_id`,
      )
    ).rows;
    const marks = new Map(
      (await setup.list()).map((r) => [r.workflow_id, r] as const),
    );
    expect(rows).toHaveLength(WORKFLOWS);
    for (const r of rows) {
      const mark = marks.get(r.workflow_id)!;
      // Contiguous: one run per second from the first fire time to the watermark, none twice.
      expect(Number(r.first)).toBe(firstFire.get(r.workflow_id));
      expect(Number(r.last)).toBe(mark.watermark_ms);
      expect(r.runs, r.workflow_id).toBe((Number(r.last) - Number(r.first)) / 1000 + 1);
      expect(r.dups).toBe(0);
      expect(mark.fired_by).toBe('survivor');
      // The survivor carried the schedule past the moment of the kill.
      expect(mark.watermark_ms!).toBeGreaterThan(killedAt);
    }
    const distinct = await t.db.query<{ n: number; total: number }>('SELECT count(DISTINCT request_id)::int AS n, count(*)::int AS total FROM test_instances');
    expect(distinct.rows[0]!.n).toBe(distinct.rows[0]!.total);
    expect(survivor.stats.catchUp).toBe(0); // late by seconds, within the grace period: on time
    expect(survivor.stats.started).toBeGreaterThan(WORKFLOWS * 2);
  }, 60_000);
});
