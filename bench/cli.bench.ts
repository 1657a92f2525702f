/**
 * CLI start-up benchmark (`npm run bench:cli`): wall time of whole `baton` and `sel` processes as
 * a user runs them, each beside `node -e 0` measured in the same run (interleaved, so a machine
 * busy with other work slows all of them alike). Measured: `baton --help`,
 * `baton workflow list --json` against a running server (started here on PGlite in a throwaway
 * data folder; where this checkout's CLI has no `workflow list` yet, `baton workflow show <id>
 * --json` stands in and the table says so) and `sel eval 'return 1;'`. The bins run the compiled
 * programs (built first when a source is newer). Target: each median ≤ 4 × `node -e 0`.
 *
 *   npm run bench:cli [-- --runs N]      (default 21 runs of each; at least 15)
 *
 * Prints a table and, as its last line, one JSON object with the medians and ratios.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { cpus, loadavg, tmpdir } from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { ensureBuilt } from '../scripts/infra/build.js';
import { repoRoot } from '../scripts/infra/paths.js';

const { values } = parseArgs({ options: { runs: { type: 'string', default: '21' } } });
const RUNS = Math.max(15, Number(values.runs) || 21);
const TARGET_RATIO = 4;
const baton = path.join(repoRoot, 'packages/server/bin/baton.js');
const sel = path.join(repoRoot, 'packages/sel/bin/sel.js');
const WORKFLOW = { properties: { owner: 'bench' }, workflow: { id: 'bench-cli-wf', steps: [{ step: { id: 'only', type: 'NoOp' } }] } };

interface Server {
  url: string;
  stop(): Promise<void>;
}

/** `baton serve` on PGlite in a fresh folder, port chosen by the OS; resolves once it says ready. */
async function startServer(): Promise<Server> {
  const dataDir = await mkdtemp(path.join(tmpdir(), 'baton-bench-cli-'));
  const child = spawn(process.execPath, [baton, 'serve'], {
    env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '', PORT: '0', BATON_DATA_DIR: dataDir, LOG_FORMAT: 'json', LOG_LEVEL: 'info' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const url = await new Promise<string>((resolve, reject) => {
    let pending = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      pending += d;
      const lines = pending.split('\n');
      pending = lines.pop()!;
      for (const line of lines) {
        const entry = JSON.parse(line) as { msg?: string; url?: string };
        if (entry.msg === 'server ready') resolve(String(entry.url));
      }
    });
    child.once('exit', (code) => reject(new Error(`baton serve exited (${code}) before it was ready`)));
  });
  return {
    url,
    async stop() {
      const exited = new Promise((r) => child.once('exit', r));
      child.kill('SIGTERM');
      await exited;
      await rm(dataDir, { recursive: true, force: true });
    },
  };
}

interface Case {
  name: string;
  argv: string[];
  env?: Record<string, string>;
}

function run(c: Case): number {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, c.argv, { env: { ...process.env, ...c.env }, stdio: ['ignore', 'pipe', 'pipe'], encoding: 'utf8' });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${c.name} exited ${r.status}: ${r.stderr}`);
  return ms;
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[s.length >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

for (const line of await ensureBuilt()) console.log(line);
const server = await startServer();
try {
  const pushed = await fetch(`${server.url}/api/v3/workflows`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(WORKFLOW) });
  if (!pushed.ok) throw new Error(`pushing the bench workflow failed: ${pushed.status} ${await pushed.text()}`);
  const env = { BATON_URL: server.url };
  // `workflow list` arrives on another branch; until then `workflow show` is the server command measured.
  const probe = spawnSync(process.execPath, [baton, 'workflow', 'list', '--json'], { env: { ...process.env, ...env }, encoding: 'utf8' });
  const listKnown = probe.status === 0;
  const serverCase: Case = listKnown
    ? { name: 'baton workflow list --json', argv: [baton, 'workflow', 'list', '--json'], env }
    : { name: `baton workflow show ${WORKFLOW.workflow.id} --json`, argv: [baton, 'workflow', 'show', WORKFLOW.workflow.id, '--json'], env };
  if (!listKnown) console.log(`"baton workflow list" is not a command of this checkout (${probe.stderr.trim()}); measuring "${serverCase.name}" instead`);

  const cases: Case[] = [
    { name: 'node -e 0', argv: ['-e', '0'] },
    { name: 'baton --help', argv: [baton, '--help'] },
    serverCase,
    { name: "sel eval 'return 1;'", argv: [sel, 'eval', 'return 1;'] },
  ];
  // One warm-up each (the file system cache), then the runs interleaved.
  for (const c of cases) run(c);
  const times = cases.map(() => [] as number[]);
  for (let i = 0; i < RUNS; i++) cases.forEach((c, k) => times[k]!.push(run(c)));

  const medians = times.map(median);
  const node = medians[0]!;
  console.log(`\n${RUNS} runs each on ${cpus().length} cores, load average ${loadavg().map((l) => l.toFixed(1)).join(' ')}, node ${process.version}`);
  console.log(`${'command'.padEnd(40)} ${'median ms'.padStart(10)} ${'min ms'.padStart(8)} ${'× node'.padStart(8)}`);
  cases.forEach((c, k) => {
    console.log(`${c.name.padEnd(40)} ${medians[k]!.toFixed(1).padStart(10)} ${Math.min(...times[k]!).toFixed(1).padStart(8)} ${(medians[k]! / node).toFixed(2).padStart(8)}`);
  });
  const ratios = Object.fromEntries(cases.slice(1).map((c, k) => [c.name, Number((medians[k + 1]! / node).toFixed(2))]));
  const ok = Object.values(ratios).every((r) => r <= TARGET_RATIO);
  console.log(ok ? `every command within ${TARGET_RATIO} × node -e 0` : `SLOWER than ${TARGET_RATIO} × node -e 0: ${Object.entries(ratios).filter(([, r]) => r > TARGET_RATIO).map(([n]) => n).join(', ')}`);
  console.log(
    JSON.stringify({
      bench: 'cli',
      runs: RUNS,
      serverCommand: serverCase.name,
      workflowListKnown: listKnown,
      medianMs: Object.fromEntries(cases.map((c, k) => [c.name, Number(medians[k]!.toFixed(1))])),
      ratioToNode: ratios,
      targetRatio: TARGET_RATIO,
      ok,
      loadAverage: loadavg().map((l) => Number(l.toFixed(1))),
    }),
  );
} finally {
  await server.stop();
}
