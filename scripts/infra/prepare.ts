/**
 * Installs or fetches what the test components need, each cached under `.cache/`:
 *   npx tsx scripts/infra/prepare.ts [postgres] [kafka] [sns] [chromium]   (no arguments: all)
 * Components whose BATON_TEST_* override variable is set are skipped. `chromium` (the browser the
 * web page tests drive) is installed from Debian packages when /usr/bin/chromium is missing.
 */
import { ensureChromium } from './chromium.js';
import { COMPONENTS, OVERRIDE_ENV, parseComponents, type Component } from './components.js';
import { ensureKafkaJars } from './kafka.js';
import { ensurePostgres } from './postgres.js';
import { elapsed } from './proc.js';
import { ensureSchemathesis } from './schemathesis.js';
import { ensureMotoVenv } from './sns.js';

const steps: Record<Component, (log: (msg: string) => void) => Promise<string>> = {
  postgres: async (log) => `server binaries in ${await ensurePostgres(log)}`,
  kafka: async (log) => {
    const jars = await ensureKafkaJars(log);
    return jars.downloaded ? `jars downloaded to ${jars.libs}` : `jars cached in ${jars.libs}`;
  },
  // The test virtualenv also holds schemathesis, which the REST fuzzing test runs.
  sns: async (log) => {
    const venv = await ensureMotoVenv(log);
    const fuzzer = await ensureSchemathesis(log);
    return `${venv.installed ? 'moto installed in' : 'moto cached in'} ${venv.motoServer}; schemathesis ${fuzzer.installed ? 'installed' : 'cached'}`;
  },
};

async function prepareChromium(): Promise<void> {
  const log = (msg: string): void => console.log(`[prepare chromium] ${msg}`);
  const t0 = Date.now();
  const browser = await ensureChromium(log);
  log(`${browser.installed ? 'installed' : 'already installed'}: ${browser.path} (${elapsed(t0)})`);
}

async function main(): Promise<void> {
  const names = process.argv.slice(2).join(',').split(',').map((s) => s.trim()).filter(Boolean);
  const withChromium = names.length === 0 || names.some((n) => n.toLowerCase() === 'chromium');
  const others = names.filter((n) => n.toLowerCase() !== 'chromium');
  const wanted = names.length === 0 ? new Set<Component>(COMPONENTS) : parseComponents(others.join(','));
  const results = await Promise.allSettled([
    ...(withChromium ? [prepareChromium()] : []),
    ...[...wanted].map(async (c) => {
      const log = (msg: string): void => console.log(`[prepare ${c}] ${msg}`);
      if (process.env[OVERRIDE_ENV[c]]) {
        log(`skipped: ${OVERRIDE_ENV[c]} is set`);
        return;
      }
      const t0 = Date.now();
      const what = await steps[c](log);
      log(`${what} (${elapsed(t0)})`);
    }),
  ]);
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  for (const f of failed) console.error(f.reason instanceof Error ? f.reason.message : f.reason);
  if (failed.length) process.exit(1);
}

await main();
