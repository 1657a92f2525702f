import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import '../setup/provided.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startWebTestService, type WebTestService } from './support/service.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(repoRoot, 'test-artifacts', 'web');
const BULK = 27;

let service: WebTestService;
let chrome: TestBrowser;
let page: Page;
let scratch: string;
const pageErrors: string[] = [];

/** prep → work (a Shell step that fails until its marker file exists) → gate (waits for web/ctl/go) → done. */
function etlWorkflow(marker: string) {
  return {
    properties: { owner: 'ops-team' },
    workflow: {
      id: 'ctl-etl-wf',
      name: 'Nightly ETL',
      params: {
        pct: { value: 50, type: 'LONG', validator: 'param > 0 && param < 100' },
        label: { value: 'daily', type: 'STRING' },
      },
      steps: [
        { step: { id: 'prep', type: 'NoOp', transition: { successors: { work: 'true' } } } },
        {
          step: {
            id: 'work',
            type: 'Shell',
            params: { command: { type: 'STRING_ARRAY', value: ['sh', '-c', `echo "checking ${marker}"; if [ -f '${marker}' ]; then echo found; else echo "marker missing" >&2; exit 3; fi`] } },
            transition: { successors: { gate: 'true' } },
          },
        },
        { step: { id: 'gate', type: 'NoOp', signal_dependencies: [{ name: 'web/ctl/go', match_params: {} }], transition: { successors: { done: 'true' } } } },
        { step: { id: 'done', type: 'NoOp', transition: {} } },
      ],
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function instanceStatus(iid: number): Promise<string> {
  return (await service.call<{ status: string }>('GET', `/api/v3/workflows/ctl-etl-wf/instances/${iid}/runs/latest`)).status;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Signs the tab in with a token through the page's own token form. */
async function signIn(token: string): Promise<void> {
  await page.locator('#token-form input[name="token"]').fill(token);
  await page.locator('#token-form button').click();
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  scratch = await mkdtemp(path.join(tmpdir(), 'baton-web-ctl-'));
  service = await startWebTestService({ postgres: inject('batonInfra').postgres !== undefined, env: { BATON_SHELL_STEPS: '1' } });
  chrome = await launchBrowser();
  page = await chrome.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  await service.call('POST', '/api/v3/workflows', etlWorkflow(path.join(scratch, 'marker')));
  await service.call('POST', '/api/v3/workflows', {
    properties: { owner: 'ops-team' },
    workflow: { id: 'ctl-cron-wf', name: 'Hourly tick', time_triggers: [{ type: 'CRON', cron: '0 * * * *', timezone: 'UTC' }], steps: [{ step: { id: 'tick', type: 'NoOp', transition: {} } }] },
  });
  for (let i = 1; i <= BULK; i++) {
    const id = `ctl-bulk-${String(i).padStart(2, '0')}`;
    await service.call('POST', '/api/v3/workflows', {
      properties: { owner: 'bulk' },
      workflow: { id, signal_triggers: [{ definitions: { [`bulk/${i}`]: { match_params: {}, join_keys: [] } }, params: {} }], steps: [{ step: { id: 'only', type: 'NoOp', transition: {} } }] },
    });
  }
}, 180_000);

afterEach(async (ctx) => {
  // What the page showed when a test failed, for whoever reads the failure.
  if (ctx.task.result?.state === 'fail' && page) await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
});

afterAll(async () => {
  await chrome?.close();
  await service?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('the web control plane in headless Chromium', () => {
  it('finds a workflow by search and filters, pages through the list, and links to the workflow', async () => {
    await page.goto(`${service.url}/ui/workflows`);
    await page.locator('#token-form').waitFor();
    await signIn(service.token);
    const rows = page.locator('#workflows tbody tr');
    await rows.first().waitFor();
    // 29 workflows, 25 a page.
    expect(await rows.count()).toBe(25);
    await page.locator('#next-page').click();
    await page.locator('#page-number', { hasText: 'page 2' }).waitFor();
    expect(await rows.count()).toBe(4);
    expect(await page.locator('#next-page').isDisabled()).toBe(true);
    await page.locator('#prev-page').click();
    await page.locator('#page-number', { hasText: 'page 1' }).waitFor();
    expect(await rows.count()).toBe(25);

    await page.locator('#workflow-filters select[name="trigger"]').selectOption('time');
    await page.locator('#workflows tr[data-workflow="ctl-cron-wf"]').waitFor();
    expect(await rows.count()).toBe(1);
    expect(page.url()).toContain('trigger=time');
    // The list loads slowly: what is typed into the search box meanwhile stays there when the list
    // arrives, and is what Search then sends.
    const listCalls = (u: URL) => u.pathname === '/api/v3/workflows';
    await page.route(listCalls, async (route) => {
      await new Promise((r) => setTimeout(r, 700));
      await route.continue();
    });
    await page.locator('#workflow-filters select[name="trigger"]').selectOption('');
    await page.locator('#workflow-filters input[name="q"]').fill('nightly');
    await page.locator('#workflows tr[data-workflow="ctl-bulk-01"]').waitFor();
    expect(await page.locator('#workflow-filters input[name="q"]').inputValue()).toBe('nightly');
    await page.unroute(listCalls);
    await page.locator('#workflow-filters button[type="submit"]').click();
    await page.locator('#workflows tr[data-workflow="ctl-etl-wf"]').waitFor();
    expect(await rows.count()).toBe(1);
    expect(await rows.first().textContent()).toContain('Nightly ETL');
    expect(await rows.first().textContent()).toContain('no runs yet');
    await shot('workflows-search');

    await page.locator('#workflow-filters input[name="q"]').fill('no-such-thing');
    await page.locator('#workflow-filters button[type="submit"]').click();
    await page.locator('#no-workflows').waitFor();

    await page.locator('#workflow-filters input[name="q"]').fill('nightly');
    await page.locator('#workflow-filters button[type="submit"]').click();
    await page.locator('#workflows tr[data-workflow="ctl-etl-wf"] a', { hasText: 'ctl-etl-wf' }).click();
    await page.waitForURL(/\/ui\/workflows\/ctl-etl-wf$/);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows the definition and starts runs with params: a bad type is caught before sending, the server\'s 400 lands by the field it names', async () => {
    await page.locator('#run-grid #no-runs').waitFor();
    expect(await page.locator('#steps tbody tr').evaluateAll((trs) => trs.map((tr) => tr.getAttribute('data-step')))).toEqual(['prep', 'work', 'gate', 'done']);
    expect(await page.locator('#params tr[data-param="pct"]').textContent()).toContain('param > 0 && param < 100');
    expect(await page.locator('#steps tr[data-step="gate"]').textContent()).toContain('web/ctl/go');

    const pct = page.locator('#start-form .field[data-field="pct"]');
    await pct.locator('input').fill('lots');
    await page.locator('#start-form button[type="submit"]').click();
    expect(await pct.locator('.field-error').textContent()).toContain('not a whole number');
    expect((await service.call<{ items: unknown[] }>('GET', '/api/v3/workflows/ctl-etl-wf/instances')).items).toHaveLength(0);

    await pct.locator('input').fill('150');
    await page.locator('#start-form button[type="submit"]').click();
    await pct.locator('.field-error', { hasText: 'fails validator' }).waitFor();
    expect(await pct.getAttribute('class')).toContain('invalid');
    expect(await pct.locator('.field-error').textContent()).toContain('param pct: value 150');
    await shot('workflow-start-error');
    expect((await service.call<{ items: unknown[] }>('GET', '/api/v3/workflows/ctl-etl-wf/instances')).items).toHaveLength(0);

    await pct.locator('input').fill('60');
    await page.locator('#start-form button[type="submit"]').click();
    await page.locator('#started-run', { hasText: '#1' }).waitFor();
    expect(await pct.locator('.field-error').textContent()).toBe('');
    // The run params as the request gave them (the evaluated params come once the run starts).
    expect((await service.call<{ run_params: Record<string, { value: unknown; type: string }> }>('GET', '/api/v3/workflows/ctl-etl-wf/instances/1/runs/latest')).run_params.pct).toEqual({ value: 60, type: 'LONG' });
    await waitFor('#1 failed', async () => ((await instanceStatus(1)) === 'FAILED' ? true : undefined));
  }, 60_000);

  it('draws the runs × steps grid, newest run first, paged by the list cursor', async () => {
    for (const request_id of ['grid-2', 'grid-3']) await service.call('POST', '/api/v3/workflows/ctl-etl-wf/versions/active/actions/start', { request_id });
    await waitFor('#3 failed', async () => ((await instanceStatus(3)) === 'FAILED' && (await instanceStatus(2)) === 'FAILED' ? true : undefined));
    await page.goto(`${service.url}/ui/workflows/ctl-etl-wf?runs=2`);
    const heads = page.locator('#run-grid thead th.run');
    await heads.first().waitFor();
    expect(await heads.evaluateAll((ths) => ths.map((th) => th.getAttribute('data-instance')))).toEqual(['3', '2']);
    const cell = (step: string, iid: number) => page.locator(`#run-grid tr[data-step="${step}"] td[data-instance="${iid}"] [data-status]`);
    expect(await cell('prep', 3).getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await cell('work', 3).getAttribute('data-status')).toMatch(/FAILED/);
    expect(await page.locator('#run-grid tr.run-status td [data-status]').first().getAttribute('data-status')).toBe('FAILED');
    await page.locator('#grid-older').click();
    await page.locator('#grid-page', { hasText: 'page 2' }).waitFor();
    await page.locator('#run-grid thead th.run[data-instance="1"]').waitFor();
    expect(await heads.count()).toBe(1);
    expect(await page.locator('#grid-older').isDisabled()).toBe(true);
    await page.locator('#grid-newer').click();
    await page.locator('#run-grid thead th.run[data-instance="3"]').waitFor();
    // The status filter narrows the runs (here to none).
    await page.locator('#run-grid select[name="status"]').selectOption('SUCCEEDED');
    await page.locator('#run-grid #no-runs', { hasText: 'No SUCCEEDED runs' }).waitFor();
    await page.locator('#run-grid select[name="status"]').selectOption('FAILED');
    await page.locator('#run-grid thead th.run[data-instance="3"]').waitFor();
    await shot('workflow-grid');
    await cell('work', 3).click();
    await page.waitForURL(/instances\/3\?step=work/);
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows the failure on a banner and a failed step\'s logs, restarts from the failed step and skips a waiting one, with confirmations', async () => {
    await page.goto(`${service.url}/ui/workflows/ctl-etl-wf/instances/1?step=work`);
    const banner = page.locator('#failure-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('FAILED');
    expect(await banner.locator('li[data-step="work"]').textContent()).toMatch(/work \S*FAILED/);
    await page.locator('#show-logs').click();
    await page.locator('#step-logs [data-stream="stderr"] pre').waitFor();
    expect(await page.locator('#step-logs [data-stream="stdout"] pre').textContent()).toContain('checking');
    expect(await page.locator('#step-logs [data-stream="stderr"] pre').textContent()).toContain('marker missing');
    await shot('instance-failed-logs');

    // Cancelling the confirmation changes nothing.
    await page.locator('#step-restart').click();
    await page.locator('#confirm-cancel').click();
    expect(await page.locator('#confirm').count()).toBe(0);
    expect((await service.call<{ workflow_run_id: number }>('GET', '/api/v3/workflows/ctl-etl-wf/instances/1/runs/latest')).workflow_run_id).toBe(1);

    await writeFile(path.join(scratch, 'marker'), 'ok');
    await page.locator('#step-restart').click();
    await page.locator('#confirm input[name="reason"]').fill('marker is there now');
    await shot('instance-confirm-restart');
    await page.locator('#confirm-ok').click();
    await page.locator('#action-result', { hasText: 'Run 2 started' }).waitFor();
    await page.locator('svg.graph .node[data-id="gate"][data-status="WAITING_FOR_SIGNALS"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('svg.graph .node[data-id="work"]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await page.locator('#failure-banner').count()).toBe(0);

    await page.locator('svg.graph .node[data-id="gate"]').click();
    await page.locator('#step-detail[data-step="gate"] #step-skip').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#instance-status [data-status="SUCCEEDED"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('svg.graph .node[data-id="gate"]').getAttribute('data-status')).toBe('SKIPPED');
    expect(await page.locator('svg.graph .node[data-id="done"]').getAttribute('data-status')).toBe('SUCCEEDED');
    await shot('instance-restarted-skipped');

    // The earlier run stays browsable, read only.
    await page.locator('#run-picker').selectOption('1');
    await page.waitForURL(/instances\/1\?step=gate&run=1$/);
    await page.locator('#instance-status [data-status="FAILED"]').waitFor();
    expect(await page.locator('svg.graph .node[data-id="work"]').getAttribute('data-status')).toBe('USER_FAILED');
    expect(await page.locator('#earlier-run').textContent()).toContain('the latest is run 2');
    expect(await page.locator('#instance-actions, #step-actions').count()).toBe(0);
    await page.locator('svg.graph .node[data-id="work"]').click();
    await page.locator('#step-detail[data-step="work"] [data-status="USER_FAILED"]').waitFor();
    await shot('instance-earlier-run');
    await page.locator('#run-picker').selectOption('2');
    await page.waitForURL((u) => !u.search.includes('run='));
    await page.locator('#instance-status [data-status="SUCCEEDED"]').waitFor();
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('kills a run, runs it again from the start, and stops that one', async () => {
    const started = await service.call<{ workflow_instance_id: number }>('POST', '/api/v3/workflows/ctl-etl-wf/versions/active/actions/start', { request_id: 'to-kill' });
    const iid = started.workflow_instance_id;
    await page.goto(`${service.url}/ui/workflows/ctl-etl-wf/instances/${iid}`);
    await page.locator('svg.graph .node[data-id="gate"][data-status="WAITING_FOR_SIGNALS"]').waitFor({ timeout: 20_000 });
    await page.locator('#action-kill').click();
    await page.locator('#confirm input[name="reason"]').fill('bad input data');
    await page.locator('#confirm-ok').click();
    await page.locator('#instance-status [data-status="FAILED"]').waitFor({ timeout: 20_000 });
    await page.locator('#failure-banner').waitFor();
    expect(await page.locator('#failure-banner').textContent()).toContain('bad input data');
    expect(await page.locator('#action-stop').count()).toBe(0);
    await shot('instance-killed');

    await page.locator('#action-rerun').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#new-instance').click();
    await page.waitForURL(new RegExp(`instances/${iid + 1}$`));
    await page.locator('svg.graph .node[data-id="gate"][data-status="WAITING_FOR_SIGNALS"]').waitFor({ timeout: 20_000 });
    await page.locator('#action-stop').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#instance-status [data-status="STOPPED"]').waitFor({ timeout: 20_000 });
    expect(await instanceStatus(iid + 1)).toBe('STOPPED');
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('shows a reader token no action buttons, and the server refuses its actions anyway', async () => {
    const reader = await chrome.context.newPage();
    const readerErrors: string[] = [];
    reader.on('pageerror', (err) => readerErrors.push(err.message));
    try {
      // A new tab has its own session storage: it asks for a token again.
      await reader.goto(`${service.url}/ui/workflows/ctl-etl-wf/instances/4?step=gate`);
      await reader.locator('#token-form input[name="token"]').fill(service.readerToken);
      await reader.locator('#token-form button').click();
      await reader.locator('#instance-status [data-status="FAILED"]').waitFor();
      await reader.locator('#step-detail[data-step="gate"] #step-timeline').waitFor();
      expect(await reader.locator('#read-only').textContent()).toContain('role reader');
      expect(await reader.locator('#instance-actions, #step-actions, #action-restart, #step-restart').count()).toBe(0);
      expect(await reader.locator('main button').allTextContents()).toEqual(['Show logs']);
      await reader.screenshot({ path: path.join(artifacts, 'instance-reader.png'), fullPage: true });

      await reader.goto(`${service.url}/ui/workflows/ctl-etl-wf`);
      await reader.locator('#run-grid thead th.run').first().waitFor();
      expect(await reader.locator('#start-run #read-only').textContent()).toContain('may read but not start runs');
      expect(await reader.locator('#start-form').count()).toBe(0);
      await reader.screenshot({ path: path.join(artifacts, 'workflow-reader.png'), fullPage: true });

      // The same calls the buttons make, with the reader's token, from the page: 403 each, nothing changed.
      const statuses = await reader.evaluate(async (token) => {
        const call = async (method: string, url: string, body?: unknown) =>
          (await fetch(url, { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body ?? {}) })).status;
        return [
          await call('POST', '/api/v3/workflows/ctl-etl-wf/instances/4/actions/restart'),
          await call('PUT', '/api/v3/workflows/ctl-etl-wf/instances/4/actions/kill'),
          await call('PUT', '/api/v3/workflows/ctl-etl-wf/instances/4/actions/stop'),
          await call('POST', '/api/v3/workflows/ctl-etl-wf/instances/4/steps/gate/actions/skip'),
          await call('POST', '/api/v3/workflows/ctl-etl-wf/versions/active/actions/start', { run_params: {} }),
        ];
      }, service.readerToken);
      expect(statuses).toEqual([403, 403, 403, 403, 403]);
      expect((await service.call<{ workflow_run_id: number }>('GET', '/api/v3/workflows/ctl-etl-wf/instances/4/runs/latest')).workflow_run_id).toBe(1);
      expect(readerErrors).toEqual([]);
    } finally {
      await reader.close();
    }
  }, 60_000);

  it('pauses and re-activates a workflow\'s triggers from the list, or says plainly that this server cannot', async () => {
    await page.goto(`${service.url}/ui/workflows?trigger=time`);
    const row = page.locator('#workflows tr[data-workflow="ctl-cron-wf"]');
    await row.waitFor();
    const listed = await service.call<{ items: { paused?: boolean }[] }>('GET', '/api/v3/workflows?q=ctl-cron-wf');
    await row.locator('button[data-action="pause"]').click();
    await page.locator('#confirm input[name="reason"]').fill('maintenance window');
    await page.locator('#confirm-ok').click();
    if (listed.items[0]!.paused === undefined) {
      // This server has no pause routes (they come with the pause branch): the page says so.
      await row.locator('.toggle-note.error', { hasText: 'cannot pause triggers' }).waitFor();
      await shot('workflows-pause-unavailable');
      return;
    }
    await row.locator('[data-paused="true"]').waitFor();
    expect((await service.call<{ items: { paused: boolean }[] }>('GET', '/api/v3/workflows?q=ctl-cron-wf')).items[0]!.paused).toBe(true);
    await shot('workflows-paused');
    await row.locator('button[data-action="activate"]').click();
    await page.locator('#confirm-ok').click();
    await row.locator('button[data-action="pause"]').waitFor();
    expect(await row.locator('[data-paused="true"]').count()).toBe(0);
    expect((await service.call<{ items: { paused: boolean }[] }>('GET', '/api/v3/workflows?q=ctl-cron-wf')).items[0]!.paused).toBe(false);
  }, 60_000);
});
