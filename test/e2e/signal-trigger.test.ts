import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sample, startServiceApp, type ServiceApp } from '../../packages/server/test/helpers/service-app.js';

/**
 * Maestro's sample-signal-trigger-wf over the REST API of the whole service: signals start the
 * run exactly once, job.1 waits for its signal dependencies, emits its outputs, the run
 * succeeds, and lineage shows every edge.
 */
const WF = 'sample-signal-trigger-wf';
let s: ServiceApp;

beforeAll(async () => {
  s = await startServiceApp();
  const r = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: { 'content-type': 'application/json' }, payload: sample(`${WF}.json`) });
  expect(r.statusCode).toBe(200);
}, 60_000);
afterAll(async () => {
  await s?.close();
});

async function publish(signal: object) {
  const r = await s.app.inject({ method: 'POST', url: '/api/v3/signals', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(signal) });
  expect(r.statusCode).toBe(200);
  return r.json() as { name: string; seq_id: number; duplicate: boolean };
}

async function instances(): Promise<Array<{ workflow_instance_id: number; status: string }>> {
  const r = await s.app.inject({ url: `/api/v3/workflows/${WF}/instances` });
  expect(r.statusCode).toBe(200);
  return (r.json() as { items: Array<{ workflow_instance_id: number; status: string }> }).items;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function attempt(stepId: string) {
  const r = await s.app.inject({ url: `/api/v3/workflows/${WF}/instances/1/runs/latest/steps/${stepId}/attempts/latest` });
  return r.statusCode === 200 ? (r.json() as { status: string; params: Record<string, { value: unknown }>; timeline: Array<{ to: string | null; message: string }> }) : undefined;
}

const edges = (g: { edges: Array<{ from: string; kind: string; to: string }> }) => g.edges.map((e) => `${e.from} ${e.kind} ${e.to}`).sort();

describe('sample-signal-trigger-wf end to end over REST', () => {
  it('starts one instance from a joined pair of signals, never a second', async () => {
    await publish({ name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' } });
    await publish({ name: 'signal_b', params: { bar: 'baz', watermark: 123456, posted_by: 'tester' } });
    const [inst] = await until('the triggered instance', async () => {
      const list = await instances();
      return list.length > 0 ? list : undefined;
    });
    expect(inst!.workflow_instance_id).toBe(1);

    // The same instances again are duplicates; a signal_b of another poster has no partner.
    expect((await publish({ name: 'signal_a', params: { foo: 'bat', watermark: 123456, updated_by: 'tester' } })).duplicate).toBe(true);
    expect((await publish({ name: 'signal_b', params: { bar: 'baz', watermark: 123456, posted_by: 'tester' } })).duplicate).toBe(true);
    await publish({ name: 'signal_b', params: { bar: 'baz', watermark: 123456, posted_by: 'someone-else' } });
    await s.services.signals.drain();
    expect(await instances()).toHaveLength(1);
  });

  it('holds job.1 until its signal dependencies arrive, then runs it with signal params and emits its outputs', async () => {
    const waiting = await until('job.1 waiting for signals', async () => {
      const a = await attempt('job.1');
      return a?.status === 'WAITING_FOR_SIGNALS' ? a : undefined;
    });
    expect(waiting.timeline.some((t) => t.to === 'WAITING_FOR_SIGNALS' && t.message.includes('db/test/table1'))).toBe(true);
    expect((await attempt('job.2'))).toBeUndefined();

    await publish({ name: 'db/test/table1', params: { vtts_utc_dateint: '20500101', vtts_utc_hour: '00' } });
    await s.services.signals.drain();
    expect((await attempt('job.1'))?.status).toBe('WAITING_FOR_SIGNALS');
    await publish({ name: 'db/test/table2', params: { vtts_utc_dateint: '20500101', vtts_utc_hour: '00' } });

    const run = await until('the run to end', async () => {
      const r = await s.app.inject({ url: `/api/v3/workflows/${WF}/instances/1/runs/latest` });
      const body = r.json() as { status: string; steps: Array<{ step_id: string; status: string }> };
      return ['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'].includes(body.status) ? body : undefined;
    });
    expect(run.status).toBe('SUCCEEDED');
    expect(run.steps.map((x) => x.status)).toEqual(Array(6).fill('SUCCEEDED'));

    const job1 = (await attempt('job.1'))!;
    expect(job1.params.param1?.value).toBe('bat');
    expect(job1.params.param2?.value).toBe(123456);
    expect(job1.params.param3?.value).toBe('20500101');

    const out1 = await s.app.inject({ url: '/api/v3/signals/dummy%2Ftest%2Fsignal1/instances/latest' });
    expect(out1.json()).toMatchObject({ params: { key1: 'v1', key2: 1 }, source: { type: 'STEP_OUTPUT', workflow_id: WF, step_id: 'job.1' } });
    const out2 = await s.app.inject({ url: '/api/v3/signals/dummy%2Ftest%2Fsignal2/instances/latest' });
    expect(out2.json()).toMatchObject({ params: { key3: 'v3', key4: 'v4' } });
  });

  it('shows TRIGGERED, UNBLOCKED and EMITTED edges in the lineage queries', async () => {
    const up = await s.app.inject({ url: `/api/v3/workflows/${WF}/instances/1/lineage?depth=2` });
    expect(up.statusCode).toBe(200);
    expect(edges(up.json())).toEqual(
      expect.arrayContaining([
        `signal:signal_a#1 TRIGGERED workflow:${WF}/1`,
        `signal:signal_b#1 TRIGGERED workflow:${WF}/1`,
        `signal:db/test/table1#1 UNBLOCKED step:${WF}/1/job.1/1`,
        `signal:db/test/table2#1 UNBLOCKED step:${WF}/1/job.1/1`,
      ]),
    );
    const down = await s.app.inject({ url: '/api/v3/signals/signal_a/instances/1/lineage?depth=3' });
    expect(down.statusCode).toBe(200);
    expect(edges(down.json())).toEqual(
      expect.arrayContaining([
        `signal:signal_a#1 TRIGGERED workflow:${WF}/1`,
        `step:${WF}/1/job.1/1 EMITTED signal:dummy/test/signal1#1`,
        `step:${WF}/1/job.1/1 EMITTED signal:dummy/test/signal2#1`,
      ]),
    );
    const table = await s.app.inject({ url: '/api/v3/signals/db%2Ftest%2Ftable1/instances/1/lineage' });
    expect(edges(table.json())).toContain(`signal:db/test/table1#1 UNBLOCKED step:${WF}/1/job.1/1`);
  });
});
