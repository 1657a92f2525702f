import { execFile } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type Database } from '../../../test/setup/infra.js';
import { repoRoot, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

const bin = path.join(repoRoot, 'packages/server/bin/baton.js');
const TOKEN = 'cli-catalog-admin-token-0123456789';
let database: Database;
let server: BatonProcess;
let url: string;
let dir: { path: string; remove(): Promise<void> };

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

function baton(args: string[]): Promise<Result> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [bin, ...args],
      { cwd: dir.path, env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', BATON_URL: url, BATON_TOKEN: TOKEN }, timeout: 60_000 },
      (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    );
  });
}

const step = (id: string, extra: object = {}) => ({ step: { id, type: 'NoOp', ...extra } });
const WORKFLOWS = [
  { id: 'cli-ingest', name: 'Ingest', time_triggers: [{ type: 'CRON', cron: '0 3 * * *', timezone: 'Europe/Berlin' }], steps: [step('pull', { signal_outputs: [{ name: 'cli/raw', params: {} }] })] },
  { id: 'cli-clean', signal_triggers: [{ definitions: { 'cli/raw': {} } }], steps: [step('dedupe', { signal_outputs: [{ name: 'cli/clean', params: {} }] })] },
  { id: 'cli-report', steps: [step('wait', { signal_dependencies: [{ name: 'cli/clean', match_params: {} }] })] },
];

beforeAll(async () => {
  dir = await tempDir('baton-cli-catalog-');
  database = await createTestDatabase();
  server = spawnBaton({ DATABASE_URL: database.url, PORT: '0', BATON_TOKENS: `cli:admin:${TOKEN}` });
  await waitUntilReady(server, 90_000);
  url = await server.ready;
  for (const workflow of WORKFLOWS) {
    const r = await fetch(`${url}/api/v3/workflows`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, body: JSON.stringify({ properties: { owner: 'tester' }, workflow }) });
    expect(r.status, await r.text()).toBe(200);
  }
}, 120_000);
afterAll(async () => {
  if (server) await stop(server);
  await database?.drop();
  await dir?.remove();
});

describe('baton lineage catalog', () => {
  it('lists each workflow with what feeds it and what it emits, then each signal', async () => {
    const r = await baton(['lineage', 'catalog']);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    expect(r.stdout).toBe(
      [
        'workflow cli-clean (version 1)',
        '  ← started by signal cli/raw',
        '  → emits signal cli/clean (step dedupe)',
        'workflow cli-ingest "Ingest" (version 1)',
        '  ← fired by cron "0 3 * * *" Europe/Berlin',
        '  → emits signal cli/raw (step pull)',
        'workflow cli-report (version 1)',
        '  ← waits for signal cli/clean (step wait)',
        '',
        'signals:',
        '  cli/clean  from: cli-clean  to: cli-report',
        '  cli/raw  from: cli-ingest  to: cli-clean',
        '',
      ].join('\n'),
    );
  });

  it('centres on a workflow or a signal, and prints the graph as JSON', async () => {
    const r = await baton(['lineage', 'catalog', '--workflow', 'cli-clean', '--depth', '1', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const g = JSON.parse(r.stdout) as { nodes: Array<{ id: string }>; focus: string; depth: number };
    expect(g.nodes.map((n) => n.id).sort()).toEqual(['signal:cli/clean', 'signal:cli/raw', 'workflow:cli-clean']);
    expect(g).toMatchObject({ focus: 'workflow:cli-clean', depth: 1 });
    const s = await baton(['lineage', 'catalog', '--signal', 'cli/clean']);
    expect(s.code, s.stderr).toBe(0);
    expect(s.stdout.split('\n')[0]).toBe('around signal cli/clean, 2 hops up- and downstream');
    expect(s.stdout).toContain('  cli/raw  from: (none within depth)  to: cli-clean');
    expect(s.stdout).not.toContain('workflow cli-ingest');
    const deeper = await baton(['lineage', 'catalog', '--signal', 'cli/clean', '--depth', '3']);
    expect(deeper.stdout).toContain('  ← fired by cron "0 3 * * *" Europe/Berlin');
  });

  it('refuses bad options (exit 2) and names an unknown focus (exit 1)', async () => {
    const both = await baton(['lineage', 'catalog', '--workflow', 'a', '--signal', 'b']);
    expect(both.code).toBe(2);
    expect(both.stderr).toContain('not both');
    const depth = await baton(['lineage', 'catalog', '--depth', '2']);
    expect(depth.code).toBe(2);
    expect(depth.stderr).toContain('--depth needs --workflow or --signal');
    const missing = await baton(['lineage', 'catalog', '--workflow', 'nope']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('workflow "nope" does not exist');
    const stray = await baton(['lineage', 'signal', 'x', '1', '--workflow', 'a']);
    expect(stray.code).toBe(2);
  });
});
