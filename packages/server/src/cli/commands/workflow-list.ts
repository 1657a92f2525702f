import { UsageError, type CliIo } from '../command.js';
import { EXIT, enc, parseCommand, requirePositionals, stringifyExact, withServer } from '../client.js';
import { againCommand, PAGE_OPTIONS, pageLimit, printPages } from '../pages.js';
import { stepLines, table, timeCell, type StepJson } from '../render.js';

/** `baton workflow list` and `baton workflow describe`, called from the workflow command. */

export const WORKFLOW_LIST_HELP = [
  'Options of list:',
  '  --text <t>          id, name or description contains t (any letter case)',
  '  --owner <o>         owned by o',
  '  --tag <t>           tagged t',
  '  --trigger <k>       has a time or signal trigger',
  '  --paused true|false has (or has no) paused trigger (baton workflow pause)',
  '  --last-status <s>   the newest instance is s (e.g. FAILED; several with commas)',
];

const STATUSES = ['CREATED', 'IN_PROGRESS', 'PAUSED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'];

/** Upper-cased, comma-joined statuses, each checked (a wrong one is a usage error, exit 2). */
export function statusList(values: readonly string[] | undefined, flag: string): string | undefined {
  if (!values?.length) return undefined;
  const list = values.flatMap((v) => v.split(',')).filter(Boolean).map((v) => v.toUpperCase());
  for (const s of list) if (!STATUSES.includes(s)) throw new UsageError(`${flag} "${s}" is not one of ${STATUSES.join(', ')}`);
  return list.join(',');
}

interface WorkflowItem {
  workflow_id: string;
  active_version_id: number | null;
  latest_version_id: number;
  owner: string | null;
  tags: string[];
  trigger_kinds: string[];
  paused?: boolean;
  paused_trigger_kinds?: string[];
  last_run: { workflow_instance_id: number; status: string; create_time: string } | null;
}

export async function listWorkflowsCommand(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, {
    text: { type: 'string' },
    owner: { type: 'string' },
    tag: { type: 'string' },
    trigger: { type: 'string' },
    paused: { type: 'string' },
    'last-status': { type: 'string', multiple: true },
    ...PAGE_OPTIONS,
  });
  if (positionals.length) throw new UsageError(`unexpected argument "${positionals[0]}" (usage: baton workflow list [filters])`);
  const trigger = values.trigger as string | undefined;
  if (trigger !== undefined && trigger !== 'time' && trigger !== 'signal') throw new UsageError(`--trigger must be time or signal, got "${trigger}"`);
  const paused = values.paused as string | undefined;
  if (paused !== undefined && paused !== 'true' && paused !== 'false') throw new UsageError(`--paused must be true or false, got "${paused}"`);
  const query = {
    q: values.text as string | undefined,
    paused,
    owner: values.owner as string | undefined,
    tag: values.tag as string | undefined,
    trigger,
    last_status: statusList(values['last-status'] as string[] | undefined, '--last-status'),
    limit: pageLimit(values.limit),
  };
  return withServer(io, conn.json, async () => {
    await printPages<WorkflowItem>(io, conn, '/api/v3/workflows', query, {
      all: values.all === true,
      ...(values.cursor !== undefined ? { cursor: values.cursor as string } : {}),
      again: againCommand('baton workflow list', args),
      print: (items, first) => {
        const rows = items.map((w) => [
          w.workflow_id,
          w.active_version_id === null ? '-' : String(w.active_version_id),
          String(w.latest_version_id),
          w.owner ?? '-',
          `${w.trigger_kinds.join(',') || '-'}${w.paused ? ` (paused: ${(w.paused_trigger_kinds ?? []).join(',')})` : ''}`,
          w.tags.join(',') || '-',
          w.last_run ? `${w.last_run.status} #${w.last_run.workflow_instance_id} ${w.last_run.create_time}` : '-',
        ]);
        const lines = table(['WORKFLOW', 'ACTIVE', 'LATEST', 'OWNER', 'TRIGGERS', 'TAGS', 'LAST RUN'], rows);
        if (items.length === 0 && first) io.stdout.write('no workflows\n');
        else io.stdout.write(`${(first ? lines : lines.slice(1)).join('\n')}\n`);
      },
    });
    return EXIT.ok;
  });
}

interface Definition {
  workflow_id: string;
  workflow_version_id: number;
  active_version_id: number | null;
  definition: {
    properties: { owner?: string; run_strategy?: unknown; tags?: unknown[] };
    workflow: {
      name?: string;
      description?: string;
      params?: Record<string, { type?: string; value?: unknown; expression?: string }>;
      time_triggers?: Array<Record<string, unknown>>;
      signal_triggers?: Array<{ definitions?: Record<string, unknown> }>;
      steps: Array<Record<string, StepJson>>;
    };
  };
}

interface Versions {
  versions: Array<{ workflow_version_id: number; is_active: boolean; create_time: string }>;
}

interface Runs {
  items: Array<{ workflow_instance_id: number; workflow_run_id: number; workflow_version_id: number; status: string; create_time: string; end_time: string | null; initiator: { type?: string } | null }>;
}

/** `baton workflow describe ID`: the latest version's definition, every version and the recent runs. */
export async function describeWorkflow(args: string[], io: CliIo): Promise<number> {
  const { values, positionals, conn } = parseCommand(args, io, { runs: { type: 'string' } });
  const [id] = requirePositionals(positionals, ['ID'], 'baton workflow describe ID [--runs N]');
  const runs = values.runs === undefined ? 5 : pageLimit(values.runs)!;
  return withServer(io, conn.json, async () => {
    const [def, versions, recent] = await Promise.all([
      conn.client.get(`/api/v3/workflows/${enc(id!)}/versions/latest`),
      conn.client.get(`/api/v3/workflows/${enc(id!)}/versions`),
      conn.client.get(`/api/v3/workflows/${enc(id!)}/instances`, { limit: runs }),
    ]);
    const d = def.body as Definition;
    const v = versions.body as Versions;
    const r = recent.body as Runs;
    if (conn.json) {
      io.stdout.write(`${stringifyExact({ workflow_id: d.workflow_id, active_version_id: d.active_version_id, latest: d, versions: v.versions, recent_runs: r.items })}\n`);
      return EXIT.ok;
    }
    const w = d.definition.workflow;
    const p = d.definition.properties;
    const out: string[] = [`${d.workflow_id}${w.name ? ` (${w.name})` : ''}${w.description ? `: ${w.description}` : ''}`];
    out.push(`  owner ${p.owner ?? '-'}; active version ${d.active_version_id ?? 'none'}; latest version ${d.workflow_version_id}`);
    out.push('versions:', ...table(['VERSION', 'CREATED', ''], v.versions.map((x) => [String(x.workflow_version_id), x.create_time, x.is_active ? 'active' : ''])).map((l) => `  ${l}`));
    const params = Object.entries(w.params ?? {});
    out.push(`params (latest version):${params.length ? '' : ' none'}`);
    for (const [name, def] of params) out.push(`  ${name}${def.type ? ` ${def.type}` : ''}${def.expression !== undefined ? ` = ${def.expression} (expression)` : def.value !== undefined ? ` = ${stringifyExact(def.value)}` : ''}`);
    const time = w.time_triggers ?? [];
    const signal = w.signal_triggers ?? [];
    out.push(`triggers (latest version):${time.length + signal.length ? '' : ' none'}`);
    for (const t of time) out.push(`  time: ${String(t.cron ?? t.expression ?? t.type)}${t.timezone ? ` (${String(t.timezone)})` : ''}`);
    for (const s of signal) out.push(`  signal: ${Object.keys(s.definitions ?? {}).join(' + ') || '-'}`);
    out.push('steps (latest version):', ...stepLines(w.steps));
    out.push(`recent runs:${r.items.length ? '' : ' none'}`);
    if (r.items.length) {
      const rows = r.items.map((x) => [String(x.workflow_instance_id), String(x.workflow_run_id), String(x.workflow_version_id), x.status, (x.initiator?.type ?? '-').toLowerCase(), x.create_time, timeCell(x.end_time)]);
      out.push(...table(['INSTANCE', 'RUN', 'VERSION', 'STATUS', 'INITIATOR', 'CREATED', 'ENDED'], rows).map((l) => `  ${l}`));
    }
    io.stdout.write(`${out.join('\n')}\n`);
    return EXIT.ok;
  });
}
