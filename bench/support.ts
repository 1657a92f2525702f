/** Set-up the benches share: where PostgreSQL is, and the signal-trigger workflows they store. */
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

/** The server named by the environment (`benchPgUrlFromEnv`), else a throwaway one started here. */
export async function benchPostgres(): Promise<BenchPostgres> {
  const fromEnv = benchPgUrlFromEnv();
  if (fromEnv) return { adminUrl: fromEnv, stop: async () => {} };
  const pg = await startPostgres();
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
