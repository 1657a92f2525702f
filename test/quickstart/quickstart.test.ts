import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { openSync, closeSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { launchBrowser, type TestBrowser } from '../web/support/browser.js';
import { autolinks, shellCommands } from './doc-commands.js';

/**
 * docs/quickstart.md, followed as written on a fresh clone of the repository: its `sh` blocks are
 * the commands run here, in order, so the document and this test cannot drift apart. The clone
 * sits in `<tmp>/main` beside `<tmp>/shared` (a link to the real shared folder), which is the
 * layout the document's `../shared/...` paths expect.
 */
const repoRoot = path.resolve(import.meta.dirname, '../..');
const doc = readFileSync(path.join(repoRoot, 'docs/quickstart.md'), 'utf8');
const commands = shellCommands(doc);
const artifacts = path.join(repoRoot, 'test-artifacts/quickstart');
const DOC_ORIGIN = 'http://127.0.0.1:8080';
const WF = 'sample-signal-trigger-wf';

interface Expectation {
  command: RegExp;
  output: RegExp[];
}

/** What each step of the quickstart must print; every one must match exactly one command of the doc. */
const EXPECTATIONS: Expectation[] = [
  { command: /^npx baton workflow push \.\.\/shared\/maestro-samples\/sample-signal-trigger-wf\.json$/, output: [/^created sample-signal-trigger-wf version 1; active version 1$/m] },
  { command: /^npx baton signal publish signal_a /, output: [/^published signal_a#1 \(instance [0-9a-f-]{36}\)$/m] },
  { command: /^npx baton signal publish signal_b /, output: [/^published signal_b#1 \(instance [0-9a-f-]{36}\)$/m] },
  { command: /^npx baton instance status sample-signal-trigger-wf 1$/, output: [/^sample-signal-trigger-wf instance 1 run 1: IN_PROGRESS$/m, /^\s+job\.1\s+WAITING_FOR_SIGNALS$/m] },
  { command: /^npx baton signal publish db\/test\/table1 vtts_utc_dateint==\$\(date -u \+%Y%m%d\) vtts_utc_hour==00$/, output: [/^published db\/test\/table1#1 \(instance [0-9a-f-]{36}\)$/m] },
  { command: /^npx baton signal publish db\/test\/table2 vtts_utc_dateint==\$\(date -u \+%Y%m%d\) vtts_utc_hour==00$/, output: [/^published db\/test\/table2#1 \(instance [0-9a-f-]{36}\)$/m] },
  {
    command: /^npx baton instance status sample-signal-trigger-wf 1 --watch$/,
    output: [/^sample-signal-trigger-wf instance 1 run 1: SUCCEEDED$/m, ...[1, 2, 3, 4, 5, 6].map((n) => new RegExp(`^\\s+job\\.${n}\\s+SUCCEEDED$`, 'm'))],
  },
  {
    command: /^npx baton workflow list$/,
    output: [/^WORKFLOW\s+ACTIVE\s+LATEST\s+OWNER\s+TRIGGERS\s+TAGS\s+LAST RUN$/m, /^sample-signal-trigger-wf\s+1\s+1\s+tester\s+signal\s+-\s+SUCCEEDED #1 \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/m],
  },
  {
    command: /^npx baton instance list --status SUCCEEDED --since 1h$/,
    output: [/^sample-signal-trigger-wf\s+1\s+1\s+SUCCEEDED\s+signal\s+\d{4}-\d\d-\d\dT[\d:.]+Z\s+\d{4}-\d\d-\d\dT[\d:.]+Z$/m],
  },
  {
    command: /^npx baton workflow describe sample-signal-trigger-wf$/,
    output: [/^ {2}signal: signal_a \+ signal_b$/m, /^ {2}job\.1 \[NoOp\] -> job\.2, job\.5$/m, /^ {2}1\s+1\s+1\s+SUCCEEDED\s+signal\s/m],
  },
  { command: /^npx baton signal show dummy\/test\/signal1 latest$/, output: [/^dummy\/test\/signal1#1 \S+ key1="v1" key2=1$/m] },
  {
    command: /^npx baton lineage signal signal_a 1$/,
    output: [/TRIGGERED workflow:sample-signal-trigger-wf\/1$/m, /EMITTED signal:dummy\/test\/signal1#1$/m, /EMITTED signal:dummy\/test\/signal2#1$/m],
  },
  {
    command: /^npx baton lineage instance sample-signal-trigger-wf 1$/,
    output: [
      /TRIGGERED by signal:signal_a#1$/m,
      /TRIGGERED by signal:signal_b#1$/m,
      /UNBLOCKED sample-signal-trigger-wf\/1\/job\.1\/1 by signal:db\/test\/table1#1$/m,
      /UNBLOCKED sample-signal-trigger-wf\/1\/job\.1\/1 by signal:db\/test\/table2#1$/m,
    ],
  },
];

/** Read-only commands may run before the asynchronous trigger has caught up; they are asked again. */
const READ_ONLY = /^npx baton (instance status|lineage|signal (show|list)) (?!.*--watch)/;

let tmp: string;
let clone: string;
let server: ChildProcess | undefined;
let serverExit: Promise<void> | undefined;
let serverLog: string;
let url: string;
let browser: TestBrowser | undefined;

interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment of someone following the guide: none of this test run's Baton or Node settings. */
function userEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (/^(BATON_|VITEST|DATABASE_URL$|HOST$|PORT$|LOG_LEVEL$|NODE_OPTIONS$|NODE_ENV$|AWS_)/.test(k)) continue;
    env[k] = v;
  }
  // npm from its cache where it can, and without the audit and funding round trips.
  return { ...env, npm_config_prefer_offline: 'true', npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false', ...extra };
}

function sh(command: string, timeoutMs: number): Promise<Result> {
  return new Promise((resolve) => {
    execFile('bash', ['-c', command], { cwd: clone, env: userEnv({ BATON_URL: url }), timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

async function freePort(): Promise<number> {
  const srv = createServer();
  await new Promise<void>((resolve, reject) => srv.once('error', reject).listen(0, '127.0.0.1', resolve));
  const address = srv.address();
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  if (!address || typeof address === 'string') throw new Error('no TCP port');
  return address.port;
}

async function logTail(): Promise<string> {
  const text = await readFile(serverLog, 'utf8').catch(() => '');
  return text.split('\n').slice(-30).join('\n');
}

/** `npm start` in the background, as the guide's first terminal; resolves when /readyz answers 200. */
async function startService(command: string): Promise<void> {
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  const fd = openSync(serverLog, 'a');
  // Its own process group, so that stopping it reaches node behind npm and sh.
  server = spawn('bash', ['-c', command], { cwd: clone, env: userEnv({ PORT: String(port) }), detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  let exited = false;
  serverExit = new Promise((resolve) => server!.once('exit', () => ((exited = true), resolve())));
  const deadline = Date.now() + 150_000;
  for (;;) {
    if (exited) throw new Error(`"${command}" exited before it was ready:\n${await logTail()}`);
    const ok = await fetch(`${url}/readyz`).then((r) => r.ok, () => false);
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`"${command}" was not ready on ${url} within 150 s:\n${await logTail()}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

async function stopService(): Promise<void> {
  if (!server?.pid || !serverExit) return;
  const done = serverExit;
  try {
    process.kill(-server.pid, 'SIGTERM');
  } catch {
    return; // already gone
  }
  const stopped = await Promise.race([done.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 30_000))]);
  if (!stopped) process.kill(-server.pid, 'SIGKILL');
}

function expectationFor(command: string): Expectation | undefined {
  return EXPECTATIONS.find((e) => e.command.test(command));
}

const matches = (e: Expectation, r: Result) => r.code === 0 && e.output.every((re) => re.test(r.stdout));

async function runDocCommand(command: string): Promise<void> {
  const e = expectationFor(command);
  const readOnly = READ_ONLY.test(command);
  const deadline = Date.now() + 30_000;
  for (;;) {
    const r = await sh(command, 60_000);
    const done = e ? matches(e, r) : r.code === 0;
    if (done) return;
    if (!readOnly || Date.now() > deadline) {
      throw new Error(`"${command}" exited ${r.code}${e ? ' or printed something other than expected' : ''}\nstdout:\n${r.stdout}\nstderr:\n${r.stderr}\nservice log:\n${await logTail()}`);
    }
    await new Promise((res) => setTimeout(res, 500));
  }
}

beforeAll(async () => {
  tmp = await mkdtemp(path.join(tmpdir(), 'baton-quickstart-'));
  clone = path.join(tmp, 'main');
  serverLog = path.join(tmp, 'service.log');
  await symlink(path.resolve(repoRoot, '../shared'), path.join(tmp, 'shared'), 'dir');
  await new Promise<void>((resolve, reject) =>
    execFile('git', ['clone', '--quiet', repoRoot, clone], { timeout: 60_000 }, (err, _o, stderr) => (err ? reject(new Error(`git clone of ${repoRoot} failed: ${stderr || err.message}`)) : resolve())),
  );
  await mkdir(artifacts, { recursive: true });
});

afterAll(async () => {
  await browser?.close();
  await stopService();
  if (tmp) await rm(tmp, { recursive: true, force: true });
});

describe('docs/quickstart.md on a fresh clone', () => {
  it('starts with npm ci and npm start and has a command for every checked step', () => {
    expect(commands.slice(0, 2)).toEqual(['npm ci', 'npm start']);
    for (const e of EXPECTATIONS) expect(commands.filter((c) => e.command.test(c)), `commands matching ${e.command}`).toHaveLength(1);
  });

  // `npm ci` in the clone takes about 20 s with npm's cache warm (measured on the 2-core CI
  // machine), well under the 90 s beyond which linking the checkout's node_modules would pay, so
  // the guide's install really runs.
  it('runs every command as written: the sample run succeeds and its lineage has every edge', async () => {
    const timings: Array<{ command: string; ms: number }> = [];
    for (const command of commands) {
      const t0 = Date.now();
      if (command === 'npm start') {
        await startService(command);
      } else if (command === 'npm ci') {
        const r = await sh(command, 240_000);
        expect(r.code, `npm ci failed:\n${r.stderr}`).toBe(0);
      } else {
        await runDocCommand(command);
      }
      timings.push({ command, ms: Date.now() - t0 });
    }
    // How long each step of the guide took, for whoever wonders why this test is slow.
    await writeFile(path.join(artifacts, 'timings.json'), `${JSON.stringify(timings, null, 2)}\n`);
  }, 420_000);

  it('shows the run in the lineage graph and the instance page at the addresses the guide gives', async () => {
    expect(url, 'the service was started by the guide').toBeDefined();
    const lineageLink = autolinks(doc).find((l) => l.startsWith(`${DOC_ORIGIN}/ui/lineage?signal=`));
    const instanceLink = autolinks(doc).find((l) => l.startsWith(`${DOC_ORIGIN}/ui/workflows/${WF}/instances/1`));
    const runLineageLink = autolinks(doc).find((l) => l.startsWith(`${DOC_ORIGIN}/ui/lineage?workflow=`));
    expect(lineageLink).toBeDefined();
    expect(runLineageLink).toBeDefined();
    expect(instanceLink).toBeDefined();

    browser = await launchBrowser();
    const page: Page = await browser.context.newPage();
    await page.goto(lineageLink!.replace(DOC_ORIGIN, url));
    await page.locator('#lineage-graph svg.graph').waitFor();
    await page.locator('svg.graph .node.center', { hasText: 'signal_a #1' }).waitFor();
    const run = page.locator('svg.graph .node.kind-workflow_instance', { hasText: `${WF} #1` });
    await run.waitFor();
    expect(await run.getAttribute('data-status')).toBe('SUCCEEDED');
    const labels = await page.locator('svg.graph .node text.label').allTextContents();
    expect(labels).toEqual(expect.arrayContaining(['dummy/test/signal1 #1', 'dummy/test/signal2 #1']));
    await page.screenshot({ path: path.join(artifacts, 'lineage.png'), fullPage: true });

    await page.goto(runLineageLink!.replace(DOC_ORIGIN, url));
    await page.locator('svg.graph .node.center', { hasText: `${WF} #1` }).waitFor();
    expect(await page.locator('svg.graph .edge[data-kind="TRIGGERED"]').count()).toBe(2);
    expect(await page.locator('svg.graph .edge[data-kind="UNBLOCKED"]').count()).toBe(2);
    expect(await page.locator('svg.graph .node text.label').allTextContents()).toEqual(expect.arrayContaining(['db/test/table1 #1', 'db/test/table2 #1']));
    await page.screenshot({ path: path.join(artifacts, 'lineage-run.png'), fullPage: true });

    await page.goto(instanceLink!.replace(DOC_ORIGIN, url));
    await page.locator('svg.graph .node[data-id="job.1"]').waitFor();
    for (const step of ['job.1', 'job.2', 'job.3', 'job.4', 'job.5', 'job.6']) {
      expect(await page.locator(`svg.graph .node[data-id="${step}"]`).getAttribute('data-status'), step).toBe('SUCCEEDED');
    }
    await page.screenshot({ path: path.join(artifacts, 'instance.png'), fullPage: true });
  }, 120_000);
});
