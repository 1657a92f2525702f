import type { Queryable } from '../db/db.js';
import { INSTANCE_STATUSES, type InstanceStatus } from '../runtime/status.js';
import { Conditions, decodeCursor, encodeCursor, likeLiteral, ListFilterError, pageSize } from './cursor.js';

export const TRIGGER_KINDS = ['time', 'signal'] as const;
export type TriggerKind = (typeof TRIGGER_KINDS)[number];

export interface WorkflowListQuery {
  /** Case-insensitive substring of the id, name or description. */
  text?: string;
  /** `properties.owner` equals this. */
  owner?: string;
  /** The workflow's properties or its shown version carry a tag with this name. */
  tag?: string;
  /** The shown version has at least one trigger of this kind. */
  trigger?: TriggerKind;
  /** The latest instance's status is one of these (workflows never run are left out). */
  lastStatuses?: readonly InstanceStatus[];
  /** Only these workflows (a filter other packages' read models compute, e.g. paused triggers). */
  onlyWorkflowIds?: readonly string[];
  /** None of these workflows. */
  exceptWorkflowIds?: readonly string[];
  /** 1..1000, default 50. */
  limit?: number;
  cursor?: string;
}

export interface WorkflowLastRun {
  instanceId: number;
  runId: number;
  status: InstanceStatus;
  createdAt: Date;
  endedAt: Date | null;
}

/**
 * One workflow in a list. Name, description, tags and triggers are those of the shown version:
 * the active one, or the latest when none is active.
 */
export interface WorkflowListItem {
  workflowId: string;
  name: string | null;
  description: string | null;
  activeVersion: number | null;
  latestVersion: number;
  owner: string | null;
  /** Tag names: the workflow's properties' tags, then the shown version's. */
  tags: string[];
  triggerKinds: TriggerKind[];
  lastRun: WorkflowLastRun | null;
  createdAt: Date;
  updatedAt: Date;
}

export interface WorkflowListPage {
  items: WorkflowListItem[];
  nextCursor?: string;
}

const CURSOR_KIND = 'w1';

interface Row {
  workflow_id: string;
  properties: Record<string, unknown> | null;
  latest_version: number;
  active_version: number | null;
  created_at: Date | string;
  updated_at: Date | string;
  name: string | null;
  description: string | null;
  def_tags: unknown;
  has_time: boolean;
  has_signal: boolean;
  last_instance_id: string | number | null;
  last_run_id: number | null;
  last_status: InstanceStatus | null;
  last_created_at: Date | string | null;
  last_ended_at: Date | string | null;
}

const nonEmptyArray = (expr: string) => `(jsonb_typeof(${expr}) = 'array' AND jsonb_array_length(${expr}) > 0)`;

/** Stored workflows (loop bodies left out) in id order, with their latest instance. */
export async function listWorkflows(db: Queryable, q: WorkflowListQuery = {}): Promise<WorkflowListPage> {
  const limit = pageSize(q.limit);
  const c = new Conditions();
  c.add(`strpos(w.workflow_id, '#') = 0`);
  if (q.text !== undefined && q.text !== '') {
    const p = c.param(`%${likeLiteral(q.text)}%`);
    c.add(`(w.workflow_id ILIKE ${p} OR COALESCE(v.definition->>'name', '') ILIKE ${p} OR COALESCE(v.definition->>'description', '') ILIKE ${p})`);
  }
  // An owner given as an object ({name, ...}) is matched by its name.
  if (q.owner !== undefined) c.add(`COALESCE(w.properties->'owner'->>'name', w.properties->>'owner') = ${c.param(q.owner)}`);
  if (q.tag !== undefined) {
    const tag = c.param(JSON.stringify([{ name: q.tag }]));
    c.add(`(w.properties->'tags' @> ${tag}::jsonb OR v.definition->'tags' @> ${tag}::jsonb)`);
  }
  if (q.trigger !== undefined) {
    if (!(TRIGGER_KINDS as readonly string[]).includes(q.trigger)) throw new ListFilterError('trigger', `"${q.trigger}" is not one of ${TRIGGER_KINDS.join(', ')}`);
    c.add(nonEmptyArray(`v.definition->'${q.trigger}_triggers'`));
  }
  if (q.lastStatuses?.length) {
    for (const s of q.lastStatuses) if (!(INSTANCE_STATUSES as readonly string[]).includes(s)) throw new ListFilterError('last_status', `"${s}" is not one of ${INSTANCE_STATUSES.join(', ')}`);
    c.add(`l.status = ANY(${c.param(q.lastStatuses)}::text[])`);
  }
  if (q.onlyWorkflowIds !== undefined) c.add(`w.workflow_id = ANY(${c.param(q.onlyWorkflowIds)}::text[])`);
  if (q.exceptWorkflowIds?.length) c.add(`NOT (w.workflow_id = ANY(${c.param(q.exceptWorkflowIds)}::text[]))`);
  if (q.cursor !== undefined) {
    const [after] = decodeCursor(CURSOR_KIND, q.cursor, [/^\P{Cc}{1,256}$/u]);
    c.add(`w.workflow_id > ${c.param(after)}`);
  }
  const res = await db.query<Row>(
    `SELECT w.workflow_id, w.properties, w.latest_version, w.active_version, w.created_at, w.updated_at,
            v.definition->>'name' AS name, v.definition->>'description' AS description, v.definition->'tags' AS def_tags,
            ${nonEmptyArray(`v.definition->'time_triggers'`)} AS has_time, ${nonEmptyArray(`v.definition->'signal_triggers'`)} AS has_signal,
            l.instance_id AS last_instance_id, l.run_id AS last_run_id, l.status AS last_status, l.created_at AS last_created_at, l.ended_at AS last_ended_at
       FROM baton_workflows w
       JOIN baton_workflow_versions v ON v.workflow_id = w.workflow_id AND v.version = COALESCE(w.active_version, w.latest_version)
       LEFT JOIN LATERAL (
         SELECT i.instance_id, i.run_id, i.status, i.created_at, i.ended_at FROM baton_workflow_instances i
          WHERE i.workflow_id = w.workflow_id ORDER BY i.instance_id DESC, i.run_id DESC LIMIT 1
       ) l ON true
      ${c.sql()}
      ORDER BY w.workflow_id
      LIMIT ${c.param(limit + 1)}`,
    c.params,
  );
  const items = res.rows.slice(0, limit).map(toItem);
  const last = items.at(-1);
  return res.rows.length > limit && last ? { items, nextCursor: encodeCursor(CURSOR_KIND, [last.workflowId]) } : { items };
}

function tagNames(v: unknown): string[] {
  if (!Array.isArray(v)) return [];
  return v.flatMap((t) => (typeof t === 'string' ? [t] : t && typeof t === 'object' && typeof (t as { name?: unknown }).name === 'string' ? [(t as { name: string }).name] : []));
}

function toItem(r: Row): WorkflowListItem {
  const props = r.properties ?? {};
  const o = props.owner as unknown;
  const named = o && typeof o === 'object' ? (o as { name?: unknown }).name : o;
  const owner = typeof named === 'string' ? named : null;
  return {
    workflowId: r.workflow_id,
    name: r.name,
    description: r.description,
    activeVersion: r.active_version,
    latestVersion: r.latest_version,
    owner,
    tags: [...new Set([...tagNames(props.tags), ...tagNames(r.def_tags)])],
    triggerKinds: [...(r.has_time ? (['time'] as const) : []), ...(r.has_signal ? (['signal'] as const) : [])],
    lastRun:
      r.last_status === null
        ? null
        : { instanceId: Number(r.last_instance_id), runId: r.last_run_id!, status: r.last_status, createdAt: new Date(r.last_created_at!), endedAt: r.last_ended_at == null ? null : new Date(r.last_ended_at) },
    createdAt: new Date(r.created_at),
    updatedAt: new Date(r.updated_at),
  };
}
