import { getVersion, INSTANCE_TERMINAL, type Db, type Step, type InstancePage, type InstanceStatus, type RunDetails, type StepAttemptDetails } from '@baton/engine-core';
import { addTimeTriggers, downstreamOfSignal, getInstance, upstreamOfWorkflow, type LineageGraph, type LineageNode } from '@baton/signals';

/** The engine's read API the pages use (an `Engine` has it). */
export interface RunReads {
  getRun(workflowId: string, instanceId: number, runId?: number): Promise<RunDetails | undefined>;
  getStepAttempt(workflowId: string, instanceId: number, stepId: string, opts?: { runId?: number; attemptId?: number }): Promise<StepAttemptDetails | undefined>;
  listInstances(workflowId: string, opts?: { limit?: number; before?: number; status?: InstanceStatus }): Promise<InstancePage>;
}

export interface GraphNodeView {
  id: string;
  kind: 'step' | 'signal' | 'workflow_instance' | 'step_attempt' | 'time_trigger';
  label: string;
  status?: string;
  /** A second line under the label (a time trigger's fire time). */
  sublabel?: string;
  /** Where a click re-centers the lineage view (query string values). */
  target?: { signal: string; seq: string } | { workflow: string; instance: string };
}

/** Nodes and edges; the page lays them out (dagre, in the browser: assets/graph.js). */
export interface GraphView {
  nodes: GraphNodeView[];
  edges: { from: string; to: string; kind: string; label?: string }[];
}

type NodeDraft = GraphNodeView;

function place(drafts: readonly NodeDraft[], edges: GraphView['edges']): GraphView {
  return { nodes: [...drafts], edges };
}

const iso = (d: Date | null): string | null => (d === null ? null : d.toISOString());

export interface InstanceView {
  workflow_id: string;
  workflow_name: string | null;
  version: number;
  instance_id: number;
  run_id: number;
  status: string;
  /** No further status change will come: the page stops polling. */
  terminal: boolean;
  reason: string | null;
  /** Who started the run (a time trigger's fire time and zone, a signal, a subworkflow step, a user…). */
  initiator: unknown;
  created_at: string;
  started_at: string | null;
  ended_at: string | null;
  rollup: Record<string, number>;
  steps: {
    step_id: string;
    /** step, foreach, while or subworkflow (null when the definition is gone). */
    kind: string | null;
    status: string;
    attempt_id: number | null;
    reason: string | null;
    started_at: string | null;
    ended_at: string | null;
    subworkflow: { workflow_id: string; instance_id: number; status: string | null } | null;
  }[];
  /** The subworkflow or loop step that started this run. */
  parent: { kind: string; workflow_id: string; instance_id: number; run_id: number; step_id: string; iteration: number | null } | null;
  timeline: { at: string; from: string | null; to: string | null; message: string }[];
  graph: GraphView;
}

/** A workflow run with its step DAG laid out and coloured by step status. */
export async function instanceView(db: Db, runs: RunReads, workflowId: string, instanceId: number, runId?: number): Promise<InstanceView | undefined> {
  const run = await runs.getRun(workflowId, instanceId, runId);
  if (!run) return undefined;
  const steps = await definedSteps(db, workflowId, run.version);
  const version = steps.name === undefined ? undefined : { workflow: { name: steps.name, steps: steps.steps } };
  const kinds = new Map(steps.steps.map((s) => [s.id, s.kind]));
  const status = new Map(run.steps.map((s) => [s.stepId, s.status]));
  const drafts: NodeDraft[] = run.steps.map((s) => ({ id: s.stepId, kind: 'step', label: s.stepId, status: s.status }));
  const edges: GraphView['edges'] = [];
  for (const step of version?.workflow.steps ?? []) {
    if (!status.has(step.id)) drafts.push({ id: step.id, kind: 'step', label: step.id, status: 'NOT_CREATED' });
    for (const [to, condition] of Object.entries(step.transition.successors)) {
      edges.push(condition.trim() === 'true' ? { from: step.id, to, kind: 'transition' } : { from: step.id, to, kind: 'transition', label: condition });
    }
  }
  return {
    workflow_id: run.workflowId,
    workflow_name: version?.workflow.name ?? null,
    version: run.version,
    instance_id: run.instanceId,
    run_id: run.runId,
    status: run.status,
    terminal: INSTANCE_TERMINAL.has(run.status),
    reason: run.reason,
    initiator: run.initiator,
    created_at: run.createdAt.toISOString(),
    started_at: iso(run.startedAt),
    ended_at: iso(run.endedAt),
    rollup: run.rollup as Record<string, number>,
    steps: run.steps.map((s) => ({
      step_id: s.stepId,
      kind: kinds.get(s.stepId) ?? null,
      status: s.status,
      attempt_id: s.attemptId,
      reason: s.reason,
      started_at: iso(s.startedAt),
      ended_at: iso(s.endedAt),
      subworkflow: s.subworkflow ? { workflow_id: s.subworkflow.workflowId, instance_id: s.subworkflow.instanceId, status: s.subworkflow.status } : null,
    })),
    parent: run.parent ? { kind: run.parent.kind, workflow_id: run.parent.workflowId, instance_id: run.parent.instanceId, run_id: run.parent.runId, step_id: run.parent.stepId, iteration: run.parent.iteration } : null,
    timeline: run.timeline.map((t) => ({ at: t.at.toISOString(), from: t.from, to: t.to, message: t.message })),
    graph: place(drafts, edges),
  };
}

/**
 * The steps of a workflow version; for a loop iteration's inline workflow (`<workflow>#<loop>…`)
 * the loop's inner steps. `name` is null for an inline workflow, undefined when nothing is found.
 */
async function definedSteps(db: Db, workflowId: string, version: number): Promise<{ name: string | null | undefined; steps: readonly Step[] }> {
  const [root, ...path] = workflowId.split('#');
  const stored = await getVersion(db, root!, version);
  if (!stored) return { name: undefined, steps: [] };
  let steps: readonly Step[] = stored.workflow.steps;
  for (const id of path) {
    const loop = steps.find((s) => s.id === id);
    if (!loop || (loop.kind !== 'foreach' && loop.kind !== 'while')) return { name: undefined, steps: [] };
    steps = loop.steps;
  }
  return { name: path.length ? null : (stored.workflow.name ?? null), steps };
}

export type LineageCenter = { signal: string; seq: number | bigint | 'latest' } | { workflow: string; instance: number };

export interface LineageView {
  /** Id of the node the view is centered on. */
  center: string;
  graph: GraphView;
  truncated: boolean;
}

/** How far the view reaches from its center, in signal → run hops. */
const LINEAGE_DEPTH = 2;
/** Runs whose status the view looks up; beyond that their nodes show no status. */
const MAX_STATUS_LOOKUPS = 50;

/**
 * The lineage around a signal instance (who emitted it, what it triggered and unblocked, and on)
 * or a workflow run (what triggered and unblocked it, what it emitted and what that started), with
 * each step attempt tied to its run so the page reads signal → run → step → emitted signal.
 * Throws `SignalNotFoundError` for an unknown signal instance.
 */
export async function lineageView(db: Db, runs: RunReads, center: LineageCenter): Promise<LineageView> {
  const graphs: LineageGraph[] = [];
  let centerId: string;
  if ('signal' in center) {
    const inst = await getInstance(db, center.signal, center.seq);
    centerId = `signal:${inst.name}#${inst.seq_id}`;
    graphs.push(await downstreamOfSignal(db, inst.name, inst.seq_id, LINEAGE_DEPTH));
    const emitter = stepOutputSource(inst.source);
    if (emitter) graphs.push(await upstreamOfWorkflow(db, emitter.workflow, emitter.instance, 1));
  } else {
    centerId = `workflow:${center.workflow}/${center.instance}`;
    const up = await upstreamOfWorkflow(db, center.workflow, center.instance, LINEAGE_DEPTH);
    graphs.push(up);
    for (const n of up.nodes) {
      if (n.type === 'signal' && up.edges.some((e) => e.to === n.id && e.kind === 'EMITTED' && e.from.startsWith(`step:${center.workflow}/${center.instance}/`))) {
        graphs.push(await downstreamOfSignal(db, n.name, n.seq_id, 1));
      }
    }
  }

  const nodes = new Map<string, LineageNode>();
  const edges = new Map<string, GraphView['edges'][number]>();
  for (const g of graphs) {
    for (const n of g.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
    for (const e of g.edges) edges.set(`${e.from}>${e.to}`, { from: e.from, to: e.to, kind: e.kind });
  }
  // Step attempts hang off their run, which may not be in the graph yet.
  for (const n of [...nodes.values()]) {
    if (n.type !== 'step_attempt') continue;
    const runId = `workflow:${n.workflow_id}/${n.workflow_instance_id}`;
    if (!nodes.has(runId)) nodes.set(runId, { id: runId, type: 'workflow_instance', workflow_id: n.workflow_id, workflow_instance_id: n.workflow_instance_id });
    edges.set(`${runId}>${n.id}`, { from: runId, to: n.id, kind: 'CONTAINS' });
  }
  // The time trigger fire that started a run is upstream of it.
  const fires: LineageGraph = { nodes: [...nodes.values()].filter((n) => n.type === 'workflow_instance'), edges: [], truncated: false };
  await addTimeTriggers(db, fires);
  for (const n of fires.nodes) if (!nodes.has(n.id)) nodes.set(n.id, n);
  for (const e of fires.edges) edges.set(`${e.from}>${e.to}`, { from: e.from, to: e.to, kind: e.kind });

  const statuses = new Map<string, string>();
  const runNodes = [...nodes.values()].filter((n) => n.type === 'workflow_instance').slice(0, MAX_STATUS_LOOKUPS);
  await Promise.all(
    runNodes.map(async (n) => {
      const iid = Number(n.workflow_instance_id);
      if (!Number.isSafeInteger(iid)) return;
      const run = await runs.getRun(n.workflow_id, iid);
      if (run) statuses.set(n.id, run.status);
    }),
  );

  const drafts: NodeDraft[] = [...nodes.values()].map((n) => {
    switch (n.type) {
      case 'signal':
        return { id: n.id, kind: 'signal', label: `${n.name} #${n.seq_id}`, target: { signal: n.name, seq: String(n.seq_id) } };
      case 'workflow_instance': {
        const status = statuses.get(n.id);
        const d: NodeDraft = { id: n.id, kind: 'workflow_instance', label: `${n.workflow_id} #${n.workflow_instance_id}`, target: { workflow: n.workflow_id, instance: n.workflow_instance_id } };
        if (status !== undefined) d.status = status;
        return d;
      }
      case 'step_attempt':
        return { id: n.id, kind: 'step_attempt', label: `${n.step_id} (attempt ${n.attempt})`, target: { workflow: n.workflow_id, instance: n.workflow_instance_id } };
      case 'time_trigger':
        return { id: n.id, kind: 'time_trigger', label: `${n.expression} (${n.timezone})`, sublabel: `fired ${n.fire_time}${n.catch_up ? ' (catch-up)' : ''}` };
    }
  });
  return { center: centerId, graph: place(drafts, [...edges.values()]), truncated: graphs.some((g) => g.truncated) };
}

/** The run that emitted a signal, from the source a step output records. */
function stepOutputSource(source: unknown): { workflow: string; instance: string } | undefined {
  if (typeof source !== 'object' || source === null) return undefined;
  const s = source as Record<string, unknown>;
  if (s.type !== 'STEP_OUTPUT' || typeof s.workflow_id !== 'string' || (typeof s.workflow_instance_id !== 'string' && typeof s.workflow_instance_id !== 'number')) return undefined;
  return { workflow: s.workflow_id, instance: String(s.workflow_instance_id) };
}
