import { inject } from 'vitest';
import { createDatabase, type Database } from '../../scripts/infra/postgres.js';
import type { InfraSettings } from './provided.js';

export type { Database } from '../../scripts/infra/postgres.js';

function settings(): InfraSettings {
  return inject('batonInfra') ?? { requested: [] };
}

function missing(what: string, component: string, override: string, example: string): Error {
  const requested = settings().requested;
  return new Error(
    `${what} is not available to this test run (BATON_TEST_COMPONENTS=${requested.join(',') || '(unset)'}). ` +
      `Run the full suite with \`npm test\` (scripts/test.sh starts everything), ` +
      `or add "${component}" to BATON_TEST_COMPONENTS so the vitest global setup starts one, ` +
      `or set ${override}=${example} to use one that already runs.`,
  );
}

/**
 * For tests that start (and stop, restart, crash) servers of their own with scripts/infra: fails
 * unless the run asked for that component, so a plain `vitest run` downloads and starts nothing.
 */
export function requireOwnServers(component: 'postgres' | 'kafka' | 'sns'): void {
  if (!settings().requested.includes(component)) {
    throw new Error(
      `This test starts its own ${component} server, which needs the ${component} test infrastructure ` +
        `(BATON_TEST_COMPONENTS=${settings().requested.join(',') || '(unset)'}). Run \`npm test\`, or add "${component}" to BATON_TEST_COMPONENTS.`,
    );
  }
}

/** The PostgreSQL server of this run (a superuser URL that may create databases), or a failure saying how to get one. */
export function requirePostgres(): { url: string } {
  const pg = settings().postgres;
  if (!pg) throw missing('PostgreSQL', 'postgres', 'BATON_TEST_PG_URL', 'postgres://user:pass@127.0.0.1:5432/postgres');
  return pg;
}

/** The Kafka bootstrap brokers of this run, or a failure saying how to get them. */
export function requireKafka(): { brokers: string[] } {
  const kafka = settings().kafka;
  if (!kafka) throw missing('Kafka', 'kafka', 'BATON_TEST_KAFKA_BROKERS', '127.0.0.1:9092');
  return kafka;
}

/**
 * The SNS API endpoint of this run (moto), with a region and dummy credentials for AWS SDK
 * clients, or a failure saying how to get one.
 */
export function requireSns(): { endpoint: string; region: string; credentials: { accessKeyId: string; secretAccessKey: string } } {
  const sns = settings().sns;
  if (!sns) throw missing('The SNS API (moto)', 'sns', 'BATON_TEST_SNS_ENDPOINT', 'http://127.0.0.1:5000');
  return { ...sns, credentials: { accessKeyId: 'testing', secretAccessKey: 'testing' } };
}

/**
 * A fresh database on the run's PostgreSQL, so test files run in parallel without sharing
 * tables. Create it in `beforeAll` and `drop()` it in `afterAll`.
 */
export async function createTestDatabase(): Promise<Database> {
  return createDatabase(requirePostgres().url, 'baton_test');
}
