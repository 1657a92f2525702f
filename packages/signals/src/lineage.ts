import type { Queryable } from '@baton/engine-core';
import type { LineageKind } from './lineage-write.js';
import { addTimeTriggers, type TimeTriggerNode } from './lineage-time.js';
import { markPurged, markPurgedRuns, type PurgedMark, type RunPurgedMark } from './tombstones.js';

export type LineageNode =
  | { id: string; type: 'signal'; name: string; seq_id: number | bigint; purged?: PurgedMark }
  | { id: string; type: 'workflow_instance'; workflow_id: string; workflow_instance_id: string; purged?: RunPurgedMark }
  | { id: string; type: 'step_attempt'; workflow_id: string; workflow_instance_id: string; step_id: string; attempt: number; purged?: RunPurgedMark }
  | TimeTriggerNode;

/** Recorded lineage edges, and FIRED: a time trigger's fire → the run it started. */
export type LineageEdgeKind = LineageKind | 'FIRED';

export interface LineageGraph {
  nodes: LineageNode[];
  edges: { from: string; to: string; kind: LineageEdgeKind }[];
  /** True when the edge limit cut the graph short. */
  truncated: boolean;
}

interface EdgeRow {
  kind: LineageKind;
  signal_name: string;
  seq_id: number | bigint;
  workflow_id: string;
  workflow_instance_id: string;
  step_id: string | null;
  attempt: number | null;
}

export const MAX_LINEAGE_DEPTH = 20;
const MAX_EDGES = 5000;

/** Node ids name what they are: `signal:db/orders#42`, `workflow:wf/7`, `step:wf/7/job.1/1`. */
export const signalNodeId = (name: string, seq: number | bigint): string => `signal:${name}#${seq}`;
const workflowNodeId = (wf: string, inst: string): string => `workflow:${wf}/${inst}`;
const stepNodeId = (wf: string, inst: string, step: string, attempt: number): string => `step:${wf}/${inst}/${step}/${attempt}`;

class GraphBuilder {
  readonly nodes = new Map<string, LineageNode>();
  readonly edges = new Map<string, { from: string; to: string; kind: LineageEdgeKind }>();
  truncated = false;

  signal(name: string, seq: number | bigint): string {
    const id = signalNodeId(name, seq);
    if (!this.nodes.has(id)) this.nodes.set(id, { id, type: 'signal', name, seq_id: seq });
    return id;
  }

  workflowEnd(r: EdgeRow): string {
    if (r.step_id === null || r.attempt === null) {
      const id = workflowNodeId(r.workflow_id, r.workflow_instance_id);
      if (!this.nodes.has(id)) this.nodes.set(id, { id, type: 'workflow_instance', workflow_id: r.workflow_id, workflow_instance_id: r.workflow_instance_id });
      return id;
    }
    const id = stepNodeId(r.workflow_id, r.workflow_instance_id, r.step_id, r.attempt);
    if (!this.nodes.has(id)) {
      this.nodes.set(id, { id, type: 'step_attempt', workflow_id: r.workflow_id, workflow_instance_id: r.workflow_instance_id, step_id: r.step_id, attempt: r.attempt });
    }
    return id;
  }

  add(r: EdgeRow): void {
    if (this.edges.size >= MAX_EDGES) {
      this.truncated = true;
      return;
    }
    const s = this.signal(r.signal_name, r.seq_id);
    const w = this.workflowEnd(r);
    const [from, to] = r.kind === 'EMITTED' ? [w, s] : [s, w];
    this.edges.set(`${from}>${to}>${r.kind}`, { from, to, kind: r.kind });
  }

  /** The graph; a signal node whose instance retention purged, and a run node whose run it purged, carry their tombstone (`purged`). */
  async result(q: Queryable): Promise<LineageGraph> {
    const nodes = [...this.nodes.values()];
    await markPurged(q, nodes);
    await markPurgedRuns(q, nodes);
    return { nodes, edges: [...this.edges.values()], truncated: this.truncated };
  }
}

const EDGE_COLUMNS = 'kind, signal_name, seq_id, workflow_id, workflow_instance_id, step_id, attempt';

async function edgesFromSignals(q: Queryable, signals: { name: string; seq: string }[], kinds: LineageKind[]): Promise<EdgeRow[]> {
  if (signals.length === 0) return [];
  const res = await q.query<EdgeRow>(
    `SELECT ${EDGE_COLUMNS} FROM signal_lineage l JOIN unnest($1::text[], $2::bigint[]) AS k(n, s) ON l.signal_name = k.n AND l.seq_id = k.s
     WHERE l.kind = ANY ($3::text[]) ORDER BY l.id LIMIT ${MAX_EDGES + 1}`,
    [signals.map((s) => s.name), signals.map((s) => s.seq), kinds],
  );
  return res.rows;
}

async function edgesFromWorkflows(q: Queryable, wfs: { wf: string; inst: string }[], kinds: LineageKind[]): Promise<EdgeRow[]> {
  if (wfs.length === 0) return [];
  const res = await q.query<EdgeRow>(
    `SELECT ${EDGE_COLUMNS} FROM signal_lineage l JOIN unnest($1::text[], $2::text[]) AS k(w, i) ON l.workflow_id = k.w AND l.workflow_instance_id = k.i
     WHERE l.kind = ANY ($3::text[]) ORDER BY l.id LIMIT ${MAX_EDGES + 1}`,
    [wfs.map((w) => w.wf), wfs.map((w) => w.inst), kinds],
  );
  return res.rows;
}

function checkDepth(depth: number): void {
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LINEAGE_DEPTH) throw new RangeError(`depth must be an integer from 1 to ${MAX_LINEAGE_DEPTH}`);
}

/**
 * What a signal instance triggered and unblocked, and transitively what those runs emitted and
 * what that triggered, up to `depth` signal → workflow hops.
 */
export async function downstreamOfSignal(q: Queryable, name: string, seq: number | bigint, depth: number): Promise<LineageGraph> {
  checkDepth(depth);
  const g = new GraphBuilder();
  g.signal(name, seq);
  const seenSignals = new Set([signalNodeId(name, seq)]);
  const seenWorkflows = new Set<string>();
  let frontier = [{ name, seq: seq.toString() }];
  for (let d = 0; d < depth && frontier.length > 0 && !g.truncated; d++) {
    const out = await edgesFromSignals(q, frontier, ['TRIGGERED', 'UNBLOCKED']);
    const wfs: { wf: string; inst: string }[] = [];
    for (const r of out) {
      g.add(r);
      const key = workflowNodeId(r.workflow_id, r.workflow_instance_id);
      if (!seenWorkflows.has(key)) {
        seenWorkflows.add(key);
        wfs.push({ wf: r.workflow_id, inst: r.workflow_instance_id });
      }
    }
    if (d + 1 >= depth) break;
    const emitted = await edgesFromWorkflows(q, wfs, ['EMITTED']);
    frontier = [];
    for (const r of emitted) {
      g.add(r);
      const id = signalNodeId(r.signal_name, r.seq_id);
      if (!seenSignals.has(id)) {
        seenSignals.add(id);
        frontier.push({ name: r.signal_name, seq: r.seq_id.toString() });
      }
    }
  }
  return g.result(q);
}

/**
 * Which signals a workflow instance consumed (triggered by, unblocked by) and emitted, and
 * transitively which runs emitted those signals, up to `depth` hops. A run a time trigger started
 * has that fire (cron expression, zone, fire time) as a node upstream of it.
 */
export async function upstreamOfWorkflow(q: Queryable, workflowId: string, workflowInstanceId: string | number | bigint, depth: number): Promise<LineageGraph> {
  checkDepth(depth);
  const g = new GraphBuilder();
  const start = { wf: workflowId, inst: workflowInstanceId.toString() };
  const root = workflowNodeId(start.wf, start.inst);
  g.nodes.set(root, { id: root, type: 'workflow_instance', workflow_id: start.wf, workflow_instance_id: start.inst });
  for (const r of await edgesFromWorkflows(q, [start], ['EMITTED'])) g.add(r);
  const seenWorkflows = new Set([root]);
  const seenSignals = new Set<string>();
  let frontier = [start];
  for (let d = 0; d < depth && frontier.length > 0 && !g.truncated; d++) {
    const inbound = await edgesFromWorkflows(q, frontier, ['TRIGGERED', 'UNBLOCKED']);
    const signals: { name: string; seq: string }[] = [];
    for (const r of inbound) {
      g.add(r);
      const id = signalNodeId(r.signal_name, r.seq_id);
      if (!seenSignals.has(id)) {
        seenSignals.add(id);
        signals.push({ name: r.signal_name, seq: r.seq_id.toString() });
      }
    }
    if (d + 1 >= depth) break;
    frontier = [];
    for (const r of await edgesFromSignals(q, signals, ['EMITTED'])) {
      g.add(r);
      const key = workflowNodeId(r.workflow_id, r.workflow_instance_id);
      if (!seenWorkflows.has(key)) {
        seenWorkflows.add(key);
        frontier.push({ wf: r.workflow_id, inst: r.workflow_instance_id });
      }
    }
  }
  const graph = await g.result(q);
  await addTimeTriggers(q, graph);
  return graph;
}
