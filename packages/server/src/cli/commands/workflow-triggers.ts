import { UsageError, type CliIo } from '../command.js';
import { EXIT, enc, parseCommand, requirePositionals, withServer } from '../client.js';

/** `baton workflow pause|activate`: the subcommands that pause and activate a workflow's triggers. */
export const TRIGGER_ACTIONS = ['pause', 'activate'] as const;

export const TRIGGER_ACTIONS_HELP = [
  '  pause ID [--kind time|signal] [--trigger TID] [--reason TEXT]',
  '                                pause the workflow\'s triggers (default all, present and future):',
  '                                they fire nothing until activated; fires already claimed finish',
  '  activate ID [--kind time|signal] [--trigger TID] [--dry-run]',
  '                                activate them again; time triggers start what came due meanwhile',
  '                                per their catch_up policy (LATEST: the latest), which is printed;',
  '                                --dry-run only prints it',
];

const OPTIONS = {
  kind: { type: 'string' },
  trigger: { type: 'string' },
  reason: { type: 'string' },
  'dry-run': { type: 'boolean', default: false },
} as const;

interface TriggerState {
  trigger_id: string;
  status: string;
  expression?: string;
  timezone?: string;
  next_fire_time_local?: string | null;
  signals?: Array<{ name: string }>;
}
interface ActionAnswer {
  workflow_id: string;
  changed: boolean;
  dry_run?: boolean;
  preview?: {
    time_triggers: Array<{ trigger_id: string; catch_up: { policy: string }; would_start: Array<{ fire_time: string; fire_time_local: string; catch_up: boolean }>; would_skip: number }>;
    signal_triggers: Array<{ trigger_id: string; waiting_candidates: number }>;
  };
  time_triggers: TriggerState[];
  signal_triggers: TriggerState[];
}

export async function runTriggerAction(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, OPTIONS);
  const [action, ...rest] = positionals as [(typeof TRIGGER_ACTIONS)[number], ...string[]];
  const [id] = requirePositionals(rest, ['ID'], `baton workflow ${action} ID [--kind time|signal] [--trigger TID]`);
  const kind = values.kind as string | undefined;
  if (kind !== undefined && kind !== 'time' && kind !== 'signal' && kind !== 'all') throw new UsageError(`--kind must be time, signal or all, got "${kind}"`);
  const trigger = values.trigger as string | undefined;
  if (trigger !== undefined && (kind === undefined || kind === 'all')) throw new UsageError('--trigger needs --kind time or --kind signal');
  if (action === 'pause' && values['dry-run'] === true) throw new UsageError('--dry-run applies to "workflow activate" only');
  if (action === 'activate' && values.reason !== undefined) throw new UsageError('--reason applies to "workflow pause" only');
  const body: Record<string, unknown> = {};
  if (kind !== undefined) body.kind = kind;
  if (trigger !== undefined) body.trigger_id = trigger;
  if (values.reason !== undefined) body.reason = values.reason;
  if (values['dry-run'] === true) body.dry_run = true;
  return withServer(io, conn.json, async () => {
    const res = await conn.client.request('POST', `/api/v3/workflows/${enc(id!)}/triggers/${action}`, { body: JSON.stringify(body) });
    if (conn.json) io.stdout.write(`${res.text}\n`);
    else io.stdout.write(describe(action, res.body as ActionAnswer));
    return EXIT.ok;
  });
}

function describe(action: string, b: ActionAnswer): string {
  const lines: string[] = [];
  const verb = action === 'pause' ? 'paused' : b.dry_run ? 'would activate' : 'activated';
  lines.push(b.changed ? `${verb} triggers of ${b.workflow_id}` : `nothing to ${action}: triggers of ${b.workflow_id} were already ${action === 'pause' ? 'paused' : 'active'}`);
  for (const p of b.preview?.time_triggers ?? []) {
    const starts = p.would_start.map((f) => `${f.fire_time_local}${f.catch_up ? ' (catch-up)' : ''}`);
    lines.push(`  time ${p.trigger_id}: catch_up ${p.catch_up.policy}: ${b.dry_run ? 'would start' : 'started'} ${starts.length ? starts.join(', ') : 'nothing'}; ${b.dry_run ? 'would skip' : 'skipped'} ${p.would_skip}`);
  }
  for (const p of b.preview?.signal_triggers ?? []) lines.push(`  signal ${p.trigger_id}: counts signals published from now on; ${p.waiting_candidates} signal(s) wait for the rest of a join`);
  for (const t of b.time_triggers) lines.push(`  time ${t.trigger_id} [${t.status}] ${t.expression} ${t.timezone}${t.next_fire_time_local ? `; next ${t.next_fire_time_local}` : ''}`);
  for (const t of b.signal_triggers) lines.push(`  signal ${t.trigger_id} [${t.status}] ${(t.signals ?? []).map((s) => s.name).join(' + ')}`);
  return `${lines.join('\n')}\n`;
}
