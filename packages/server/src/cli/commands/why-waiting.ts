import { UsageError, type CliIo } from '../command.js';
import { EXIT, enc, parseCommand, requirePositionals, stringifyExact, withServer } from '../client.js';

/** `baton step why` and `baton trigger why`: what a waiting step or a signal trigger still waits for. */

export const STEP_WHY_HELP = [
  'Usage: baton step why ID IID STEP [--scan-limit N] [--closest N] [--json]',
  '',
  'Why a step waits for signals: each signal dependency of its latest attempt, met (by which signal',
  'instance) or unmet, with the closest recent signals of that name that did not match and why',
  '(param, operator, expected and actual value).',
  '',
  'Options:',
  '  --scan-limit <n>  newest instances of each signal name read (default 100, at most 1000)',
  '  --closest <n>     closest non-matching signals shown per unmet condition (default 3, at most 10)',
];

export const TRIGGER_WHY_HELP = [
  'Usage: baton trigger why ID [--trigger TRIGGER_ID] [--joins N] [--scan-limit N] [--closest N] [--json]',
  '',
  "Why a workflow's signal triggers have not fired: each pending join (the signals of one join key",
  'received so far) with the signals it holds and, for each missing one, the closest recent signals',
  'of that name and why they do not count: a failed condition, another join key, published before',
  'the trigger became active, already consumed, or not yet matched.',
  '',
  'Options:',
  '  --trigger <id>    only this trigger (as baton trigger list names it)',
  '  --joins <n>       pending joins shown per trigger, newest first (default 5, at most 50)',
  '  --scan-limit <n>  newest instances of each signal name read (default 100, at most 1000)',
  '  --closest <n>     closest non-matching signals shown per unmet condition (default 3, at most 10)',
];

type Value = unknown;
interface SignalRef {
  name: string;
  seq_id: number;
  instance_id: string;
  create_time: string;
  params: Record<string, Value>;
}
interface Condition {
  index: number;
  signal_name: string;
  match_params: Record<string, { operator: string; value: Value }[]>;
  join_keys: string[];
  expected_join: Record<string, Value> | null;
  met: boolean;
  matched_by: SignalRef | null;
  closest: { signal: SignalRef; mismatches: { kind: string; message: string }[] }[];
  scanned: number;
}
interface StepWait {
  workflow_id: string;
  workflow_instance_id: number;
  workflow_run_id: number;
  step_id: string;
  step_attempt_id: number;
  status: string;
  waiter_status: string | null;
  waiting_since: string | null;
  conditions: Condition[];
}
interface TriggerWaits {
  workflow_id: string;
  triggers: {
    trigger_id: string;
    trigger_index: number;
    workflow_version: number | null;
    signal_names: string[];
    active_since: string;
    paused: boolean;
    join_window_seconds: number | null;
    partial_joins: number;
    joins: { join_values: Value[] | null; complete: boolean; first_signal_time: string | null; expires_at: string | null; conditions: Condition[] }[];
  }[];
}

const show = (v: Value): string => stringifyExact(v);

function intOption(name: string, raw: unknown, max: number): number | undefined {
  if (raw === undefined) return undefined;
  const n = Number(raw);
  if (!/^\d+$/.test(String(raw)) || n < 1 || n > max) throw new UsageError(`--${name} must be a whole number from 1 to ${max}, got "${String(raw)}"`);
  return n;
}

const scanOptions = { 'scan-limit': { type: 'string' }, closest: { type: 'string' } } as const;

function scanQuery(values: Record<string, unknown>): Record<string, number | undefined> {
  return { scan_limit: intOption('scan-limit', values['scan-limit'], 1000), closest: intOption('closest', values.closest, 10) };
}

export async function stepWhy(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, scanOptions);
  const [id, iid, step] = requirePositionals(positionals, ['ID', 'IID', 'STEP'], 'baton step why ID IID STEP');
  if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
  const query = scanQuery(values);
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(`/api/v3/workflows/${enc(id!)}/instances/${iid}/steps/${enc(step!)}/waiting`, query);
    io.stdout.write(conn.json ? `${res.text}\n` : `${renderStepWait(res.body as StepWait).join('\n')}\n`);
    return EXIT.ok;
  });
}

export async function triggerWhy(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, { ...scanOptions, trigger: { type: 'string' }, joins: { type: 'string' } });
  const [id] = requirePositionals(positionals, ['ID'], 'baton trigger why ID');
  const query = { ...scanQuery(values), join_limit: intOption('joins', values.joins, 50), trigger_id: values.trigger as string | undefined };
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(`/api/v3/workflows/${enc(id!)}/triggers/signals/waiting`, query);
    io.stdout.write(conn.json ? `${res.text}\n` : `${renderTriggerWaits(res.body as TriggerWaits).join('\n')}\n`);
    return EXIT.ok;
  });
}

export function renderStepWait(w: StepWait): string[] {
  const lines = [`step ${w.step_id} of ${w.workflow_id} instance ${w.workflow_instance_id} run ${w.workflow_run_id}, attempt ${w.step_attempt_id}: ${w.status}`];
  if (w.waiter_status === null) return [...lines, 'the step has no signal dependencies'];
  const unmet = w.conditions.filter((c) => !c.met).length;
  lines.push(
    w.waiter_status === 'WAITING'
      ? `waiting since ${w.waiting_since} for ${unmet} of ${w.conditions.length} signal dependencies`
      : `signal gate ${w.waiter_status} (waited since ${w.waiting_since})`,
  );
  for (const c of w.conditions) lines.push(...conditionLines(c, '  '));
  return lines;
}

export function renderTriggerWaits(w: TriggerWaits): string[] {
  if (w.triggers.length === 0) return [`workflow ${w.workflow_id} has no active signal trigger`];
  const lines: string[] = [];
  for (const t of w.triggers) {
    const state = [`active since ${t.active_since}`, t.paused ? 'PAUSED (counts no signal)' : '', t.join_window_seconds !== null ? `join window ${t.join_window_seconds} s` : '']
      .filter(Boolean)
      .join(', ');
    lines.push(`trigger ${t.trigger_id} of ${w.workflow_id} (#${t.trigger_index}) on ${t.signal_names.join(' + ')}: ${t.partial_joins} partial join${t.partial_joins === 1 ? '' : 's'}; ${state}`);
    for (const j of t.joins) {
      const head =
        j.join_values === null
          ? '  nothing received yet'
          : `  join ${joinText(j.conditions, j.join_values)}${j.complete ? ' (complete: its start is retried)' : ''}, first signal ${j.first_signal_time}${j.expires_at ? `, expires ${j.expires_at}` : ''}`;
      lines.push(head);
      for (const c of j.conditions) lines.push(...conditionLines(c, '    '));
    }
  }
  return lines;
}

function joinText(conditions: Condition[], values: Value[]): string {
  const named = conditions.find((c) => c.met) ?? conditions[0];
  const keys = named?.join_keys ?? [];
  return keys.length === values.length ? keys.map((k, i) => `${k}=${show(values[i])}`).join(', ') : show(values);
}

function specText(c: Condition): string {
  const parts = Object.entries(c.match_params).map(([p, conds]) => conds.map((x, i) => `${i === 0 ? `${p} ` : 'and '}${x.operator} ${show(x.value)}`).join(' '));
  return parts.length === 0 ? 'any params' : parts.join(', ');
}

function signalText(s: SignalRef): string {
  return `${s.name} seq ${s.seq_id} at ${s.create_time} ${show(s.params)}`;
}

function conditionLines(c: Condition, indent: string): string[] {
  const join = c.expected_join ? `; join ${Object.entries(c.expected_join).map(([k, v]) => `${k} = ${show(v)}`).join(', ')}` : '';
  const lines = [`${indent}${c.met ? 'MET  ' : 'UNMET'} [${c.index}] ${c.signal_name}: ${specText(c)}${join}`];
  const sub = `${indent}      `;
  if (c.met && c.matched_by) return [...lines, `${sub}met by ${signalText(c.matched_by)}`];
  if (c.closest.length === 0) return [...lines, `${sub}no signal of this name among the ${c.scanned} newest read`];
  lines.push(`${sub}closest non-matching (of the ${c.scanned} newest):`);
  for (const m of c.closest) {
    lines.push(`${sub}- ${signalText(m.signal)}`);
    for (const x of m.mismatches) lines.push(`${sub}    ${x.kind}: ${x.message}`);
  }
  return lines;
}
