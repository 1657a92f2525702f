import { mkdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Locator, Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import '../setup/provided.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startWebTestService, type WebTestService } from './support/service.js';

const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(repoRoot, 'test-artifacts', 'web');
const samples = path.join(repoRoot, '..', 'shared', 'maestro-samples');

const step = (id: string, extra: object = {}) => ({ step: { id, type: 'NoOp', transition: {}, ...extra } });
const out = (name: string) => ({ name, params: {} });

/** ingest (cron, every second) → cat/raw → clean → cat/clean → report (a step waits for it) → cat/report. */
const WORKFLOWS = [
  { id: 'cat-ingest', name: 'Ingest', time_triggers: [{ type: 'CRON', cron: '* * * * * *', timezone: 'Europe/Paris' }], steps: [step('pull', { signal_outputs: [out('cat/raw')] })] },
  { id: 'cat-clean', signal_triggers: [{ definitions: { 'cat/raw': { match_params: {}, join_keys: [] } }, params: {} }], steps: [step('dedupe', { signal_outputs: [out('cat/clean')] })] },
  {
    id: 'cat-report',
    time_triggers: [{ type: 'PREDEFINED', expression: '@daily', timezone: 'America/New_York' }],
    steps: [step('wait', { signal_dependencies: [{ name: 'cat/clean', match_params: {} }], signal_outputs: [out('cat/report')] })],
  },
];

let service: WebTestService;
let chrome: TestBrowser;
let page: Page;
const pageErrors: string[] = [];

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 30_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 200));
  }
}

const shot = (name: string) => page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });

type Box = { x: number; y: number; width: number; height: number };
const overlap = (a: Box, b: Box): boolean => a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height;
async function boxes(l: Locator): Promise<Box[]> {
  const out: Box[] = [];
  for (const one of await l.all()) out.push((await one.boundingBox())!);
  return out;
}
/** Pairs of boxes that overlap, as "i/j". */
function overlaps(a: Box[], b: Box[] = a): string[] {
  const found: string[] = [];
  a.forEach((x, i) => b.forEach((y, j) => {
    if ((a !== b || i < j) && overlap(x, y)) found.push(`${i}/${j}`);
  }));
  return found;
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  service = await startWebTestService({ postgres: inject('batonInfra').postgres !== undefined, env: { BATON_MIN_TRIGGER_INTERVAL: '1' } });
  chrome = await launchBrowser();
  page = await chrome.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  for (const workflow of WORKFLOWS) await service.call('POST', '/api/v3/workflows', { properties: { owner: 'catalog-test' }, workflow });
  await service.call('POST', '/api/v3/workflows', await readFile(path.join(samples, 'sample-conditional-wf.json'), 'utf8'));
  await service.call('POST', '/api/v3/workflows/sample-conditional-wf/versions/active/actions/start', {});
  // The token, once, as a user would give it.
  await page.goto(`${service.url}/ui/catalog`);
  await page.locator('#token-form input[name="token"]').fill(service.token);
  await page.locator('#token-form button').click();
}, 180_000);

afterAll(async () => {
  await chrome?.close();
  await service?.close();
});

describe('lineage catalog and graph layout in headless Chromium', () => {
  it('draws the catalog with time triggers as nodes, centres it, and opens a workflow and a signal', async () => {
    await page.locator('#catalog-graph svg.graph').waitFor();
    const node = (id: string) => page.locator(`#catalog-graph .node[data-id="${id}"]`);
    for (const id of ['workflow:cat-ingest', 'workflow:cat-clean', 'workflow:cat-report', 'workflow:sample-conditional-wf', 'signal:cat/raw', 'signal:cat/clean', 'signal:cat/report', 'time:cat-ingest#0', 'time:cat-report#0']) {
      expect(await node(id).count(), id).toBe(1);
    }
    expect(await node('time:cat-ingest#0').locator('text.label').textContent()).toBe('* * * * * *');
    expect(await node('time:cat-report#0').locator('text.status').textContent()).toBe('predefined · America/New_York');
    expect(await page.locator('#catalog-graph .edge[data-kind="FIRES"]').count()).toBe(2);
    expect(await page.locator('#catalog-graph .edge[data-kind="UNBLOCKS"][data-from="signal:cat/clean"][data-to="workflow:cat-report"]').count()).toBe(1);
    // Left to right along the chain, and no two nodes on top of each other.
    const x = async (id: string) => (await node(id).boundingBox())!.x;
    expect(await x('time:cat-ingest#0')).toBeLessThan(await x('workflow:cat-ingest'));
    expect(await x('workflow:cat-ingest')).toBeLessThan(await x('signal:cat/raw'));
    expect(await x('signal:cat/raw')).toBeLessThan(await x('workflow:cat-clean'));
    expect(await x('workflow:cat-clean')).toBeLessThan(await x('workflow:cat-report'));
    expect(overlaps(await boxes(page.locator('#catalog-graph .node rect')))).toEqual([]);
    await shot('catalog-whole');

    // Centred on cat-clean, one hop: its input and output signals only.
    await page.locator('#catalog-form select[name="kind"]').selectOption('workflow');
    await page.locator('#catalog-form input[name="name"]').fill('cat-clean');
    await page.locator('#catalog-form select[name="depth"]').selectOption('1');
    await page.locator('#catalog-form button[type="submit"]').click();
    await page.locator('#catalog-graph .node.center[data-id="workflow:cat-clean"]').waitFor();
    expect((await page.locator('#catalog-graph .node').evaluateAll((ns) => ns.map((n) => n.getAttribute('data-id')))).sort()).toEqual(['signal:cat/clean', 'signal:cat/raw', 'workflow:cat-clean']);
    expect(page.url()).toContain('workflow=cat-clean');
    await shot('catalog-focus');

    // A signal node opens the signal page; back, a workflow node opens the workflow page.
    await node('signal:cat/raw').click();
    await page.waitForURL((u) => u.pathname === '/ui/signals' && u.searchParams.get('name') === 'cat/raw');
    await page.goBack();
    await page.locator('#catalog-graph .node[data-id="workflow:cat-clean"]').click();
    await page.waitForURL((u) => u.pathname === '/ui/workflows/cat-clean');
    await page.locator('h1').filter({ hasText: 'cat-clean' }).first().waitFor();
    await shot('catalog-to-workflow');
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it("lays out the conditional sample's DAG with every edge label whole and clear of the others", async () => {
    // Wide enough for the whole DAG in the screenshot (narrower, its box scrolls).
    await page.setViewportSize({ width: 2000, height: 900 });
    await page.goto(`${service.url}/ui/workflows/sample-conditional-wf/instances/1`);
    await page.locator('#dag svg.graph .node[data-id="job.7"]').waitFor();
    const labels = page.locator('#dag .edge-label-box');
    expect(await labels.locator('text').allTextContents()).toEqual(expect.arrayContaining(['param2 < 0', 'param2 >= 0', "params.getFromStep('job.3', 'param2') > 0", "params.getFromStep('job.4', 'param3') > 0"]));
    const labelBoxes = await boxes(labels.locator('text'));
    expect(labelBoxes).toHaveLength(4);
    expect(overlaps(labelBoxes), 'edge labels overlap each other').toEqual([]);
    expect(overlaps(labelBoxes, await boxes(page.locator('#dag .node rect'))), 'edge labels overlap nodes').toEqual([]);
    // Inside the drawing: nothing cut off at its edges.
    const svgBox = (await page.locator('#dag svg.graph').boundingBox())!;
    for (const b of labelBoxes) {
      expect(b.x).toBeGreaterThanOrEqual(svgBox.x);
      expect(b.x + b.width).toBeLessThanOrEqual(svgBox.x + svgBox.width);
    }
    expect(overlaps(await boxes(page.locator('#dag .node rect')))).toEqual([]);
    // The box scrolls a wide graph; for the picture, let it show whole.
    await page.locator('#dag').evaluate((e) => {
      (e as unknown as { style: { overflow: string } }).style.overflow = 'visible';
    });
    await page.locator('#dag svg.graph').screenshot({ path: path.join(artifacts, 'conditional-dag.png') });
    await page.setViewportSize({ width: 1400, height: 900 });
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows the time trigger fire that started a run in its lineage page', async () => {
    const iid = await waitFor('a fire of cat-ingest', async () => {
      const r = await service.call<{ items: Array<{ workflow_instance_id: number }> }>('GET', '/api/v3/workflows/cat-ingest/instances');
      return r.items.at(-1)?.workflow_instance_id;
    });
    await page.goto(`${service.url}/ui/lineage?workflow=cat-ingest&instance=${iid}`);
    const fire = page.locator('#lineage-graph .node.kind-time_trigger');
    await fire.waitFor();
    expect(await fire.locator('text.label').textContent()).toBe('* * * * * * (Europe/Paris)');
    expect(await fire.locator('text.status').textContent()).toMatch(/^fired \d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.000Z$/);
    expect(await page.locator(`#lineage-graph .edge[data-kind="FIRED"][data-to="workflow:cat-ingest/${iid}"]`).count()).toBe(1);
    await shot('lineage-time-trigger');
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
