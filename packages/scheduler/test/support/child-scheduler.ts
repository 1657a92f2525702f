/**
 * A Baton scheduler in its own process, for the crash test: real clock, a slow starter (so a
 * round spends a while inside its transaction), and a line on stdout each time a start runs
 * inside a transaction, so the parent can SIGKILL it mid-round.
 */
import { PgDb, type Queryable } from '@baton/engine-core';
import { Scheduler } from '../../src/scheduler.js';
import type { TimeStartRequest } from '../../src/ports.js';
import { TableStarter } from './table-starter.js';

const url = process.env.CHILD_DB_URL;
if (!url) throw new Error('CHILD_DB_URL is required');
const db = new PgDb({ connectionString: url, max: 4, applicationName: 'scheduler-child' });
const inner = new TableStarter(Number(process.env.CHILD_START_DELAY_MS ?? '0'));
const scheduler = new Scheduler({
  db,
  owner: process.env.CHILD_OWNER ?? 'child',
  pollIntervalMs: 200,
  concurrency: 2,
  txBatch: 10,
  compile: { minIntervalMs: 1000 },
  starter: {
    async startWorkflow(tx: Queryable, req: TimeStartRequest) {
      process.stdout.write(`start ${req.requestId}\n`);
      return inner.startWorkflow(tx, req);
    },
  },
  onError: (err, ctx) => process.stderr.write(`scheduler error (${ctx}): ${String(err)}\n`),
});
scheduler.start();
process.stdout.write('ready\n');
