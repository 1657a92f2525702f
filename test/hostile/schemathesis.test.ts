import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';
import { repoRoot } from '../../scripts/infra/paths.js';
import { findSchemathesis } from '../../scripts/infra/schemathesis.js';

/**
 * Schemathesis fuzzes every operation of the OpenAPI document a real `baton serve` publishes
 * (PGlite, free port, auth off on loopback) and fails on any 5xx or a response that does not
 * match its documented schema. A workflow with a started instance and a signal are stored first,
 * and their ids are the path parameters, so requests reach the handlers instead of stopping at
 * 404.
 *
 * Checks: `not_a_server_error`, `response_schema_conformance`, `content_type_conformance` (error
 * answers are documented as `application/problem+json`) and `unsupported_method` (a known path
 * asked with another method answers 405 with `Allow`). `status_code_conformance` is left out:
 * routes answer 404 for unknown ids and 401/403/429 with auth and limits on, which not every
 * operation lists.
 */
const WORKFLOW = 'sample-dag-test-1';
// No '/' in the name: schemathesis puts path parameters into URLs unencoded.
const SIGNAL = 'hostile.fuzz.seed';
/** 25 per operation in CI; `npm run test:rest-fuzz-long` raises it (BATON_SCHEMATHESIS_EXAMPLES). */
const EXAMPLES_PER_OPERATION = positiveInt('BATON_SCHEMATHESIS_EXAMPLES', 25);
const SEED = positiveInt('BATON_SCHEMATHESIS_SEED', 20261121);
// Up to a second per generated case, for up to 60 operations, on a loaded 2-core machine.
const TIMEOUT_MS = Math.max(300_000, EXAMPLES_PER_OPERATION * 60 * 1000);

function positiveInt(name: string, fallback: number): number {
  const raw = process.env[name]?.trim();
  if (!raw) return fallback;
  if (!/^\d+$/.test(raw) || Number(raw) < 1) throw new Error(`${name} must be a whole number above 0, got ${JSON.stringify(raw)}`);
  return Number(raw);
}

let baton: BatonProcess;
let url: string;
let dir: { path: string; remove(): Promise<void> };

async function post(pathname: string, body: string): Promise<Record<string, unknown>> {
  const res = await fetch(`${url}${pathname}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body, signal: AbortSignal.timeout(15_000) }).catch((err: unknown) => {
    throw new Error(`seeding ${pathname}: no answer from the server (${(err as Error).message})`, { cause: err });
  });
  const text = await res.text();
  if (!res.ok) throw new Error(`seeding ${pathname} failed: HTTP ${res.status} ${text}`);
  return JSON.parse(text) as Record<string, unknown>;
}

beforeAll(async () => {
  dir = await tempDir('baton-schemathesis-');
  baton = spawnBaton({ PORT: '0', HOST: '127.0.0.1', BATON_DATA_DIR: path.join(dir.path, 'data'), LOG_LEVEL: 'info' });
  await waitUntilReady(baton);
  url = await baton.ready;
  await post('/api/v3/workflows', readFileSync(path.resolve(repoRoot, '../shared/maestro-samples', `${WORKFLOW}.json`), 'utf8'));
  await post(`/api/v3/workflows/${WORKFLOW}/versions/latest/actions/start`, JSON.stringify({ request_id: 'hostile-seed' }));
  await post('/api/v3/signals', JSON.stringify({ name: SIGNAL, params: { dateint: 20260101 } }));
}, 120_000);

afterAll(async () => {
  if (baton) await stop(baton);
  await dir?.remove();
});

function schemathesis(bin: string, args: string[]): Promise<{ code: number; output: string }> {
  return new Promise((resolve) => {
    execFile(bin, args, { cwd: dir.path, timeout: TIMEOUT_MS - 60_000, maxBuffer: 64 * 1024 * 1024, env: { ...process.env, NO_COLOR: '1', SCHEMATHESIS_HOOKS: '' } }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : -1) : 0;
      resolve({ code, output: `${stdout}\n${stderr}`.trim() });
    });
  });
}

describe('REST fuzzing with schemathesis', () => {
  it('finds no server error and no response outside its schema in any operation', async () => {
    const bin = await findSchemathesis();
    const config = path.join(dir.path, 'schemathesis.toml');
    // Path parameters of the stored workflow, instance and signal (`name` is the signal's).
    await writeFile(config, [`[parameters]`, `id = "${WORKFLOW}"`, `iid = "1"`, `name = "${SIGNAL}"`, ''].join('\n'));
    const { code, output } = await schemathesis(bin, [
      '--config-file', config,
      'run', `${url}/openapi.json`,
      '--checks', 'not_a_server_error,response_schema_conformance,content_type_conformance,unsupported_method',
      '--max-examples', String(EXAMPLES_PER_OPERATION),
      '--seed', String(SEED),
      // One worker: schemathesis' threads trip a CPython 3.11 bug in compile() ("AST constructor
      // recursion depth mismatch") that is reported as a runtime error of the run.
      '--workers', '1',
      // A server that stops answering fails fast with the report instead of at the test timeout.
      '--request-timeout', '5',
      '--max-failures', '10',
      '--no-shrink',
      // SNS deliveries must carry an AWS signature over the exact message, verified against the
      // signing certificate: generated requests never get past that check, so fuzzing it only
      // exercises the refusal (covered by the SNS route tests).
      '--exclude-path', '/api/v3/sns',
    ]);
    if (code !== 0 || EXAMPLES_PER_OPERATION > 25) console.log(output);
    expect(code, `schemathesis reported failures:\n${output}`).toBe(0);
    expect(output).toMatch(/Test cases:\s+\d+ generated, \d+ passed/);

    // The process survived and its database still answers.
    const ready = await fetch(`${url}/readyz`);
    expect(ready.status).toBe(200);
    expect(baton.child.exitCode).toBeNull();
  }, TIMEOUT_MS);
});
