/**
 * The Python client's test run: a virtualenv from PyPI (cached under .cache/venv-client) with the
 * pinned test requirements, the package installed from clients/python, PostgreSQL (BATON_TEST_PG_URL
 * or one started here), then pytest with a JUnit report that scripts/test.sh counts.
 *   npx tsx scripts/test-python-client.ts [pytest arguments]
 * Exits with pytest's status, except that "no tests collected" (5) is a failure (1).
 */
import { spawn } from 'node:child_process';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { repoRoot } from './infra/paths.js';
import { createDatabase, startPostgres, type Database, type PostgresServer } from './infra/postgres.js';
import { ensurePythonClientVenv, PYTEST_REPORT } from './infra/python-client.js';

async function main(): Promise<number> {
  const log = (msg: string): void => console.log(`[pytest] ${msg}`);
  const venv = await ensurePythonClientVenv(log);
  let pg: PostgresServer | undefined;
  const databases: Database[] = [];
  try {
    let adminUrl = process.env.BATON_TEST_PG_URL;
    if (!adminUrl) {
      pg = await startPostgres({ log });
      adminUrl = pg.url;
    }
    // One database per Baton server the tests start on PostgreSQL.
    for (let i = 0; i < 2; i++) databases.push(await createDatabase(adminUrl, 'baton_pyclient'));
    await mkdir(path.dirname(PYTEST_REPORT), { recursive: true });
    const args = ['-m', 'pytest', path.join(repoRoot, 'clients/python/tests'), '-p', 'no:cacheprovider', '-rfE', `--junitxml=${PYTEST_REPORT}`, ...process.argv.slice(2)];
    const code = await new Promise<number>((resolve) => {
      const child = spawn(venv.bin('python'), args, {
        cwd: repoRoot,
        stdio: 'inherit',
        env: { ...process.env, BATON_TEST_PG_DATABASES: databases.map((d) => d.url).join(','), PYTHONDONTWRITEBYTECODE: '1' },
      });
      child.on('exit', (c, signal) => resolve(c ?? (signal ? 1 : 0)));
    });
    if (code === 5) {
      console.log('[pytest] no test was collected: failing the step');
      return 1;
    }
    return code;
  } finally {
    for (const d of databases) await d.drop().catch(() => {});
    await pg?.stop();
  }
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(`[pytest] ${(err as Error).stack ?? String(err)}`);
    process.exit(1);
  },
);
