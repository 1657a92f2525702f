import { UsageError, type CliIo } from '../command.js';
import { EXIT, parseCommand, requirePositionals, withServer } from '../client.js';

/** `baton schedule list` and `baton trigger list`: one page of a trigger list, as a table or JSON. */

export const LIST_OPTIONS_HELP = [
  '  --workflow <id>       only this workflow\'s triggers',
  '  --paused true|false   only paused or only unpaused triggers',
  '  --limit <n>           page size 1-1000 (default 100)',
  '  --cursor <c>          the next page (printed after a full page)',
];

const OPTIONS = {
  workflow: { type: 'string' },
  paused: { type: 'string' },
  limit: { type: 'string' },
  cursor: { type: 'string' },
  signal: { type: 'string' },
} as const;

interface Page<T> {
  items: T[];
  next_cursor?: string;
}
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

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((c, i) => (i === r.length - 1 ? c : c.padEnd(widths[i]!))).join('  ').trimEnd()).join('\n') + '\n';
}

function query(values: Record<string, unknown>, allowSignal: boolean): Record<string, string | undefined> {
  const paused = values.paused as string | undefined;
  if (paused !== undefined && paused !== 'true' && paused !== 'false') throw new UsageError(`--paused must be true or false, got "${paused}"`);
  const limit = values.limit as string | undefined;
  if (limit !== undefined && !/^[1-9]\d{0,3}$/.test(limit)) throw new UsageError(`--limit must be a number from 1 to 1000, got "${limit}"`);
  if (!allowSignal && values.signal !== undefined) throw new UsageError('--signal applies to "trigger list" only');
  return { workflow_id: values.workflow as string | undefined, paused, limit, cursor: values.cursor as string | undefined, ...(allowSignal ? { signal: values.signal as string | undefined } : {}) };
}

async function list<T>(io: CliIo, args: string[], usage: string, path: string, allowSignal: boolean, render: (items: T[]) => string): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, OPTIONS);
  requirePositionals(positionals.slice(1), [], usage);
  const q = query(values, allowSignal);
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(path, q);
    if (conn.json) {
      io.stdout.write(`${res.text}\n`);
      return EXIT.ok;
    }
    const page = res.body as Page<T>;
    io.stdout.write(page.items.length === 0 ? '(none)\n' : render(page.items));
    if (page.next_cursor) io.stdout.write(`more: --cursor ${page.next_cursor}\n`);
    return EXIT.ok;
  });
}

export function runScheduleList(args: string[], io: CliIo): Promise<number> {
  return list<ScheduleRow>(io, args, 'baton schedule list [--workflow ID] [--paused true|false]', '/api/v3/schedules', false, (items) =>
    table([
      ['WORKFLOW', 'TRIGGER', 'STATUS', 'CRON', 'ZONE', 'CATCH-UP', 'NEXT FIRE', 'LAST FIRE'],
      ...items.map((i) => [
        i.workflow_id,
        i.trigger_id,
        i.status,
        i.expression,
        i.timezone,
        i.catch_up?.policy ?? '-',
        i.next_fire_time_local ?? (i.due_fire_time_local ? `due since ${i.due_fire_time_local}` : '-'),
        i.last_fire_time_local ?? '-',
      ]),
    ]),
  );
}

function conditions(s: SignalTriggerRow['signals'][number]): string {
  const parts = Object.entries(s.match_params).flatMap(([param, cs]) => cs.map((c) => `${param} ${c.operator} ${JSON.stringify(c.value)}`));
  return `${s.name}${parts.length ? ` [${parts.join(', ')}]` : ''}${s.join_keys.length ? ` join ${s.join_keys.join(',')}` : ''}`;
}

export function runTriggerList(args: string[], io: CliIo): Promise<number> {
  return list<SignalTriggerRow>(io, args, 'baton trigger list [--workflow ID] [--signal NAME] [--paused true|false]', '/api/v3/triggers/signals', true, (items) =>
    table([
      ['WORKFLOW', 'TRIGGER', 'STATUS', 'WAITING', 'SIGNALS'],
      ...items.map((i) => [i.workflow_id, i.trigger_id, i.status, String(i.waiting_candidates), i.signals.map(conditions).join(' + ')]),
    ]),
  );
}
