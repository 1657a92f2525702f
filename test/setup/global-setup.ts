import type { TestProject } from 'vitest/node';
import { OVERRIDE_ENV, parseComponents, type Component } from '../../scripts/infra/components.js';
import { ensureBuilt } from '../../scripts/infra/build.js';
import { startKafka } from '../../scripts/infra/kafka.js';
import { startPostgres } from '../../scripts/infra/postgres.js';
import { elapsed } from '../../scripts/infra/proc.js';
import type { ManagedServer } from '../../scripts/infra/server.js';
import { startSns } from '../../scripts/infra/sns.js';
import type { InfraSettings } from './provided.js';

/**
 * Starts the components named in BATON_TEST_COMPONENTS (scripts/test.sh names them all; a bare
 * `vitest run` names none and starts nothing) and provides their settings as `batonInfra`.
 * A BATON_TEST_* override variable points at a server that already runs instead.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  // Tests that spawn `baton` or `sel` run the compiled bins: a source edited since the last build
  // is built first (a fresh clone's `npm ci` has built them through `prepare`).
  for (const line of await ensureBuilt()) if (!line.endsWith('up to date')) say('build')(line);
  const wanted = parseComponents(process.env.BATON_TEST_COMPONENTS);
  const settings: InfraSettings = { requested: [...wanted] };
  const started: ManagedServer[] = [];

  const pgUrl = process.env[OVERRIDE_ENV.postgres];
  const kafkaBrokers = process.env[OVERRIDE_ENV.kafka];
  const snsEndpoint = process.env[OVERRIDE_ENV.sns];
  if (pgUrl) settings.postgres = { url: pgUrl };
  if (kafkaBrokers) settings.kafka = { brokers: kafkaBrokers.split(',').map((b) => b.trim()).filter(Boolean) };
  if (snsEndpoint) settings.sns = { endpoint: snsEndpoint.replace(/\/+$/, ''), region: process.env.AWS_REGION ?? 'us-east-1' };

  const starters: Record<Component, () => Promise<void>> = {
    postgres: async () => {
      const pg = await startPostgres({ log: say('postgres') });
      started.push(pg);
      settings.postgres = { url: pg.url };
    },
    kafka: async () => {
      const kafka = await startKafka({ log: say('kafka') });
      started.push(kafka);
      settings.kafka = { brokers: kafka.brokers };
    },
    sns: async () => {
      const sns = await startSns({ log: say('sns') });
      started.push(sns);
      settings.sns = { endpoint: sns.endpoint, region: sns.region };
    },
  };

  const teardown = async (): Promise<void> => {
    await Promise.allSettled(started.map((s) => s.stop()));
  };
  const results = await Promise.allSettled(
    [...wanted]
      .filter((c) => !process.env[OVERRIDE_ENV[c]])
      .map(async (c) => {
        const t0 = Date.now();
        await starters[c]();
        say(c)(`started in ${elapsed(t0)}`);
      }),
  );
  const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failed.length) {
    await teardown();
    throw new Error(`test infrastructure failed to start:\n${failed.map((f) => String(f.reason instanceof Error ? f.reason.message : f.reason)).join('\n')}`);
  }
  project.provide('batonInfra', settings);
  return teardown;
}

function say(component: string): (msg: string) => void {
  return (msg) => console.log(`[infra ${component}] ${msg}`);
}
