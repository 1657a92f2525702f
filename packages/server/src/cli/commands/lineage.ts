import { UsageError, type CliIo, type Command } from '../command.js';
import { CONNECTION_HELP, EXIT, enc, parseCommand, requirePositionals, withServer, type ConnectionArgs } from '../client.js';

const HELP = [
  'Usage: baton lineage signal NAME SEQ|latest [--depth N]',
  '       baton lineage instance WORKFLOW IID [--depth N]',
  '       baton lineage catalog [--workflow ID | --signal NAME] [--depth N]',
  '',
  'signal:   what a signal instance triggered (workflow instances) and unblocked (steps), and what',
  '          those emitted, transitively downstream.',
  'instance: which signals started or unblocked a workflow instance, which steps emitted them, and',
  '          so on upstream; a run a time trigger started shows the fire (cron, zone, fire time).',
  'catalog:  across every active workflow, which signals start it or its steps wait for, which time',
  '          triggers fire it, and which signals its steps emit (from definitions, not runs); whole,',
  '          or around --workflow or --signal, --depth hops up- and downstream (default 2).',
  'signal and instance print a tree, catalog a list; --json prints the graph {nodes, edges}.',
  '',
  'Options:',
  '  --depth <n>        how many hops to follow, 1..20 (default 3; catalog 2)',
  '  --workflow <id>    catalog: centre on this workflow',
  '  --signal <name>    catalog: centre on this signal name',
  ...CONNECTION_HELP,
].join('\n');

interface Graph {
  nodes: Array<{ id: string }>;
  edges: Array<{ from: string; to: string; kind: string }>;
  truncated?: boolean;
}

export const lineageCommand: Command = {
  name: 'lineage',
  summary: 'show the lineage of a signal instance or a workflow instance',
  help: HELP,
  async run(args, io) {
    const { values, positionals, conn } = parseCommand(args, io, { depth: { type: 'string' }, workflow: { type: 'string' }, signal: { type: 'string' } });
    const [sub, ...rest] = positionals;
    const depth = values.depth === undefined ? 3 : Number(values.depth);
    if (!Number.isInteger(depth) || depth < 1 || depth > 20) throw new UsageError('--depth must be a whole number from 1 to 20');
    if (sub === 'catalog') {
      requirePositionals(rest, [], 'baton lineage catalog [--workflow ID | --signal NAME] [--depth N]');
      const workflow = values.workflow as string | undefined;
      const signal = values.signal as string | undefined;
      if (workflow !== undefined && signal !== undefined) throw new UsageError('give --workflow or --signal, not both');
      if (values.depth !== undefined && workflow === undefined && signal === undefined) throw new UsageError('--depth needs --workflow or --signal to centre on');
      const { showCatalog } = await import('./lineage-catalog.js');
      return showCatalog(io, conn, { workflow, signal, ...(values.depth !== undefined ? { depth } : {}) });
    }
    if (values.workflow !== undefined || values.signal !== undefined) throw new UsageError('--workflow and --signal go with lineage catalog');
    if (sub === 'signal') {
      const [name, seq] = requirePositionals(rest, ['NAME', 'SEQ'], 'baton lineage signal NAME SEQ|latest');
      if (!/^(latest|\d{1,19})$/.test(seq!)) throw new UsageError(`SEQ must be a seq id or latest, got "${seq}"`);
      return show(io, conn, `/api/v3/signals/${enc(name!)}/instances/${seq}/lineage`, depth, 'down');
    }
    if (sub === 'instance') {
      const [wf, iid] = requirePositionals(rest, ['WORKFLOW', 'IID'], 'baton lineage instance WORKFLOW IID');
      if (!/^[1-9]\d{0,15}$/.test(iid!)) throw new UsageError(`IID must be an instance number, got "${iid}"`);
      return show(io, conn, `/api/v3/workflows/${enc(wf!)}/instances/${iid}/lineage`, depth, 'up', `workflow:${wf}/${iid}`);
    }
    throw new UsageError(sub === undefined ? 'missing subcommand: signal, instance or catalog' : `unknown subcommand "${sub}": expected signal, instance or catalog`);
  },
};

async function show(io: CliIo, conn: ConnectionArgs, path: string, depth: number, direction: 'down' | 'up', rootId?: string): Promise<number> {
  return withServer(io, conn.json, async () => {
    const res = await conn.client.get(path, { depth });
    if (conn.json) {
      io.stdout.write(`${res.text}\n`);
      return EXIT.ok;
    }
    const graph = res.body as Graph;
    const root = rootId ?? graph.nodes[0]?.id;
    if (!root) {
      io.stdout.write('(no lineage)\n');
      return EXIT.ok;
    }
    io.stdout.write(renderTree(graph, root, direction).join('\n') + '\n');
    if (graph.truncated) io.stdout.write(`(truncated at depth ${depth})\n`);
    return EXIT.ok;
  });
}

/**
 * The graph as a tree from `root`: downstream follows edges forward (a workflow instance lists
 * its steps, which lead on to what they emitted); upstream follows them backward (a workflow
 * instance lists what triggered it and what unblocked its steps). A node seen before is marked.
 */
export function renderTree(graph: Graph, root: string, direction: 'down' | 'up'): string[] {
  const stepsOf = (id: string): string[] => {
    if (!id.startsWith('workflow:')) return [];
    const prefix = `step:${id.slice('workflow:'.length)}/`;
    return graph.nodes.map((n) => n.id).filter((n) => n.startsWith(prefix));
  };
  const next = (id: string): Array<{ label: string; id: string }> => {
    const out =
      direction === 'down'
        ? graph.edges.filter((e) => e.from === id).map((e) => ({ label: e.kind, id: e.to }))
        : graph.edges.filter((e) => e.to === id).map((e) => ({ label: `${e.kind} by`, id: e.from }));
    const steps = stepsOf(id).filter((s) => graph.edges.some((e) => (direction === 'down' ? e.from === s : e.to === s)));
    if (direction === 'down') return [...out, ...steps.map((s) => ({ label: 'STEP', id: s }))];
    // Upstream, a step's own lineage (what unblocked it) is shown under its workflow instance, and
    // a step that emitted a signal leads on to its run's time-trigger fire.
    if (id.startsWith('step:')) {
      const run = `workflow:${id.slice('step:'.length).split('/').slice(0, -2).join('/')}`;
      return [...out, ...graph.edges.filter((e) => e.to === run && e.kind === 'FIRED').map((e) => ({ label: 'FIRED by', id: e.from }))];
    }
    return [...out, ...steps.flatMap((s) => graph.edges.filter((e) => e.to === s).map((e) => ({ label: `${e.kind} ${s.slice('step:'.length)} by`, id: e.from })))];
  };
  const lines = [root];
  const seen = new Set([root]);
  const walk = (id: string, indent: string): void => {
    const kids = next(id);
    kids.forEach((k, i) => {
      const last = i === kids.length - 1;
      const again = seen.has(k.id);
      lines.push(`${indent}${last ? '└─' : '├─'} ${k.label} ${k.id}${again ? ' (see above)' : ''}`);
      if (again) return;
      seen.add(k.id);
      walk(k.id, `${indent}${last ? '   ' : '│  '}`);
    });
  };
  walk(root, '');
  return lines;
}
