import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest';
import '../setup/provided.js';
import { launchBrowser, type TestBrowser } from './support/browser.js';
import { startWebTestService, type WebTestService } from './support/service.js';

// The rest of the click-through (search, pause toggle, start form errors, kill, restart,
// logs, reader role) is in control.test.ts; this file browses loops and subworkflows and checks
// times across zones. Both run on PGlite, or on PostgreSQL with BATON_TEST_COMPONENTS=postgres.
const repoRoot = fileURLToPath(new URL('../../', import.meta.url));
const artifacts = path.join(repoRoot, 'test-artifacts', 'web');
const ITEMS = Array.from({ length: 60 }, (_, i) => `i-${String(i).padStart(2, '0')}`);
const FLAKY = 'i-07';
/** The viewer's zone in the browser; the cron trigger runs in another one. */
const VIEWER_ZONE = 'Asia/Tokyo';
const TRIGGER_ZONE = 'America/New_York';

let service: WebTestService;
let chrome: TestBrowser;
let page: Page;
let scratch: string;
let marker: string;
const pageErrors: string[] = [];

interface IterationPage {
  workflow_run_id: number;
  step_type: string;
  counts: { total: number; launched: number; succeeded: number; failed: number; stopped: number } | null;
  items: { iteration: number; workflow_id: string; workflow_instance_id: number; status: string; loop_params: Record<string, unknown> | null; from_run_id: number }[];
  next_cursor?: number;
}
interface RunRead {
  status: string;
  workflow_run_id: number;
  parent: { kind: string; workflow_id: string; workflow_instance_id: number; step_id: string; iteration: number | null } | null;
  steps: { step_id: string; status: string; subworkflow: { workflow_id: string; workflow_instance_id: number; status: string | null } | null }[];
}

/** prep → fan (foreach over 60 items; item i-07 fails until the marker file exists) → after. */
function loopWorkflow() {
  return {
    properties: { owner: 'ops-team' },
    workflow: {
      id: 'ct-loop-wf',
      name: 'Fan out',
      steps: [
        { step: { id: 'prep', type: 'NoOp', transition: { successors: { fan: 'true' } } } },
        {
          foreach: {
            id: 'fan',
            concurrency: 10,
            params: { loop_params: { type: 'MAP', value: { item: { value: ITEMS, type: 'STRING_ARRAY' } } } },
            steps: [
              {
                step: {
                  id: 'work',
                  type: 'Shell',
                  // Tried twice: the failed iteration's step has an earlier attempt to pick.
                  retry_policy: { error_retry_limit: 1, backoff: { type: 'FIXED_BACKOFF', error_retry_backoff_in_secs: 1 } },
                  params: {
                    command: {
                      type: 'STRING_ARRAY',
                      // The loop variable reaches the script as its first argument.
                      expression: `return new String[]{'sh', '-c', 'echo "working on $1"; if [ "$1" = "${FLAKY}" ] && [ ! -f "${marker}" ]; then echo "no marker for $1" >&2; exit 4; fi', 'work', item};`,
                    },
                  },
                },
              },
            ],
            transition: { successors: { after: 'true' } },
          },
        },
        { step: { id: 'after', type: 'NoOp', transition: {} } },
      ],
    },
  };
}

async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, timeoutMs = 60_000): Promise<T> {
  const until = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 150));
  }
}

const run = (wf: string, iid: number) => service.call<RunRead>('GET', `/api/v3/workflows/${encodeURIComponent(wf)}/instances/${iid}/runs/latest`);
async function ended(wf: string, iid: number, status: string): Promise<void> {
  let last: RunRead | undefined;
  try {
    await waitFor(`${wf} #${iid} ${status}`, async () => ((last = await run(wf, iid)).status === status ? true : undefined));
  } catch (err) {
    throw new Error(`${(err as Error).message}; last seen: ${JSON.stringify(last)}`, { cause: err });
  }
}
const iterations = (query: string, runId: number | 'latest' = 'latest') => service.call<IterationPage>('GET', `/api/v3/workflows/ct-loop-wf/instances/1/runs/${runId}/steps/fan/iterations${query}`);

async function shot(name: string, p: Page = page): Promise<void> {
  await p.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

async function status(urlPath: string): Promise<number> {
  return (await fetch(`${service.url}${urlPath}`, { headers: { authorization: `Bearer ${service.token}` } })).status;
}

beforeAll(async () => {
  await mkdir(artifacts, { recursive: true });
  scratch = await mkdtemp(path.join(tmpdir(), 'baton-web-ct-'));
  marker = path.join(scratch, 'marker');
  service = await startWebTestService({ postgres: inject('batonInfra').postgres !== undefined, env: { BATON_SHELL_STEPS: '1' } });
  chrome = await launchBrowser({ timezoneId: VIEWER_ZONE });
  page = await chrome.context.newPage();
  page.on('pageerror', (err) => pageErrors.push(err.message));
  page.on('console', (msg) => {
    if (msg.type() === 'error' && !msg.text().startsWith('Failed to load resource')) pageErrors.push(msg.text());
  });
  await service.call('POST', '/api/v3/workflows', loopWorkflow());
  await service.call('POST', '/api/v3/workflows', { properties: { owner: 'ops-team' }, workflow: { id: 'ct-child-wf', name: 'Child', steps: [{ step: { id: 'leaf', type: 'NoOp', transition: {} } }] } });
  await service.call('POST', '/api/v3/workflows', {
    properties: { owner: 'ops-team' },
    workflow: { id: 'ct-parent-wf', name: 'Parent', steps: [{ subworkflow: { id: 'call', params: { subworkflow_id: { value: 'ct-child-wf', type: 'STRING' } }, transition: {} } }] },
  });
  await service.call('POST', '/api/v3/workflows', {
    properties: { owner: 'ops-team' },
    workflow: { id: 'ct-cron-wf', name: 'Every minute, New York', time_triggers: [{ type: 'CRON', cron: '* * * * *', timezone: TRIGGER_ZONE }], steps: [{ step: { id: 'tick', type: 'NoOp', transition: {} } }] },
  });
  await service.call('POST', '/api/v3/workflows/ct-loop-wf/versions/active/actions/start', { request_id: 'loop-1' });
  await service.call('POST', '/api/v3/workflows/ct-parent-wf/versions/active/actions/start', { request_id: 'parent-1' });
  await ended('ct-loop-wf', 1, 'FAILED');
  await ended('ct-parent-wf', 1, 'SUCCEEDED');
}, 180_000);

afterEach(async (ctx) => {
  if (ctx.task.result?.state === 'fail' && page) await shot(`failed-ct-${ctx.task.name.slice(0, 40).replace(/\W+/g, '-')}`);
});

afterAll(async () => {
  await chrome?.close();
  await service?.close();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

describe('loops, subworkflows and times in the web pages', () => {
  it('lists a foreach step\'s iterations over REST, paged by index, filtered by status, with loop params; refuses a step that is no loop', async () => {
    const first = await iterations('?limit=25');
    expect(first.step_type).toBe('foreach');
    expect(first.counts).toEqual({ total: 60, launched: 60, succeeded: 59, failed: 1, stopped: 0 });
    expect(first.items.map((i) => i.iteration)).toEqual(Array.from({ length: 25 }, (_, i) => i));
    expect(first.items[3]!.loop_params).toEqual({ item: 'i-03' });
    const seen = [...first.items];
    let cursor = first.next_cursor;
    while (cursor !== undefined) {
      const next = await iterations(`?limit=25&after=${cursor}`);
      seen.push(...next.items);
      cursor = next.next_cursor;
    }
    expect(seen.map((i) => i.iteration)).toEqual(ITEMS.map((_, i) => i));
    const failed = await iterations('?status=FAILED');
    expect(failed.items.map((i) => [i.iteration, i.loop_params?.item])).toEqual([[7, FLAKY]]);
    expect(failed.next_cursor).toBeUndefined();

    // Each iteration is a run of the inline workflow `ct-loop-wf#fan`, readable with the instance routes.
    const it7 = failed.items[0]!;
    expect(it7.workflow_id).toBe('ct-loop-wf#fan');
    const inner = await run(it7.workflow_id, it7.workflow_instance_id);
    expect(inner.parent).toMatchObject({ kind: 'FOREACH', workflow_id: 'ct-loop-wf', workflow_instance_id: 1, step_id: 'fan', iteration: 7 });
    expect(inner.steps.map((s) => [s.step_id, s.status])).toEqual([['work', 'USER_FAILED']]);

    expect(await status('/api/v3/workflows/ct-loop-wf/instances/1/runs/latest/steps/prep/iterations')).toBe(400);
    expect(await status('/api/v3/workflows/ct-loop-wf/instances/1/runs/latest/steps/nope/iterations')).toBe(404);
    expect(await status('/api/v3/workflows/ct-loop-wf/instances/1/runs/latest/steps/fan/iterations?limit=0')).toBe(400);
    expect(await status('/api/v3/workflows/ct-loop-wf/instances/1/runs/latest/steps/fan/iterations?status=NOPE')).toBe(400);
    expect(await status('/api/v3/workflows/ct-loop-wf/instances/1/runs/latest/steps/fan/iterations?page=2')).toBe(400);
  }, 60_000);

  it('browses the iterations on the instance page, opens the failed one with its logs, and goes back to the loop', async () => {
    await page.goto(`${service.url}/ui/workflows/ct-loop-wf/instances/1?step=fan`);
    await page.locator('#token-form').waitFor();
    await page.locator('#token-form input[name="token"]').fill(service.token);
    await page.locator('#token-form button').click();
    const rows = page.locator('#iteration-table tbody tr');
    await rows.first().waitFor();
    expect(await page.locator('#iteration-counts').textContent()).toContain('60 in all');
    expect(await rows.count()).toBe(25);
    expect(await rows.nth(3).locator('.loop-params').textContent()).toBe('item=i-03');
    await shot('instance-foreach-iterations');
    await page.locator('#iterations-next').click();
    await page.locator('#iteration-table tr[data-iteration="25"]').waitFor();
    expect(await page.locator('#iterations-page').textContent()).toBe('page 2');
    await page.locator('#iterations-prev').click();
    await page.locator('#iteration-table tr[data-iteration="0"]').waitFor();
    await page.locator('#iterations select[name="status"]').selectOption('FAILED');
    await page.locator('#iteration-table tr[data-iteration="0"]').waitFor({ state: 'detached' });
    await page.locator('#iteration-table tr[data-iteration="7"][data-status="FAILED"]').waitFor();
    expect(await rows.count()).toBe(1);
    await page.locator('#iteration-table tr[data-iteration="7"] a.open-iteration').click();

    await page.waitForURL(/\/ui\/workflows\/ct-loop-wf%23fan\/instances\/\d+$/);
    const banner = page.locator('#parent-banner');
    await banner.waitFor();
    expect(await banner.textContent()).toContain('Iteration 7 of foreach step fan');
    expect(await page.locator('h1').textContent()).toBe('ct-loop-wf #1 · fan iteration 7');
    await page.locator('svg.graph .node[data-id="work"][data-status="USER_FAILED"]').click();
    // Its latest attempt (the retry), and the first one picked from the attempts.
    const picker = page.locator('#step-detail[data-step="work"] #attempt-picker');
    expect(await picker.inputValue()).toBe('2');
    await page.locator('#step-detail[data-step="work"] #show-logs').click();
    await page.locator('#step-logs [data-stream="stderr"] pre', { hasText: `no marker for ${FLAKY}` }).waitFor();
    expect(await page.locator('#step-logs [data-stream="stdout"] pre').textContent()).toContain(`working on ${FLAKY}`);
    await picker.selectOption('1');
    await page.locator('#step-detail[data-step="work"] #step-timeline').waitFor();
    await page.locator('#step-detail #attempt-picker option[value="1"]:checked').waitFor({ state: 'attached' });
    expect(await page.locator('#step-detail [data-status="USER_FAILED"]').count()).toBeGreaterThan(0);
    await page.locator('#step-detail[data-step="work"] #show-logs').click();
    await page.locator('#step-logs [data-stream="stderr"] pre', { hasText: `no marker for ${FLAKY}` }).waitFor();
    // An iteration is restarted with its loop: no restart or re-run of its own.
    expect(await page.locator('#action-restart, #action-rerun, #step-restart').count()).toBe(0);
    await shot('iteration-failed-logs');

    await page.locator('#parent-link').click();
    await page.waitForURL(/\/ui\/workflows\/ct-loop-wf\/instances\/1\?step=fan$/);
    await page.locator('#step-detail[data-step="fan"] [data-status="USER_FAILED"]').waitFor();
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('restarts the loop from its failed step: only the failed iteration runs again, the others are carried over', async () => {
    await writeFile(marker, 'ok');
    await page.locator('#step-detail[data-step="fan"] #step-restart').click();
    await page.locator('#confirm-ok').click();
    await page.locator('#action-result', { hasText: 'Run 2 started from fan' }).waitFor();
    await page.locator('#instance-status [data-status="SUCCEEDED"]').waitFor({ timeout: 60_000 });
    // The REST API agrees: run 2 carried prep over and re-ran one iteration.
    const r2 = await iterations('?limit=100');
    expect(r2.workflow_run_id).toBe(2);
    expect(r2.items).toHaveLength(60);
    expect(r2.items.filter((i) => i.from_run_id === 2).map((i) => i.iteration)).toEqual([7]);
    expect(r2.items.every((i) => i.status === 'SUCCEEDED')).toBe(true);
    const restartTimeline = await service.call<{ timeline: { message: string }[] }>('GET', '/api/v3/workflows/ct-loop-wf/instances/1/runs/2');
    expect(restartTimeline.timeline.map((t) => t.message).join('\n')).toContain('restarts run 1 from its failed steps');
    expect((await service.call<{ status: string; reason: string }>('GET', '/api/v3/workflows/ct-loop-wf/instances/1/runs/2/steps/prep/attempts/latest')).status).toBe('SUCCEEDED');

    await page.locator('svg.graph .node[data-id="fan"]').click();
    await page.locator('#iteration-table tr[data-iteration="7"][data-status="SUCCEEDED"]').waitFor();
    expect(await page.locator('#iteration-table tr[data-iteration="6"]').textContent()).toContain('from run 1');
    await shot('instance-foreach-restarted');
    // Filters and pages see the newest run's row of each index: nothing failed any more.
    expect((await iterations('?status=FAILED')).items).toEqual([]);
    const mid = await iterations('?status=SUCCEEDED&limit=5&after=4');
    expect(mid.items.map((i) => [i.iteration, i.from_run_id])).toEqual([[5, 1], [6, 1], [7, 2], [8, 1], [9, 1]]);
    expect(mid.next_cursor).toBe(9);
    // Run 1 still lists its failed iteration.
    expect((await iterations('?status=FAILED', 1)).items.map((i) => i.iteration)).toEqual([7]);
    expect(pageErrors).toEqual([]);
  }, 90_000);

  it('links a subworkflow step to its child run and the child back to its parent step', async () => {
    const parent = await run('ct-parent-wf', 1);
    const child = parent.steps.find((s) => s.step_id === 'call')!.subworkflow!;
    expect(child).toMatchObject({ workflow_id: 'ct-child-wf', status: 'SUCCEEDED' });
    expect((await run('ct-child-wf', child.workflow_instance_id)).parent).toMatchObject({ kind: 'SUBWORKFLOW', workflow_id: 'ct-parent-wf', workflow_instance_id: 1, step_id: 'call', iteration: null });

    await page.goto(`${service.url}/ui/workflows/ct-parent-wf/instances/1`);
    await page.locator('#child-runs a.child-link[data-step="call"]').waitFor();
    expect(await page.locator('#child-runs').textContent()).toContain(`call → ct-child-wf #${child.workflow_instance_id}`);
    await page.locator('svg.graph .node[data-id="call"]').click();
    await page.locator('#subworkflow-link a').waitFor();
    await shot('instance-subworkflow-parent');
    await page.locator('#subworkflow-link a').click();
    await page.waitForURL(new RegExp(`/ui/workflows/ct-child-wf/instances/${child.workflow_instance_id}$`));
    await page.locator('#parent-banner[data-kind="SUBWORKFLOW"]').waitFor();
    expect(await page.locator('#parent-banner').textContent()).toContain('Subworkflow run started by ct-parent-wf #1 step call');
    await shot('instance-subworkflow-child');
    await page.locator('#parent-link').click();
    await page.waitForURL(/\/ui\/workflows\/ct-parent-wf\/instances\/1\?step=call$/);
    await page.locator('#step-detail[data-step="call"] #subworkflow-link').waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('offers no restart of a failed subworkflow run on its own: it says why and links the parent step, and the server refuses it', async () => {
    // b divides by a param of a that is zero: the child fails at run time, and so does its parent.
    const a = { step: { id: 'a', type: 'NoOp', params: { zero: { value: 0, type: 'LONG' } }, transition: { successors: { b: 'true' } } } };
    const b = { step: { id: 'b', type: 'NoOp', params: { n: { expression: "return 1 / params.getFromStep('a', 'zero');", type: 'LONG' } }, transition: {} } };
    await service.call('POST', '/api/v3/workflows', { properties: { owner: 'ops-team' }, workflow: { id: 'ct-bad-child-wf', steps: [a, b] } });
    await service.call('POST', '/api/v3/workflows', {
      properties: { owner: 'ops-team' },
      workflow: { id: 'ct-bad-parent-wf', steps: [{ subworkflow: { id: 'call', params: { subworkflow_id: { value: 'ct-bad-child-wf', type: 'STRING' } }, transition: {} } }] },
    });
    await service.call('POST', '/api/v3/workflows/ct-bad-parent-wf/versions/active/actions/start', { request_id: 'bad-parent-1' });
    await ended('ct-bad-parent-wf', 1, 'FAILED');
    const child = (await run('ct-bad-parent-wf', 1)).steps.find((x) => x.step_id === 'call')!.subworkflow!;
    expect(child).toMatchObject({ workflow_id: 'ct-bad-child-wf', status: 'FAILED' });

    const r = await fetch(`${service.url}/api/v3/workflows/ct-bad-child-wf/instances/${child.workflow_instance_id}/actions/restart`, {
      method: 'POST',
      headers: { authorization: `Bearer ${service.token}`, 'content-type': 'application/json' },
      body: '{}',
    });
    expect(r.status).toBe(409);
    expect(r.headers.get('content-type')).toContain('application/problem+json');
    const problem = (await r.json()) as { detail: string };
    expect(problem.detail).toContain('is a subworkflow run started by step call of ct-bad-parent-wf #1 (run 1): it cannot be restarted on its own');
    expect(problem.detail).toContain('Restart ct-bad-parent-wf #1 from its failed steps instead');

    await page.goto(`${service.url}/ui/workflows/ct-bad-child-wf/instances/${child.workflow_instance_id}`);
    const via = page.locator('#action-restart-parent');
    await via.waitFor();
    expect(await page.locator('#action-restart, #step-restart').count()).toBe(0);
    expect(await via.locator('button').isDisabled()).toBe(true);
    expect(await via.locator('button').getAttribute('title')).toContain('restart ct-bad-parent-wf #1 from its failed steps and step call runs it again');
    await page.locator('svg.graph .node[data-id="b"]').click();
    await page.locator('#step-detail[data-step="b"]').waitFor();
    expect(await page.locator('#step-restart').count()).toBe(0);
    await shot('instance-subworkflow-child-failed');
    await via.locator('a').click();
    await page.waitForURL(/\/ui\/workflows\/ct-bad-parent-wf\/instances\/1\?step=call$/);
    await page.locator('#action-restart').waitFor();
    expect(pageErrors).toEqual([]);
  }, 60_000);

  it('shows times in the viewer\'s zone with the trigger\'s zone beside them, and never a next fire in the past', async () => {
    await page.goto(`${service.url}/ui/schedules`);
    const row = page.locator('#schedules tr[data-workflow="ct-cron-wf"]');
    await row.waitFor();
    expect(await page.locator('#zone-note').textContent()).toContain(VIEWER_ZONE);
    const next = await row.locator('.next-fire').textContent();
    // Tokyo is GMT+9 all year; New York's own time follows, named.
    expect(next).toMatch(/\d{4}-\d\d-\d\d \d\d:\d\d:00 GMT\+9/);
    expect(next).toContain(`(${TRIGGER_ZONE})`);
    // A fire up to a minute ahead reads in seconds; 59.5-60 s ahead rounds to "in 1 min".
    expect(next).toMatch(/in (\d+s|1 min)|due now/);
    expect(await row.locator('.upcoming li').count()).toBe(3);
    await shot('schedules-zones');
    // Across a fire time the row moves on to the next fire: the relative time never reads "… ago".
    const seenFires = new Set<string>();
    const until = Date.now() + 65_000;
    while (Date.now() < until && seenFires.size < 2) {
      const text = (await row.locator('.next-fire').textContent()) ?? '';
      expect(text).not.toContain('ago');
      seenFires.add((await row.locator('.next-fire time').getAttribute('datetime')) ?? '');
      await page.waitForTimeout(1000);
    }
    expect(seenFires.size).toBe(2);
    expect(Math.min(...[...seenFires].map((s) => Date.parse(s)))).toBeLessThan(Date.now());

    // A time-triggered run names its trigger and fire time in both zones.
    const fired = await waitFor('a time-triggered run', async () => (await service.call<{ items: { workflow_instance_id: number }[] }>('GET', '/api/v3/workflows/ct-cron-wf/instances')).items[0]);
    await page.goto(`${service.url}/ui/workflows/ct-cron-wf/instances/${fired.workflow_instance_id}`);
    await page.locator('#initiator').waitFor();
    const line = (await page.locator('#initiator').textContent()) ?? '';
    expect(line).toContain(`time trigger`);
    expect(line).toMatch(/GMT\+9 · .*\(America\/New_York\)/);
    await shot('instance-time-triggered');
    expect(pageErrors).toEqual([]);
  }, 120_000);

  it('takes a screenshot of every other page', async () => {
    for (const [name, url, ready] of [
      ['home', '/ui', 'main h1'],
      ['workflows', '/ui/workflows', '#workflows tbody tr'],
      ['workflow-loop', '/ui/workflows/ct-loop-wf', '#run-grid thead th.run'],
      ['signals', '/ui/signals', 'main h1'],
      ['lineage-run', '/ui/lineage?workflow=ct-parent-wf&instance=1', 'main h1'],
    ] as const) {
      await page.goto(`${service.url}${url}`);
      await page.locator(ready).first().waitFor();
      await page.waitForLoadState('networkidle');
      await shot(`tour-${name}`);
    }
    expect(pageErrors).toEqual([]);
  }, 60_000);
});
