/**
 * The workflows the chaos run drives. Each has a Sleep step, so a process killed mid-run leaves
 * attempts in flight for another process to take over, then (in the chaos run) an Http step
 * calling the harness's execution recorder, then a NoOp successor.
 */

export const MANUAL_WF = 'chaos-manual';
export const JOIN_WF = 'chaos-join';
export const CRON_WF = 'chaos-cron';
export const SIGNAL_A = 'chaos/a';
export const SIGNAL_B = 'chaos/b';
/** Kafka-only signals that trigger nothing: they prove ingestion alone. */
export const SIGNAL_K = 'chaos/k';

/**
 * The scheduler refuses crons firing more often than once a minute (DEFAULT_MIN_INTERVAL_MS, not a
 * setting of the service), so the cron workflow has six once-a-minute triggers ten seconds apart:
 * one fire every ten seconds in all, each trigger within the limit.
 */
export const CRON_SECONDS = [0, 10, 20, 30, 40, 50] as const;
export const cronTriggerId = (second: number): string => `s${second}`;

const properties = { owner: 'chaos', run_strategy: { rule: 'parallel', workflow_concurrency: 200 } };

/** The step whose every execution the recorder sees. */
export const RECORDED_STEP = 'call';

function steps(sleepSeconds: number, recorderUrl: string | undefined): unknown[] {
  const work = { step: { id: 'work', type: 'Sleep', params: { sleep_seconds: { value: sleepSeconds, type: 'LONG' } }, transition: { successors: { done: 'true' } } } };
  const done = { step: { id: 'done', type: 'NoOp', transition: {} } };
  if (recorderUrl === undefined) return [work, done];
  // The URL names the step instance and attempt; Baton fills the reserved params in.
  const call = {
    step: {
      id: RECORDED_STEP,
      type: 'Http',
      params: { http: { type: 'MAP', value: { url: { type: 'STRING', value: recorderUrl }, method: { type: 'STRING', value: 'GET' }, timeout: { type: 'STRING', value: '20s' } } } },
      transition: { successors: { done: 'true' } },
    },
  };
  return [{ step: { ...work.step, transition: { successors: { [RECORDED_STEP]: 'true' } } } }, call, done];
}

/** With `recorderUrl` (ExecutionRecorder.urlTemplate) each workflow also calls the recorder. */
export function workflowDefinitions(sleepSeconds: number, recorderUrl?: string): Array<{ id: string; body: unknown }> {
  return [
    { id: MANUAL_WF, body: { properties, workflow: { id: MANUAL_WF, name: 'chaos manual starts', steps: steps(sleepSeconds, recorderUrl) } } },
    {
      id: JOIN_WF,
      body: {
        properties,
        workflow: {
          id: JOIN_WF,
          name: 'chaos signal join',
          signal_triggers: [{ definitions: { [SIGNAL_A]: { join_keys: ['key'] }, [SIGNAL_B]: { join_keys: ['key'] } } }],
          steps: steps(sleepSeconds, recorderUrl),
        },
      },
    },
    {
      id: CRON_WF,
      body: {
        properties,
        workflow: {
          id: CRON_WF,
          name: 'chaos cron',
          time_triggers: CRON_SECONDS.map((s) => ({ type: 'CRON', id: cronTriggerId(s), cron: `${s} * * * * ?`, timezone: 'UTC', catch_up: { policy: 'ALL', max_runs: 1000 } })),
          steps: steps(sleepSeconds, recorderUrl),
        },
      },
    },
  ];
}

/** Fire times (epoch ms) of every cron trigger in (fromMs, toMs]. */
export function cronFireTimes(fromMs: number, toMs: number): Array<{ trigger: string; fireMs: number }> {
  const out: Array<{ trigger: string; fireMs: number }> = [];
  for (let t = Math.floor(fromMs / 1000) * 1000 + 1000; t <= toMs; t += 1000) {
    const second = new Date(t).getUTCSeconds();
    if ((CRON_SECONDS as readonly number[]).includes(second)) out.push({ trigger: cronTriggerId(second), fireMs: t });
  }
  return out;
}
