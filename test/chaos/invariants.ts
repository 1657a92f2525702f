import type pg from 'pg';
import { checkExecutions, stepKey, type Execution, type ExecutionFindings } from './executions.js';
import { republishedAfterPurge, signalCopies } from './purged.js';
import type { Ledger } from './workload.js';
import { CRON_WF, JOIN_WF, MANUAL_WF, RECORDED_STEP, SIGNAL_A, SIGNAL_B, SIGNAL_K, cronFireTimes } from './workflows.js';

const TERMINAL = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT']);
const WORKFLOWS = [MANUAL_WF, JOIN_WF, CRON_WF];

/** The time window of the cron workflow: fires inside it are expected, around its edges allowed. */
export interface CronWindow {
  /** Before the push was sent: no fire time may be this early. */
  pushSentMs: number;
  /** After the push was acknowledged: every fire time from here on is expected... */
  pushAckedMs: number;
  /** ...up to here (the deactivation was sent, less the scheduler's allowed lag). */
  expectedUntilMs: number;
  /** The deactivation was acknowledged: no fire time may be later. */
  deactivatedMs: number;
}

export interface Category {
  expected: number;
  found: number;
  missing: string[];
  duplicates: string[];
  unexpected: string[];
}

export interface Findings {
  manual: Category;
  join: Category;
  cron: Category;
  restSignals: Category;
  kafkaSignals: Category;
  poisonIndexed: number;
  instancesFound: number;
  nonTerminal: string[];
  failed: string[];
  /** Attempt rows of one step whose recorded intervals intersect (a retry before its predecessor ended). */
  attemptOverlaps: string[];
  retriedAttempts: number;
  /** What the execution recorder saw, and the overlaps between executions of one step instance. */
  executions: ExecutionFindings;
  /** SUCCEEDED attempts of the recorded step without an answered execution: the recording has gaps. */
  unrecorded: string[];
  lineageMissing: string[];
  /** Signals of the run purged by retention (found by their tombstones), and copies published again after a purge. */
  purged: number;
  republished: number;
  /** Join instances fired by two copies published again after their first copies were purged (allowed). */
  rejoins: string[];
}

interface InstanceRow {
  id: number;
  workflow_id: string;
  instance_id: number;
  run_id: number;
  request_id: string | null;
  status: string;
}

export function category(expected: Set<string>, allowed: Set<string>, found: string[]): Category {
  const counts = new Map<string, number>();
  for (const f of found) counts.set(f, (counts.get(f) ?? 0) + 1);
  return {
    expected: expected.size,
    found: counts.size,
    missing: [...expected].filter((e) => !counts.has(e)),
    duplicates: [...counts].filter(([, n]) => n > 1).map(([k, n]) => `${k} x${n}`),
    unexpected: [...counts.keys()].filter((k) => !expected.has(k) && !allowed.has(k)),
  };
}

/** Reads Baton's tables and checks every invariant against what the workload sent. */
export async function checkInvariants(db: pg.Pool, ledger: Ledger, topic: string, cron: CronWindow, executions: readonly Execution[], clockOffsetMs = 0): Promise<Findings> {
  const instances = (
    await db.query<InstanceRow>(
      `SELECT id::int AS id, workflow_id, instance_id::int AS instance_id, run_id, request_id, status
       FROM baton_workflow_instances WHERE workflow_id = ANY($1) ORDER BY id`,
      [WORKFLOWS],
    )
  ).rows;
  const firstRuns = instances.filter((i) => i.run_id === 1);
  const of = (wf: string): InstanceRow[] => firstRuns.filter((i) => i.workflow_id === wf);

  // Manual starts: one instance per acknowledged request id.
  const manual = category(ledger.manualAcked, ledger.manualUnacked, of(MANUAL_WF).map((i) => i.request_id ?? `(no request id) #${i.instance_id}`));

  // Signals, read back by their dedupe keys.
  // With retention running, a purged signal counts by its tombstone; a copy published again after
  // its first copy was purged (the dedupe key goes with it) is a new signal, not a duplicate.
  const copies = await signalCopies(db, [SIGNAL_A, SIGNAL_B, SIGNAL_K], clockOffsetMs);
  const republished = republishedAfterPurge(copies);
  const signalRows = copies.filter((c) => !republished.has(`${c.name}#${c.seq_id}`));
  const restExpected = new Set([...ledger.restSignals].filter(([, s]) => s.acked).map(([id]) => id));
  const restAllowed = new Set(ledger.restSignals.keys());
  const kafkaPrefix = `kafka:${topic}:`;
  const restSignals = category(restExpected, restAllowed, signalRows.filter((r) => r.request_id && !r.request_id.startsWith(kafkaPrefix)).map((r) => r.request_id!));
  const kafkaRows = signalRows.filter((r) => r.request_id?.startsWith(kafkaPrefix));
  const kafkaExpected = new Set([...ledger.kafkaValid].filter(([, m]) => m.acked).map(([id]) => id));
  const kafkaAllowed = new Set(ledger.kafkaValid.keys());
  const kafkaSignals = category(kafkaExpected, kafkaAllowed, kafkaRows.map((r) => r.request_id!.slice(kafkaPrefix.length)));
  const poisonIndexed = kafkaRows.filter((r) => r.request_id!.slice(kafkaPrefix.length).startsWith('bad-')).length;

  // Signal joins: one instance per join key whose two sides were both acknowledged. The instance's
  // request id names the consumed signal instances; their params say which key fired.
  const byInstanceId = new Map(signalRows.map((r) => [`${r.name}:${r.instance_id}`, r]));
  // A purged copy keeps no params: its key is the one the workload sent under that id.
  const ledgerKey = (id: string): string | undefined => ledger.restSignals.get(id)?.key ?? ledger.kafkaValid.get(id.slice(kafkaPrefix.length))?.key;
  const acked = (join: { a: string; b: string; bVia: 'rest' | 'kafka' }): boolean =>
    !!ledger.restSignals.get(join.a)?.acked && !!(join.bVia === 'rest' ? ledger.restSignals.get(join.b)?.acked : ledger.kafkaValid.get(join.b)?.acked);
  const joinExpected = new Set([...ledger.joins].filter(([, j]) => acked(j)).map(([k]) => k));
  const joinAllowed = new Set(ledger.joins.keys());
  const lineage = (
    await db.query<{ signal_name: string; seq_id: number; workflow_instance_id: string }>(
      `SELECT signal_name, seq_id::int AS seq_id, workflow_instance_id FROM signal_lineage WHERE kind = 'TRIGGERED' AND workflow_id = $1`,
      [JOIN_WF],
    )
  ).rows;
  const edges = new Set(lineage.map((e) => `${e.signal_name}#${e.seq_id}>${e.workflow_instance_id}`));
  const rejoined = new Set(lineage.filter((e) => republished.has(`${e.signal_name}#${e.seq_id}`)).map((e) => e.workflow_instance_id));
  const lineageMissing: string[] = [];
  const joinFound: string[] = [];
  const rejoins: string[] = [];
  for (const inst of of(JOIN_WF)) {
    if (rejoined.has(String(inst.instance_id))) {
      rejoins.push(`${JOIN_WF}/${inst.instance_id} (${inst.request_id})`);
      continue;
    }
    const consumed = [...(inst.request_id ?? '').matchAll(/(chaos\/[abk]):([^,]+)/g)].map((m) => byInstanceId.get(`${m[1]}:${m[2]}`));
    const keys = new Set(consumed.map((c) => c?.key ?? (c ? ledgerKey(c.instance_id) : undefined) ?? '?'));
    joinFound.push(consumed.length === 2 && keys.size === 1 ? [...keys][0]! : `(unreadable ${inst.request_id}) #${inst.instance_id}`);
    for (const c of consumed) {
      if (c && !edges.has(`${c.name}#${c.seq_id}>${inst.instance_id}`)) lineageMissing.push(`${c.name}#${c.seq_id} TRIGGERED ${JOIN_WF}/${inst.instance_id}`);
    }
  }
  const join = category(joinExpected, joinAllowed, joinFound);

  // Cron: one instance per fire time inside the window.
  const key = (f: { trigger: string; fireMs: number }): string => `${f.trigger}@${new Date(f.fireMs).toISOString()}`;
  const cronExpected = new Set(cronFireTimes(cron.pushAckedMs, cron.expectedUntilMs).map(key));
  const cronAllowed = new Set(cronFireTimes(cron.pushSentMs - 1, cron.deactivatedMs).map(key));
  const prefix = `time-trigger:${CRON_WF}:`;
  const cronCat = category(cronExpected, cronAllowed, of(CRON_WF).map((i) => (i.request_id?.startsWith(prefix) ? i.request_id.slice(prefix.length).replace(':', '@') : `(${i.request_id}) #${i.instance_id}`)));

  const label = (i: InstanceRow): string => `${i.workflow_id}/${i.instance_id}/${i.run_id}`;
  const nonTerminal = instances.filter((i) => !TERMINAL.has(i.status)).map((i) => `${label(i)} ${i.status}`);
  const failed = instances.filter((i) => TERMINAL.has(i.status) && i.status !== 'SUCCEEDED').map((i) => `${label(i)} ${i.status}`);

  // Attempt rows of one step follow one another: each ends before the next one starts. (A takeover
  // reuses its row, so this cannot see two processes in one attempt: the executions below can.)
  const attempts = (
    await db.query<{ instance_pk: number; workflow_id: string; instance_id: number; run_id: number; step_id: string; attempt_id: number; status: string; started_at: Date | null; ended_at: Date | null }>(
      `SELECT a.instance_pk::int AS instance_pk, i.workflow_id, i.instance_id::int AS instance_id, i.run_id, a.step_id, a.attempt_id, a.status, a.started_at, a.ended_at
       FROM baton_step_attempts a JOIN baton_workflow_instances i ON i.id = a.instance_pk
       WHERE i.workflow_id = ANY($1) ORDER BY a.instance_pk, a.step_id, a.attempt_id`,
      [WORKFLOWS],
    )
  ).rows;
  const attemptOverlaps: string[] = [];
  let retriedAttempts = 0;
  for (let i = 1; i < attempts.length; i++) {
    const prev = attempts[i - 1]!;
    const cur = attempts[i]!;
    if (cur.instance_pk !== prev.instance_pk || cur.step_id !== prev.step_id) continue;
    retriedAttempts++;
    if (cur.started_at && (!prev.ended_at || cur.started_at < prev.ended_at)) {
      attemptOverlaps.push(`instance ${cur.instance_pk} step ${cur.step_id}: attempt ${cur.attempt_id} started ${cur.started_at.toISOString()} before attempt ${prev.attempt_id} ended (${prev.ended_at?.toISOString() ?? 'never'})`);
    }
  }

  // Every successful call of the recorder's step was answered by the recorder: nothing went unseen.
  const answered = new Set(executions.filter((e) => e.endMs !== null && !e.dropped).map((e) => `${stepKey(e)}#${e.attemptId}`));
  const unrecorded = attempts
    .filter((a) => a.step_id === RECORDED_STEP && a.status === 'SUCCEEDED')
    .map((a) => `${stepKey({ workflowId: a.workflow_id, instanceId: a.instance_id, runId: a.run_id, stepId: a.step_id })}#${a.attempt_id}`)
    .filter((k) => !answered.has(k));

  return {
    manual,
    join,
    cron: cronCat,
    restSignals,
    kafkaSignals,
    poisonIndexed,
    instancesFound: instances.length,
    nonTerminal,
    failed,
    attemptOverlaps,
    retriedAttempts,
    executions: checkExecutions(executions),
    unrecorded,
    lineageMissing,
    purged: signalRows.filter((c) => c.purgedMs !== null).length,
    republished: republished.size,
    rejoins,
  };
}
