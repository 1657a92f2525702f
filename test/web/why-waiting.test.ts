import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import '../setup/provided.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startWebTestService, type WebTestService } from './support/service.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(repoRoot, 'test-artifacts', 'web');
const DAY = '2026-11-21';

/** One step waits for two signals: web/why/ready (met) and web/why/rows with rows > 1000 (not yet). */
const stepWf = {
  properties: { owner: 'web-why' },
  workflow: {
    id: 'why-ui-step-wf',
    steps: [
      { step: { id: 'extract', type: 'NoOp', transition: { successors: { load: 'true' } } } },
      {
        step: {
          id: 'load',
          type: 'NoOp',
          signal_dependencies: [
            { name: 'web/why/ready', match_params: { day: { param: { value: DAY, type: 'STRING' }, operator: '=' } } },
            { name: 'web/why/rows', match_params: { rows: { param: { value: 1000, type: 'LONG' }, operator: '>' } } },
          ],
          transition: {},
        },
      },
    ],
  },
};
/** A trigger joining orders and payments on the day: orders arrived, payments only for another day or of the wrong kind. */
const triggerWf = {
  properties: { owner: 'web-why' },
  workflow: {
    id: 'why-ui-trigger-wf',
    signal_triggers: [
      {
        definitions: {
          'web/why/orders': { match_params: { region: { value: 'eu', operator: '=' } }, join_keys: ['day'] },
          'web/why/payments': { match_params: { kind: { value: 'settled', operator: '=' } }, join_keys: ['day'] },
        },
        params: {},
      },
    ],
    steps: [{ step: { id: 'reconcile', type: 'NoOp', transition: {} } }],
  },
};

let service: WebTestService;
let chrome: TestBrowser;
let page: Page;
const pageErrors: string[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 20_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  service = await startWebTestService({ postgres: inject('batonInfra').postgres !== undefined });
  chrome = await launchBrowser();
  page = await chrome.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  for (const wf of [stepWf, triggerWf]) await service.call('POST', '/api/v3/workflows', wf);
  await service.call('POST', '/api/v3/workflows/why-ui-step-wf/versions/active/actions/start', {});
  await waitFor('the load step to wait', async () => {
    const run = await service.call<{ steps?: { step_id: string; status: string }[] }>('GET', '/api/v3/workflows/why-ui-step-wf/instances/1/runs/latest');
    return run.steps?.find((s) => s.step_id === 'load')?.status === 'WAITING_FOR_SIGNALS' ? true : undefined;
  });
  const publish = (name: string, params: object) => service.call('POST', '/api/v3/signals', { name, params });
  await publish('web/why/ready', { day: DAY });
  await publish('web/why/rows', { day: DAY, rows: 640 });
  await publish('web/why/rows', { day: DAY, rows: 'many' });
  await publish('web/why/orders', { region: 'eu', day: DAY });
  await publish('web/why/payments', { kind: 'settled', day: '2026-11-20' });
  await publish('web/why/payments', { kind: 'pending', day: DAY });
  // Until the matcher took every signal, the explanation may still call one unprocessed.
  await waitFor('the partial join', async () => {
    const w = await service.call<{ triggers: { partial_joins: number }[] }>('GET', '/api/v3/workflows/why-ui-trigger-wf/triggers/signals/waiting');
    return w.triggers[0]?.partial_joins === 2 ? true : undefined;
  });
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await shot(`failed-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
});

afterAll(async () => {
  await chrome?.close();
  await service?.close();
});

describe('"Why is this waiting?" in headless Chromium', () => {
  it('the instance page explains a WAITING_FOR_SIGNALS step: the met signal, the unmet condition and its closest misses', async () => {
    await page.goto(`${service.url}/ui/workflows/why-ui-step-wf/instances/1?step=load`);
    await page.locator('#token-form').waitFor();
    await page.locator('#token-form input[name="token"]').fill(service.token);
    await page.locator('#token-form button').click();
    const panel = page.locator('#why-waiting');
    await panel.locator('#why-summary').waitFor();
    expect(await panel.locator('#why-summary').textContent()).toContain('for 1 of 2 signal dependencies');
    const met = panel.locator('.why-cond[data-signal="web/why/ready"]');
    expect(await met.getAttribute('data-met')).toBe('true');
    expect(await met.textContent()).toContain('met by web/why/ready #1');
    // Met in green: the panel's stylesheet loads under the pages' CSP.
    const green = async () => (await met.evaluate((e) => e.ownerDocument.defaultView!.getComputedStyle(e).backgroundColor)) === 'rgb(227, 245, 233)';
    await waitFor('the met condition in green', async () => ((await green()) ? true : undefined));
    const unmet = panel.locator('.why-cond[data-signal="web/why/rows"]');
    expect(await unmet.getAttribute('data-met')).toBe('false');
    expect(await unmet.locator('.why-head').textContent()).toContain('rows > 1000');
    // The closest misses, newest first: a string where an integer is compared, then 640 not > 1000.
    const rows = unmet.locator('table.why-closest tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.nth(0).getAttribute('data-seq')).toBe('2');
    expect(await rows.nth(1).locator('li[data-kind="param"][data-param="rows"]').textContent()).toMatch(/rows > 1000\s*— actual\s*640/);
    expect(await rows.nth(0).locator('li[data-kind="param"]').textContent()).toContain('"many"');
    // The explanation survives the page's polling redraws.
    const polls = async () => Number(await page.locator('body').getAttribute('data-polls'));
    const before = await polls();
    await waitFor('two more polls', async () => ((await polls()) > before + 1 ? true : undefined));
    expect(await panel.locator('.why-cond').count()).toBe(2);
    await shot('why-waiting-step');
  });

  it('the workflow page explains a partial join: orders met, payments unmet by join key and by value', async () => {
    await page.goto(`${service.url}/ui/workflows/why-ui-trigger-wf`);
    const panel = page.locator('#why-trigger-waiting');
    await panel.locator('.why-trigger').waitFor();
    expect(await panel.isVisible()).toBe(true);
    expect(await panel.locator('.why-trigger').textContent()).toContain('2 partial joins');
    const join = panel.locator(`.why-join[data-join='["${DAY}"]']`);
    const orders = join.locator('.why-cond[data-signal="web/why/orders"]');
    expect(await orders.getAttribute('data-met')).toBe('true');
    const payments = join.locator('.why-cond[data-signal="web/why/payments"]');
    expect(await payments.getAttribute('data-met')).toBe('false');
    expect(await payments.locator('.why-head').textContent()).toContain(`day = "${DAY}"`);
    const kinds = await payments.locator('table.why-closest li').evaluateAll((lis) => lis.map((li) => `${li.getAttribute('data-kind')}:${li.getAttribute('data-param')}`));
    expect(kinds).toEqual(['param:kind', 'join_key:day']);
    expect(await payments.locator('li[data-kind="join_key"]').textContent()).toMatch(/day = "2026-11-21"\s*— actual\s*"2026-11-20"/);
    await shot('why-waiting-trigger');
    expect(pageErrors).toEqual([]);
  });
});
