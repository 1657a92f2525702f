import { UsageError, type CliIo } from '../command.js';
import { EXIT, parseCommand, withServer } from '../client.js';
import { againCommand, PAGE_OPTIONS, pageLimit, printPages } from '../pages.js';
import { table, timeCell } from '../render.js';
import { statusList } from './workflow-list.js';

/** `baton instance list`, called from the instance command. */

export const INSTANCE_LIST_HELP = [
  '       baton instance list [--status S] [--workflow ID] [--initiator K] [--since T] [--until T] [--tag T] [--limit N] [--all]',
  '',
  'list    instances of every workflow (the latest run of each), newest first:',
  '          --status S      FAILED, IN_PROGRESS, ... (several with commas or repeated)',
  '          --workflow ID   of this workflow (repeat for several)',
  '          --initiator K   started by manual, signal, time or subworkflow (commas for several)',
  '          --since T       created at or after T: ISO-8601 (2026-05-01T10:00:00Z) or a time ago (15m, 1h, 2d)',
  '          --until T       created before T',
  '          --tag T         the workflow is tagged T',
  '        --limit N rows per page (default 50), --cursor C the next page, --all every page',
];

const INITIATORS = ['manual', 'signal', 'time', 'subworkflow'];
const TIME = /^(\d{1,9}[smhdw]|\d{4}-.+)$/;

interface Item {
  workflow_id: string;
  workflow_instance_id: number;
  workflow_run_id: number;
  status: string;
  initiator: { type?: string } | null;
  create_time: string;
  end_time: string | null;
}

export async function listInstancesCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, {
    status: { type: 'string', multiple: true },
    workflow: { type: 'string', multiple: true },
    initiator: { type: 'string', multiple: true },
    since: { type: 'string' },
    until: { type: 'string' },
    tag: { type: 'string' },
    ...PAGE_OPTIONS,
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (usage: baton instance list [filters])`);
  const initiators = ((values.initiator as string[] | undefined) ?? []).flatMap((v) => v.split(',')).filter(Boolean).map((v) => v.toLowerCase());
  for (const k of initiators) if (!INITIATORS.includes(k)) throw new UsageError(`--initiator "${k}" is not one of ${INITIATORS.join(', ')}`);
  for (const flag of ['since', 'until'] as const) {
    const v = values[flag] as string | undefined;
    if (v !== undefined && !TIME.test(v)) throw new UsageError(`--${flag} "${v}" must be an ISO-8601 time (2026-05-01T10:00:00Z) or a time ago (90s, 15m, 1h, 2d, 1w)`);
  }
  const query = {
    status: statusList(values.status as string[] | undefined, '--status'),
    workflow: (values.workflow as string[] | undefined) ?? [],
    initiator: initiators.length ? initiators.join(',') : undefined,
    since: values.since as string | undefined,
    until: values.until as string | undefined,
    tag: values.tag as string | undefined,
    limit: pageLimit(values.limit),
  };
  return withServer(io, conn.json, async () => {
    await printPages<Item>(io, conn, '/api/v3/instances', query, {
      all: values.all === true,
      ...(values.cursor !== undefined ? { cursor: values.cursor as string } : {}),
      again: againCommand('baton instance list', args),
      print: (items, first) => {
        const rows = items.map((i) => [i.workflow_id, String(i.workflow_instance_id), String(i.workflow_run_id), i.status, (i.initiator?.type ?? '-').toLowerCase(), i.create_time, timeCell(i.end_time)]);
        const lines = table(['WORKFLOW', 'INSTANCE', 'RUN', 'STATUS', 'INITIATOR', 'CREATED', 'ENDED'], rows);
        if (items.length === 0 && first) io.stdout.write('no instances\n');
        else io.stdout.write(`${(first ? lines : lines.slice(1)).join('\n')}\n`);
      },
    });
    return EXIT.ok;
  });
}
