/**
 * One database of bench/scale.bench.ts as the bench measures it: migrated, with FILL_NAMES
 * signal-triggered one-NoOp workflows subscribed, the signal service's matcher running and the
 * signal routes listening on a local port. The growth database and the reference database of the
 * side-by-side comparison are each one of these, on the same PostgreSQL server.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import { definitionHash, engineMigrations, migrate, parseWorkflowJson, PgDb, stringifyJson as stringifyDefinition, workflowToJson } from '@baton/engine-core';
import { SignalService, signalsMigrations } from '@baton/signals';
import { signalRoutes } from '../packages/server/src/routes/signals.js';
import { createWorkflowStarter } from '../packages/server/src/wiring/starter.js';
import { createDatabase, type Database } from '../scripts/infra/postgres.js';
import { FILL_NAMES } from './scale-fill.js';
import { signalTriggerDefinition } from './support.js';

export interface Target {
  /** What the table calls it ("growth", "reference"). */
  label: string;
  db: PgDb;
  database: Database;
  /** A signal service on any session (the lineage query's), configured as the running one. */
  service: (q: PgDb) => SignalService;
  /** The running service: the matcher loops and the routes'. */
  signals: SignalService;
  address: string;
  close(): Promise<void>;
}

function noOpStep() {
  const parsed = parseWorkflowJson(JSON.stringify({ workflow: { id: 'bench-template', steps: [{ step: { id: 'work', type: 'NoOp' } }] } }));
  if (!parsed.ok) throw new Error(parsed.errors.map((e) => e.message).join('; '));
  return parsed.value.workflow.steps[0]!;
}

/** Creates, migrates and starts one measured database (`prefix` names it on the server). */
export async function openTarget(adminUrl: string, prefix: string, label: string): Promise<Target> {
  const database = await createDatabase(adminUrl, prefix);
  const db = new PgDb({ connectionString: database.url, max: 16, applicationName: `scale-bench-${label}` });
  let signals: SignalService | undefined;
  let app: FastifyInstance | undefined;
  try {
    await migrate(db, [engineMigrations, signalsMigrations]);
    const definitions = Array.from({ length: FILL_NAMES }, (_, k) => signalTriggerDefinition(`bench-wf-${k}`, `bench/n${k}`, 'S', [noOpStep()]));
    await db.query(`INSERT INTO baton_workflows (workflow_id, latest_version, active_version) SELECT w, 1, 1 FROM unnest($1::text[]) AS w`, [definitions.map((d) => d.workflowId)]);
    await db.query(
      `INSERT INTO baton_workflow_versions (workflow_id, version, definition, properties, content_hash)
       SELECT w, 1, d::jsonb, '{}'::jsonb, h FROM unnest($1::text[], $2::text[], $3::text[]) AS x(w, d, h)`,
      [definitions.map((d) => d.workflowId), definitions.map((d) => stringifyDefinition(workflowToJson(d.workflow))), definitions.map((d) => definitionHash(d.workflow))],
    );
    const service = (q: PgDb) => new SignalService(q, { starter: createWorkflowStarter(q), expressions: { condition: () => true, dedupKey: () => undefined }, matcherConcurrency: 2 });
    signals = service(db);
    for (const d of definitions) await signals.syncSubscriptions(d.workflowId, d);
    await signals.start();
    app = Fastify({ bodyLimit: 16 * 1024 * 1024 });
    await app.register(signalRoutes, { signals });
    const address = await app.listen({ host: '127.0.0.1', port: 0 });
    const running = signals;
    const routes = app;
    let closed = false;
    return {
      label,
      db,
      database,
      service,
      signals: running,
      address,
      async close() {
        if (closed) return;
        closed = true;
        await routes.close();
        await running.stop();
        await db.close();
        await database.drop();
      },
    };
  } catch (err) {
    await app?.close();
    await signals?.stop();
    await db.close();
    await database.drop();
    throw err;
  }
}
