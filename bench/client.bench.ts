/**
 * Python client benchmark: signals/s published by `Baton.publish_batch` (1,000 signals a call)
 * against the same batches sent by a bare httpx loop, side by side against one Baton process on
 * PostgreSQL (BATON_BENCH_PG_URL, else DATABASE_URL, else BATON_TEST_PG_URL, else a throwaway
 * server started here). The client's virtualenv is the tests' (.cache/venv-client). Medians of
 * BENCH_ROUNDS (default 5) rounds of BENCH_BATCHES (default 10) batches each; the Python script
 * prints the table and, last, one JSON line. Target: the client at ≥ 0.8× the bare loop.
 *
 * Measured 2026-12-06 on 2 cores shared with other jobs (load average 18): baton_client 6,179
 * signals/s, bare httpx 6,903 signals/s, ratio 0.90 (rounds spread 4,488 to 7,429: the server
 * and the load set the pace, the client's own work is ~10 ms of a ~150 ms batch).
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { spawnBaton, stop, waitUntilReady } from '../packages/server/test/helpers/baton-process.js';
import { repoRoot } from '../scripts/infra/paths.js';
import { createDatabase } from '../scripts/infra/postgres.js';
import { ensurePythonClientVenv } from '../scripts/infra/python-client.js';
import { benchPostgres } from './support.js';

const TOKEN = 'bench-client-admin-token-0123456789';

async function main(): Promise<void> {
  const venv = await ensurePythonClientVenv((msg) => console.log(`[venv] ${msg}`));
  const pg = await benchPostgres();
  const database = await createDatabase(pg.adminUrl, 'baton_bench_client');
  const baton = spawnBaton({ DATABASE_URL: database.url, PORT: '0', LOG_LEVEL: 'info', BATON_TOKENS: `bench:admin:${TOKEN}`, BATON_PUBLISH_RATE_LIMIT: '0' });
  try {
    await waitUntilReady(baton, 120_000);
    const url = await baton.ready;
    const args = [path.join(repoRoot, 'clients/python/bench/publish_bench.py'), url, TOKEN, '--rounds', process.env.BENCH_ROUNDS ?? '5', '--batches', process.env.BENCH_BATCHES ?? '10'];
    const code = await new Promise<number | null>((resolve) => spawn(venv.bin('python'), args, { stdio: 'inherit' }).on('exit', resolve));
    if (code !== 0) throw new Error(`publish_bench.py exited with ${code}`);
  } finally {
    await stop(baton);
    await database.drop();
    await pg.stop();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
