import { instanceInitiators, type Queryable } from '@baton/engine-core';

/** The fire of a time trigger that started a run: which trigger, its schedule, and when it fired. */
export interface TimeTriggerNode {
  id: string;
  type: 'time_trigger';
  workflow_id: string;
  /** The trigger's key within the workflow. */
  trigger: string;
  /** Cron expression or predefined (`@daily`) name. */
  expression: string;
  timezone: string;
  /** The scheduled fire instant, ISO-8601 UTC. */
  fire_time: string;
  /** True when the fire was missed (downtime) and started by the catch-up policy. */
  catch_up: boolean;
}

interface TimeInitiator {
  type: 'TIME';
  trigger: string;
  fire_time: string;
  timezone: string;
  expression: string;
  catch_up?: boolean;
}

function isTimeInitiator(v: unknown): v is TimeInitiator {
  if (typeof v !== 'object' || v === null) return false;
  const i = v as Record<string, unknown>;
  return i.type === 'TIME' && typeof i.trigger === 'string' && typeof i.fire_time === 'string' && typeof i.expression === 'string' && typeof i.timezone === 'string';
}

/** `time:<workflow>/<trigger>@<fire time>`: one node per fire, shared by nothing else. */
export const timeTriggerNodeId = (workflowId: string, trigger: string, fireTime: string): string => `time:${workflowId}/${trigger}@${fireTime}`;

type GraphNodeLike = { id: string; type: string; workflow_id?: string; workflow_instance_id?: string };

/**
 * Adds, for every workflow run in `graph` (a run node, or a step attempt of it) that a time
 * trigger started, the trigger's fire as a node and a FIRED edge to the run (whose node is added
 * when only its steps were there). The fire is read from the run's initiator (the engine records
 * it with the instance), so it needs no lineage row of its own.
 */
export async function addTimeTriggers(q: Queryable, graph: { nodes: GraphNodeLike[]; edges: { from: string; to: string; kind: string }[] }): Promise<void> {
  const runs = new Map<string, { workflowId: string; instanceId: string }>();
  for (const n of graph.nodes) {
    if ((n.type !== 'workflow_instance' && n.type !== 'step_attempt') || n.workflow_id === undefined || n.workflow_instance_id === undefined) continue;
    runs.set(`workflow:${n.workflow_id}/${n.workflow_instance_id}`, { workflowId: n.workflow_id, instanceId: n.workflow_instance_id });
  }
  if (runs.size === 0) return;
  const initiators = await instanceInitiators(q, [...runs.values()]);
  const present = new Set(graph.nodes.map((n) => n.id));
  for (const [runId, run] of runs) {
    const init = initiators.get(`${run.workflowId}/${run.instanceId}`);
    if (!isTimeInitiator(init)) continue;
    const id = timeTriggerNodeId(run.workflowId, init.trigger, init.fire_time);
    if (present.has(id)) continue;
    const node: TimeTriggerNode = {
      id,
      type: 'time_trigger',
      workflow_id: run.workflowId,
      trigger: init.trigger,
      expression: init.expression,
      timezone: init.timezone,
      fire_time: init.fire_time,
      catch_up: init.catch_up === true,
    };
    if (!present.has(runId)) {
      graph.nodes.push({ id: runId, type: 'workflow_instance', workflow_id: run.workflowId, workflow_instance_id: run.instanceId });
      present.add(runId);
    }
    graph.nodes.push(node);
    present.add(id);
    graph.edges.push({ from: id, to: runId, kind: 'FIRED' });
  }
}
