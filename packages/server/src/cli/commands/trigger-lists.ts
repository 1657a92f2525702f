import { UsageError, type CliIo } from '../command.js';
import { EXIT, parseCommand, withServer } from '../client.js';
import { againCommand, PAGE_HELP, PAGE_OPTIONS, pageLimit, printPages } from '../pages.js';
import { table, timeCell } from '../render.js';

/** `baton schedule list` and `baton trigger list`: the trigger lists, as a table or JSON. */

export const LIST_OPTIONS_HELP = [
  '  --workflow <id>       only this workflow\'s triggers',
  '  --paused true|false   only paused or only unpaused triggers',
  ...PAGE_HELP,
];

const OPTIONS = {
  workflow: { type: 'string' },
  paused: { type: 'string' },
  signal: { type: 'string' },
  ...PAGE_OPTIONS,
} as const;

interface ScheduleRow {
  workflow_id: string;
  trigger_id: string;
  status: string;
  expression: string;
  timezone: string;
  catch_up: { policy: string } | null;
  next_fire_time_local: string | null;
  due_fire_time_local: string | null;
  last_fire_time_local: string | null;
}
interface SignalTriggerRow {
  workflow_id: string;
  trigger_id: string;
  status: string;
  signals: Array<{ name: string; match_params: Record<string, Array<{ operator: string; value: unknown }>>; join_keys: string[] }>;
  waiting_candidates: number;
}

async function list<T>(io: CliIo, args: string[], command: string, path: string, allowSignal: boolean, header: string[], row: (item: T) => string[]): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, OPTIONS);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}" (usage: ${command} [options])`);
  const paused = values.paused as string | undefined;
  if (paused !== undefined && paused !== 'true' && paused !== 'false') throw new UsageError(`--paused must be true or false, got "${paused}"`);
  if (!allowSignal && values.signal !== undefined) throw new UsageError('--signal applies to "trigger list" only');
  const query = {
    workflow_id: values.workflow as string | undefined,
    paused,
    signal: values.signal as string | undefined,
    limit: pageLimit(values.limit),
  };
  return withServer(io, conn.json, async () => {
    await printPages<T>(io, conn, path, query, {
      all: values.all === true,
      ...(values.cursor !== undefined ? { cursor: values.cursor as string } : {}),
      again: againCommand(command, args.slice(1)),
      print: (items, first) => {
        if (items.length === 0 && first) io.stdout.write('(none)\n');
        else io.stdout.write(`${table(header, items.map(row)).slice(first ? 0 : 1).join('\n')}\n`);
      },
    });
    return EXIT.ok;
  });
}

export function runScheduleList(args: string[], io: CliIo): Promise<number> {
  return list<ScheduleRow>(io, args, 'baton schedule list', '/api/v3/schedules', false, ['WORKFLOW', 'TRIGGER', 'STATUS', 'CRON', 'ZONE', 'CATCH-UP', 'NEXT FIRE', 'LAST FIRE'], (i) => [
    i.workflow_id,
    i.trigger_id,
    i.status,
    i.expression,
    i.timezone,
    i.catch_up?.policy ?? '-',
    i.next_fire_time_local ?? (i.due_fire_time_local ? `due since ${i.due_fire_time_local}` : '-'),
    timeCell(i.last_fire_time_local),
  ]);
}

function conditions(s: SignalTriggerRow['signals'][number]): string {
  const parts = Object.entries(s.match_params).flatMap(([param, cs]) => cs.map((c) => `${param} ${c.operator} ${JSON.stringify(c.value)}`));
  return `${s.name}${parts.length ? ` [${parts.join(', ')}]` : ''}${s.join_keys.length ? ` join ${s.join_keys.join(',')}` : ''}`;
}

export function runTriggerList(args: string[], io: CliIo): Promise<number> {
  return list<SignalTriggerRow>(io, args, 'baton trigger list', '/api/v3/triggers/signals', true, ['WORKFLOW', 'TRIGGER', 'STATUS', 'WAITING', 'SIGNALS'], (i) => [
    i.workflow_id,
    i.trigger_id,
    i.status,
    String(i.waiting_candidates),
    i.signals.map(conditions).join(' + '),
  ]);
}
