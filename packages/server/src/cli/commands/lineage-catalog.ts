import type { CliIo } from '../command.js';
import { EXIT, withServer, type ConnectionArgs } from '../client.js';

interface CatalogNode {
  id: string;
  type: 'signal' | 'workflow' | 'time_trigger';
  name?: string | null;
  workflow_id?: string;
  version?: number;
  trigger_type?: string;
  expression?: string;
  timezone?: string | null;
  disabled?: boolean;
}
interface Catalog {
  nodes: CatalogNode[];
  edges: Array<{ from: string; to: string; kind: string; steps?: string[] }>;
  focus: string | null;
  depth: number | null;
  truncated: boolean;
}

const steps = (e: { steps?: string[] }): string => (e.steps && e.steps.length > 0 ? ` (step${e.steps.length === 1 ? '' : 's'} ${e.steps.join(', ')})` : '');

function describe(n: CatalogNode | undefined, id: string): string {
  if (!n) return id;
  if (n.type === 'signal') return `signal ${n.name}`;
  if (n.type === 'workflow') return `workflow ${n.workflow_id}`;
  return `${String(n.trigger_type).toLowerCase()} "${n.expression}"${n.timezone ? ` ${n.timezone}` : ''}${n.disabled ? ' (disabled)' : ''}`;
}

/** Around a focus, an empty side may only be beyond the depth asked for. */
const none = (c: Catalog, whole: string): string => (c.focus ? '(none within depth)' : whole);

const INBOUND: Record<string, string> = { TRIGGERS: 'started by', UNBLOCKS: 'waits for', FIRES: 'fired by' };

/**
 * The catalog as text: each workflow with what feeds it (signals that start it, signals its steps
 * wait for, time triggers) and the signals it emits; then each signal with who emits and who
 * reads it.
 */
export function renderCatalog(c: Catalog): string[] {
  const byId = new Map(c.nodes.map((n) => [n.id, n]));
  const lines: string[] = [];
  if (c.focus) lines.push(`around ${describe(byId.get(c.focus), c.focus)}, ${c.depth} hop${c.depth === 1 ? '' : 's'} up- and downstream`, '');
  const workflows = c.nodes.filter((n) => n.type === 'workflow').sort((a, b) => a.id.localeCompare(b.id));
  for (const w of workflows) {
    lines.push(`workflow ${w.workflow_id}${w.name ? ` "${w.name}"` : ''} (version ${w.version})`);
    for (const e of c.edges.filter((x) => x.to === w.id)) lines.push(`  ← ${INBOUND[e.kind] ?? e.kind} ${describe(byId.get(e.from), e.from)}${steps(e)}`);
    for (const e of c.edges.filter((x) => x.from === w.id)) lines.push(`  → emits ${describe(byId.get(e.to), e.to)}${steps(e)}`);
  }
  const signals = c.nodes.filter((n) => n.type === 'signal').sort((a, b) => a.id.localeCompare(b.id));
  if (signals.length > 0) lines.push('', 'signals:');
  for (const s of signals) {
    const from = c.edges.filter((e) => e.to === s.id).map((e) => byId.get(e.from)?.workflow_id ?? e.from);
    const to = c.edges.filter((e) => e.from === s.id).map((e) => byId.get(e.to)?.workflow_id ?? e.to);
    lines.push(`  ${s.name}  from: ${from.length > 0 ? from.join(', ') : none(c, '(published from outside)')}  to: ${to.length > 0 ? to.join(', ') : none(c, '(nothing)')}`);
  }
  if (c.nodes.length === 0) lines.push('(no active workflow)');
  if (c.truncated) lines.push('(truncated: too many nodes; centre it with --workflow or --signal)');
  return lines;
}

/** `baton lineage catalog [--workflow W | --signal S] [--depth N] [--json]`. */
export async function showCatalog(io: CliIo, conn: ConnectionArgs, focus: { workflow?: string; signal?: string; depth?: number }): Promise<number> {
  return withServer(io, conn.json, async () => {
    const query: Record<string, string | number> = {};
    if (focus.workflow !== undefined) query.workflow = focus.workflow;
    if (focus.signal !== undefined) query.signal = focus.signal;
    if (focus.depth !== undefined) query.depth = focus.depth;
    const res = await conn.client.get('/api/v3/lineage/catalog', query);
    if (conn.json) {
      io.stdout.write(`${res.text}\n`);
      return EXIT.ok;
    }
    io.stdout.write(renderCatalog(res.body as Catalog).join('\n') + '\n');
    return EXIT.ok;
  });
}
