/**
 * Installs or fetches what the test components need, each cached under `.cache/`:
 *   npx tsx scripts/infra/prepare.ts [postgres] [kafka] [sns]   (no arguments: all)
 * Components whose BATON_TEST_* override variable is set are skipped.
 */
import { COMPONENTS, OVERRIDE_ENV, parseComponents, type Component } from './components.js';
import { ensureKafkaJars } from './kafka.js';
import { ensurePostgres } from './postgres.js';
import { elapsed } from './proc.js';
import { ensureMotoVenv } from './sns.js';

const steps: Record<Component, (log: (msg: string) => void) => Promise<string>> = {
  postgres: async (log) => `server binaries in ${await ensurePostgres(log)}`,
  kafka: async (log) => {
    const jars = await ensureKafkaJars(log);
    return jars.downloaded ? `jars downloaded to ${jars.libs}` : `jars cached in ${jars.libs}`;
  },
  sns: async (log) => {
    const venv = await ensureMotoVenv(log);
    return venv.installed ? `moto installed in ${venv.motoServer}` : `moto cached in ${venv.motoServer}`;
  },
};

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const wanted = args.length ? parseComponents(args.join(',')) : new Set<Component>(COMPONENTS);
  const results = await Promise.allSettled(
    [...wanted].map(async (c) => {
      const log = (msg: string): void => console.log(`[prepare ${c}] ${msg}`);
      if (process.env[OVERRIDE_ENV[c]]) {
        log(`skipped: ${OVERRIDE_ENV[c]} is set`);
        return;
      }
      const t0 = Date.now();
      const what = await steps[c](log);
      log(`${what} (${elapsed(t0)})`);
    }),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const f of failed) console.error(f.reason instanceof Error ? f.reason.message : f.reason);
  if (failed.length) process.exit(1);
}

await main();
