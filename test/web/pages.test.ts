import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../setup/provided.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startWebTestService, type WebTestService } from './support/service.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(repoRoot, 'test-artifacts', 'web');

const DAY = '2026-11-21';
const HOSTILE = '<img src=x onerror="document.body.dataset.pwned=1">';

/** Orders land (signal trigger) → extract → audit/load (waits for db/prod/ready, emits web/test/done) → report. */
const ordersWf = {
  properties: { owner: 'web-test', run_strategy: 'parallel' },
  workflow: {
    id: 'web-orders-wf',
    name: 'Orders load',
    signal_triggers: [{ definitions: { 'db/prod/orders': { match_params: { day: { value: DAY, operator: '=' } }, join_keys: [] } }, params: {} }],
    steps: [
      { step: { id: 'extract', type: 'NoOp', transition: { successors: { load: 'true', audit: 'true' } } } },
      { step: { id: 'audit', type: 'NoOp', transition: { successors: { report: 'true' } } } },
      {
        step: {
          id: 'load',
          type: 'NoOp',
          signal_dependencies: [{ name: 'db/prod/ready', match_params: { day: { param: { value: DAY, type: 'STRING' }, operator: '=' } } }],
          signal_outputs: [{ name: 'web/test/done', params: { day: { value: DAY, type: 'STRING' } } }],
          transition: { successors: { report: 'true' } },
        },
      },
      { step: { id: 'report', type: 'NoOp', transition: {} } },
    ],
  },
};
/** Started by what web-orders-wf emits: lineage two hops deep. */
const downstreamWf = {
  properties: { owner: 'web-test' },
  workflow: {
    id: 'web-downstream-wf',
    signal_triggers: [{ definitions: { 'web/test/done': { match_params: {}, join_keys: [] } }, params: {} }],
    steps: [{ step: { id: 'notify', type: 'NoOp', transition: {} } }],
  },
};
const cronWf = {
  properties: { owner: 'web-test' },
  workflow: {
    id: 'web-cron-wf',
    // Yearly, so that no fire lands during a test run (which would make the manual run #2).
    time_triggers: [{ type: 'CRON', cron: '0 3 1 1 *', timezone: 'Europe/Berlin' }],
    steps: [{ step: { id: 'tick', type: 'NoOp', transition: {} } }],
  },
};

let service: WebTestService;
let chrome: TestBrowser;
let page: Page;
const pageErrors: string[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    // A probe stuck on a blocked database fails the wait too, rather than hanging the hook.
    const v = await Promise.race([probe(), new Promise<undefined>((r) => setTimeout(() => r(undefined), Math.max(0, until - Date.now())))]);
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function firstRun(workflowId: string): Promise<true | undefined> {
  const page = await service.call<{ items: unknown[] }>('GET', `/api/v3/workflows/${encodeURIComponent(workflowId)}/instances`);
  return page.items.length > 0 ? true : undefined;
}

async function succeeded(workflowId: string): Promise<true | undefined> {
  const page = await service.call<{ items: { status: string }[] }>('GET', `/api/v3/workflows/${encodeURIComponent(workflowId)}/instances`);
  return page.items[0]?.status === 'SUCCEEDED' ? true : undefined;
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

/** Texts of the graph nodes on the page, in document order. */
async function nodeLabels(selector = 'svg.graph .node'): Promise<string[]> {
  return page.locator(`${selector} text.label`).allTextContents();
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  // On PostgreSQL when the run has it (scripts/test.sh), else on the embedded PGlite.
  service = await startWebTestService({ postgres: inject('batonInfra').postgres !== undefined });
  chrome = await launchBrowser();
  page = await chrome.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    // 404s the pages handle (a step not started yet, an unknown signal) are logged by the browser too.
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });

  for (const wf of [ordersWf, downstreamWf, cronWf]) await service.call('POST', '/api/v3/workflows', wf);
  await service.call('POST', '/api/v3/signals', { name: 'db/prod/orders', params: { day: DAY, rows: 1200 } });
  await waitFor('web-orders-wf #1', () => firstRun('web-orders-wf'));
  // A manual start, and a signal no workflow listens to with a hostile param and a 64-bit value.
  await service.call('POST', '/api/v3/workflows/web-cron-wf/versions/active/actions/start', { request_id: 'web-test-manual' });
  await service.call('POST', '/api/v3/signals', `{"name":"audit/notes","params":{"note":${JSON.stringify(HOSTILE)},"watermark":9223372036854775807}}`);
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await service?.close();
});

describe('web pages in headless Chromium', () => {
  it('asks for an API token once, then shows the live step DAG of a run, its step timeline, and follows it to the end', async () => {
    // Auth is on: the page shell loads without a token, its data needs one.
    await page.goto(`${service.url}/ui/workflows/web-orders-wf/instances/1`);
    await page.locator('#token-form').waitFor();
    await page.locator('#token-form input[name="token"]').fill('not-the-token');
    await page.locator('#token-form button').click();
    await page.locator('#token-form').getByText('was not accepted').waitFor();
    await page.locator('#token-form input[name="token"]').fill(service.token);
    await page.locator('#token-form button').click();
    await page.locator('svg.graph .node[data-id="load"][data-status="WAITING_FOR_SIGNALS"]').waitFor();
    expect((await nodeLabels()).sort()).toEqual(['audit', 'extract', 'load', 'report']);
    expect(await page.locator('svg.graph .node[data-id="extract"]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await page.locator('svg.graph .edge').count()).toBe(4);
    expect(await page.locator('#instance-status [data-status]').getAttribute('data-status')).toBe('IN_PROGRESS');
    await page.locator('svg.graph .node[data-id="load"]').click();
    await page.locator('#step-timeline tbody tr').first().waitFor();
    expect(await page.locator('#step-detail').textContent()).toContain('WAITING_FOR_SIGNALS');
    await shot('instance-waiting');

    const pollsBefore = Number(await page.locator('body').getAttribute('data-polls'));
    await service.call('POST', '/api/v3/signals', { name: 'db/prod/ready', params: { day: DAY } });
    // No reload: the page polls every second until the run is over.
    await page.locator('#instance-status [data-status="SUCCEEDED"]').waitFor({ timeout: 20_000 });
    expect(await page.locator('svg.graph .node[data-id="load"]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(await page.locator('svg.graph .node[data-id="report"]').getAttribute('data-status')).toBe('SUCCEEDED');
    expect(Number(await page.locator('body').getAttribute('data-polls'))).toBeGreaterThan(pollsBefore);
    await page.locator('#step-detail [data-status="SUCCEEDED"]').waitFor();
    expect(await page.locator('#step-timeline').textContent()).toContain('SUCCEEDED');
    expect(await page.locator('#live').count()).toBe(0);
    await shot('instance-succeeded');
    // Terminal: polling stopped.
    const polls = await page.locator('body').getAttribute('data-polls');
    await page.waitForTimeout(1500);
    expect(await page.locator('body').getAttribute('data-polls')).toBe(polls);
  }, 60_000);

  it('browses signal names with counts, recent instances and an instance with exact params', async () => {
    await waitFor('web-downstream-wf #1', () => firstRun('web-downstream-wf'));
    await page.goto(`${service.url}/ui/signals`);
    const names = page.locator('#signal-names li[data-name]');
    await names.first().waitFor();
    const listed = Object.fromEntries(
      await names.evaluateAll((lis) => lis.map((li) => [li.getAttribute('data-name'), li.querySelector('.count')?.textContent])),
    );
    expect(listed).toMatchObject({ 'db/prod/orders': '1', 'db/prod/ready': '1', 'web/test/done': '1', 'audit/notes': '1' });
    await page.locator('#signal-names li[data-name="audit/notes"] a').click();
    await page.locator('#instances tr[data-seq="1"]').click();
    await page.locator('#detail-params').waitFor();
    expect(page.url()).toContain('name=audit%2Fnotes');
    const params = await page.locator('#detail-params').textContent();
    expect(params).toContain('"watermark": 9223372036854775807');
    // The hostile param is shown as text and never became markup.
    expect(params).toContain(HOSTILE.replace(/"/g, '\\"'));
    expect(await page.locator('#instances td.params').textContent()).toContain(HOSTILE);
    expect(await page.locator('main img').count()).toBe(0);
    expect(await page.locator('body').getAttribute('data-pwned')).toBeNull();
    await shot('signals');

    await page.locator('#signal-names li[data-name="web/test/done"] a').click();
    await page.locator('#instances tr[data-seq="1"]').click();
    expect(await page.locator('#instance-detail').textContent()).toContain('step load of web-orders-wf #1');
  }, 60_000);

  it('draws lineage signal → run → step → emitted signal → run, and re-centers on a clicked node both ways', async () => {
    await waitFor('web-downstream-wf #1 to succeed', () => succeeded('web-downstream-wf'));
    await page.goto(`${service.url}/ui/lineage?signal=db%2Fprod%2Forders&seq=1`);
    await page.locator('#lineage-graph svg.graph').waitFor();
    expect((await nodeLabels()).sort()).toEqual(['db/prod/orders #1', 'load (attempt 1)', 'web-downstream-wf #1', 'web-orders-wf #1', 'web/test/done #1']);
    expect(await page.locator('svg.graph .node.center text.label').textContent()).toBe('db/prod/orders #1');
    expect(await page.locator('svg.graph .node.kind-workflow_instance[data-status="SUCCEEDED"]').count()).toBe(2);
    await shot('lineage-signal');

    // Downstream: click the emitted signal; it is now the center, with its emitter upstream.
    await page.locator('svg.graph .node', { hasText: 'web/test/done #1' }).click();
    await page.waitForURL(/signal=web%2Ftest%2Fdone/);
    await page.locator('svg.graph .node.center', { hasText: 'web/test/done #1' }).waitFor();
    expect(await nodeLabels()).toEqual(expect.arrayContaining(['web-orders-wf #1', 'load (attempt 1)', 'web-downstream-wf #1']));

    // Further down, then back up by the run that emitted the signal.
    await page.locator('svg.graph .node', { hasText: 'web-downstream-wf #1' }).click();
    await page.waitForURL(/workflow=web-downstream-wf&instance=1/);
    await page.locator('svg.graph .node.center', { hasText: 'web-downstream-wf #1' }).waitFor();
    expect(await nodeLabels()).toEqual(expect.arrayContaining(['web/test/done #1', 'load (attempt 1)']));
    await page.locator('svg.graph .node', { hasText: 'web-orders-wf #1' }).click();
    await page.locator('svg.graph .node.center', { hasText: 'web-orders-wf #1' }).waitFor();
    expect((await nodeLabels()).sort()).toEqual(['db/prod/orders #1', 'db/prod/ready #1', 'load (attempt 1)', 'web-downstream-wf #1', 'web-orders-wf #1', 'web/test/done #1']);
    expect(await page.locator('svg.graph .edge[data-kind="UNBLOCKED"]').count()).toBe(1);
    await shot('lineage-run');

    // The browser's back button walks the re-centering history.
    await page.goBack();
    await page.locator('svg.graph .node.center', { hasText: 'web-downstream-wf #1' }).waitFor();
    await page.locator('#lineage-form input[name="signal"]').fill('no/such/signal');
    await page.locator('#lineage-form button').click();
    expect(await page.locator('main .error').textContent()).toContain('no/such/signal');
  }, 60_000);

  it('lists schedules with their next fire times, and the workflows on the home page', async () => {
    await page.goto(`${service.url}/ui/schedules`);
    const row = page.locator('#schedules tr[data-workflow="web-cron-wf"]');
    await row.waitFor();
    expect(await row.textContent()).toContain('Europe/Berlin');
    const upcoming = await row.locator('.upcoming li').allTextContents();
    expect(upcoming).toHaveLength(3);
    // In the viewer's zone, and (when it differs) at 03:00 in the trigger's own zone beside it.
    const viewerZone = await page.evaluate(() => Intl.DateTimeFormat().resolvedOptions().timeZone);
    for (const t of upcoming) expect(t).toMatch(viewerZone === 'Europe/Berlin' ? / 03:00:00 \S+$/ : / 03:00:00 (CES?T|GMT\+[12]) \(Europe\/Berlin\)$/);
    expect(await row.locator('.next-fire').textContent()).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d \S+/);
    expect(await row.locator('.next-fire').textContent()).not.toContain('ago');
    await shot('schedules');

    await page.goto(`${service.url}/`);
    await page.locator('#workflows tr[data-workflow="web-orders-wf"]').waitFor();
    expect(await page.locator('#workflows tr[data-workflow="web-orders-wf"]').textContent()).toContain('Orders load');
    expect(await page.locator('#workflows tr[data-workflow="web-cron-wf"] a', { hasText: '#1' }).count()).toBe(1);
    await page.locator('#workflows tr[data-workflow="web-orders-wf"] a', { hasText: '#1' }).click();
    await page.locator('#instance-status [data-status="SUCCEEDED"]').waitFor();
    await shot('home-to-run');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
