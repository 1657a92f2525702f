import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SignalService } from '../src/service.js';
import { definitionWith } from './maestro-sample.js';
import { openTestDb, TableStarter, testExpressions, type TestDb } from './helpers.js';
import { NAMES, stressSignals, stressTriggers, toSignalTrigger } from './stress-plan.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../../..');
let t: TestDb;
const children: ChildProcess[] = [];

beforeAll(async () => {
  t = await openTestDb();
});
afterAll(async () => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  await t?.close();
});

function worker(first: number, last: number): { proc: ChildProcess; published: Promise<void>; output: () => string } {
  const proc = spawn(process.execPath, ['--import', 'tsx', path.join(here, 'stress-worker.ts'), t.database.url, String(first), String(last)], {
    cwd: repoRoot,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(proc);
  let out = '';
  const published = new Promise<void>((resolve, reject) => {
    proc.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.includes('published')) resolve();
    });
    proc.stderr!.on('data', (d: Buffer) => (out += d.toString()));
    proc.on('exit', (code, sig) => reject(new Error(`worker exited (${code ?? sig}) before publishing:\n${out}`)));
  });
  published.catch(() => {});
  return { proc, published, output: () => out };
}

/** The expectation, computed from the plan alone: per trigger and join value, min(left, right). */
function expectedStarts(): number {
  const unique = new Map<string, { name: string; params: { part: number; kind: string; level: number } }>();
  for (const s of stressSignals()) unique.set(`${s.name}|${JSON.stringify(s.params)}`, s);
  let total = 0;
  for (const tr of stressTriggers()) {
    for (let part = 0; part < 8; part++) {
      let left = 0;
      let right = 0;
      for (const s of unique.values()) {
        if (s.params.part !== part || s.params.kind !== 'ok') continue;
        if (s.name === tr.left && s.params.level >= tr.minLevel) left++;
        if (s.name === tr.right) right++;
      }
      total += Math.min(left, right);
    }
  }
  return total;
}

async function scalar(sql: string): Promise<number> {
  const r = await t.db.query<{ n: number }>(sql);
  return Number(r.rows[0]!.n);
}

it('starts exactly the expected runs with two processes, duplicates, and one process SIGKILLed mid-run', async () => {
  const setup = new SignalService(t.db, { starter: new TableStarter(), expressions: testExpressions });
  for (const tr of stressTriggers()) await setup.syncSubscriptions(tr.workflowId, definitionWith(tr.workflowId, toSignalTrigger(tr)));

  const a = worker(0, 3);
  const b = worker(4, 7);
  // Kill B once it is well into publishing and matching.
  const t0 = Date.now();
  while ((await scalar('SELECT count(*) AS n FROM signal_instances')) < 1200) {
    if (Date.now() - t0 > 60_000) throw new Error(`no progress:\n${a.output()}\n${b.output()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
  b.proc.kill('SIGKILL');
  const killedAt = await scalar('SELECT count(*) AS n FROM signal_instances');
  // Its clients retry everything against a fresh process.
  const b2 = worker(4, 7);
  await Promise.all([a.published, b2.published]);

  const unique = new Set(stressSignals().map((s) => `${s.name}|${JSON.stringify(s.params)}`)).size;
  expect(await scalar('SELECT count(*) AS n FROM signal_instances')).toBe(unique);
  expect(killedAt).toBeLessThan(unique);
  // Wait for the surviving matchers to finish the queue, then settle what is left in this process.
  const t1 = Date.now();
  while ((await scalar('SELECT count(*) AS n FROM signal_match_queue')) > 0 && Date.now() - t1 < 60_000) await new Promise((r) => setTimeout(r, 50));
  await setup.drain();

  const expected = expectedStarts();
  expect(expected).toBeGreaterThan(100);
  expect(await scalar('SELECT count(*) AS n FROM test_workflow_starts')).toBe(expected);
  expect(await scalar(`SELECT count(*) AS n FROM signal_trigger_firings WHERE outcome = 'STARTED'`)).toBe(expected);
  expect(await scalar('SELECT count(*) AS n FROM (SELECT request_id FROM test_workflow_starts GROUP BY request_id HAVING count(*) > 1) d')).toBe(0);
  expect(await scalar('SELECT count(*) AS n FROM signal_trigger_consumptions')).toBe(2 * expected);
  // Gap-free per name.
  for (const name of NAMES) {
    const r = await t.db.query<{ n: number; mx: number | null }>('SELECT count(*)::int AS n, max(seq_id) AS mx FROM signal_instances WHERE name = $1', [name]);
    expect(r.rows[0]!.mx ?? 0).toBe(r.rows[0]!.n);
  }
  // Every firing joined equal parts.
  expect(
    await scalar(`SELECT count(*) AS n FROM signal_trigger_firings f
                  WHERE (SELECT count(DISTINCT (s -> 'params' ->> 'part')) FROM jsonb_array_elements(f.signals) s) <> 1`),
  ).toBe(0);

  for (const c of [a.proc, b2.proc]) c.kill('SIGTERM');
  await Promise.all([a.proc, b2.proc].map((c) => new Promise((r) => (c.exitCode !== null ? r(null) : c.on('exit', r)))));
}, 240_000);
