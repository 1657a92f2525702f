import { spawn } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { checkExecutions, type Execution } from './executions.js';
import { ExecutionRecorder } from './recorder.js';

const T0 = Date.parse('2026-01-01T10:00:00Z');

function exec(over: Partial<Execution> & { startMs: number; endMs: number | null }): Execution {
  return { workflowId: 'wf', instanceId: 1, runId: 1, stepId: 'call', attemptId: 1, executor: 'baton-0 pid 10', dropped: false, ...over };
}

describe('no two executions of one step instance overlap', () => {
  it('reports two processes running one step at once (the check can fail)', () => {
    const f = checkExecutions([
      exec({ startMs: T0, endMs: T0 + 200, executor: 'baton-0 pid 10' }),
      exec({ startMs: T0 + 150, endMs: T0 + 400, executor: 'baton-1 pid 11' }),
    ]);
    expect(f.overlaps).toEqual([
      'wf/1/1/call: attempt 1 by baton-1 pid 11 2026-01-01T10:00:00.150Z–2026-01-01T10:00:00.400Z began while attempt 1 by baton-0 pid 10 2026-01-01T10:00:00.000Z–2026-01-01T10:00:00.200Z ran',
    ]);
    expect(f).toMatchObject({ executions: 2, steps: 1, reexecuted: 1, minGapMs: null });
  });

  it('accepts a takeover after the first execution ended, back to back included', () => {
    const f = checkExecutions([
      exec({ startMs: T0 + 30_000, endMs: T0 + 30_100, executor: 'baton-1 pid 11' }),
      exec({ startMs: T0, endMs: T0 + 80, executor: 'baton-0 pid 10', dropped: true }),
      exec({ startMs: T0 + 30_100, endMs: T0 + 30_200, attemptId: 2 }),
    ]);
    expect(f).toEqual({ executions: 3, steps: 1, reexecuted: 1, dropped: 1, minGapMs: 0, overlaps: [] });
  });

  it('compares only executions of the same workflow, instance, run and step', () => {
    const f = checkExecutions([
      exec({ startMs: T0, endMs: T0 + 200 }),
      exec({ startMs: T0 + 10, endMs: T0 + 200, instanceId: 2 }),
      exec({ startMs: T0 + 10, endMs: T0 + 200, runId: 2 }),
      exec({ startMs: T0 + 10, endMs: T0 + 200, stepId: 'other' }),
      exec({ startMs: T0 + 10, endMs: T0 + 200, workflowId: 'wf2' }),
    ]);
    expect(f).toMatchObject({ executions: 5, steps: 5, reexecuted: 0, minGapMs: null, overlaps: [] });
  });

  it('treats an execution still open as running for ever', () => {
    const f = checkExecutions([exec({ startMs: T0, endMs: null }), exec({ startMs: T0 + 60_000, endMs: T0 + 60_100 })]);
    expect(f.overlaps).toHaveLength(1);
    expect(f.overlaps[0]).toContain('still open');
  });

  it('finds an overlap with a long execution hidden behind a shorter later one', () => {
    // A: 0–1000, B: 100–200 (overlaps A), C: 500–600 still inside A though after B ended.
    const f = checkExecutions([
      exec({ startMs: T0, endMs: T0 + 1000, executor: 'A' }),
      exec({ startMs: T0 + 100, endMs: T0 + 200, executor: 'B' }),
      exec({ startMs: T0 + 500, endMs: T0 + 600, executor: 'C' }),
    ]);
    expect(f.overlaps).toHaveLength(2);
    expect(f.overlaps[1]).toMatch(/by C .* began while attempt 1 by A /);
  });
});

describe('the execution recorder', () => {
  let recorder: ExecutionRecorder | undefined;
  afterEach(async () => {
    await recorder?.stop();
    recorder = undefined;
  });

  const url = (r: ExecutionRecorder, instance: number): string =>
    r.urlTemplate
      .replace('${workflow_id}', 'chaos-manual')
      .replace('${workflow_instance_id}', String(instance))
      .replace('${workflow_run_id}', '1')
      .replace('${step_id}', 'call')
      .replace('${step_attempt_id}', '1');

  it('records an answered call with its caller and the time the answer was held', async () => {
    recorder = await ExecutionRecorder.start({ holdMs: () => 120, callers: () => [{ name: 'tester', pid: process.pid }] });
    const r = await fetch(url(recorder, 7));
    expect(r.status).toBe(200);
    await r.arrayBuffer();
    const [e] = recorder.executions();
    expect(e).toMatchObject({ workflowId: 'chaos-manual', instanceId: 7, runId: 1, stepId: 'call', attemptId: 1, dropped: false, executor: `tester pid ${process.pid}` });
    expect(e!.endMs! - e!.startMs).toBeGreaterThanOrEqual(110);
    const bad = await fetch(`http://${recorder.host}/elsewhere`);
    expect(bad.status).toBe(404);
    expect(recorder.executions()).toHaveLength(1);
  });

  it('names the executions in flight by caller and the time left before their answer', async () => {
    recorder = await ExecutionRecorder.start({ holdMs: () => 2_000, callers: () => [{ name: 'tester', pid: process.pid }] });
    const call = fetch(url(recorder, 9)).then((r) => r.arrayBuffer());
    const r = recorder;
    await waitFor(() => r.executions().length === 1);
    expect(r.inFlight('tester', 500)).toMatchObject({ instanceId: 9 });
    expect(r.inFlight('tester', 5_000)).toBeUndefined();
    expect(r.inFlight('other')).toBeUndefined();
    await call;
    expect(r.inFlight('tester')).toBeUndefined();
  });

  it('ends an execution when its caller is SIGKILLed mid-call', async () => {
    recorder = await ExecutionRecorder.start({ holdMs: () => 60_000, callers: () => [] });
    const child = spawn(process.execPath, ['-e', `fetch(${JSON.stringify(url(recorder, 8))}).catch(() => {}); setInterval(() => {}, 1e6)`], { stdio: 'ignore' });
    const r = recorder;
    await waitFor(() => r.executions().length === 1);
    // The recorder's clock (monotonic, from the process's time origin): Date.now() drifts from it by milliseconds.
    const killedAt = performance.timeOrigin + performance.now();
    child.kill('SIGKILL');
    await waitFor(() => r.executions()[0]!.endMs !== null);
    const [e] = r.executions();
    expect(e!.dropped).toBe(true);
    expect(e!.endMs!).toBeGreaterThanOrEqual(killedAt);
    expect(e!.endMs! - killedAt).toBeLessThan(5_000);
  }, 20_000);
});

async function waitFor(cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 20));
  }
}
