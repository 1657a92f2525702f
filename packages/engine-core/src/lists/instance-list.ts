import type { Queryable } from '../db/db.js';
import { toInstanceSummary, type InstanceSummary, type InstanceSummaryRow } from './instance-summary.js';
import { INSTANCE_STATUSES, type InstanceStatus } from '../runtime/status.js';
import { Conditions, decodeCursor, encodeCursor, ListFilterError, pageSize } from './cursor.js';

/** Who started an instance, as `initiator.type` says (lists filter on it, in any letter case). */
export const INITIATOR_KINDS = ['MANUAL', 'SIGNAL', 'TIME', 'SUBWORKFLOW'] as const;
export type InitiatorKind = (typeof INITIATOR_KINDS)[number];

export interface InstanceListQuery {
  /** Instances of these workflows only. */
  workflowIds?: readonly string[];
  /** The latest run's status is one of these. */
  statuses?: readonly InstanceStatus[];
  initiators?: readonly InitiatorKind[];
  /** Created at or after / before this instant (the latest run's create time). */
  since?: Date;
  until?: Date;
  /** The workflow (its properties or the instance's version) carries a tag with this name. */
  tag?: string;
  /**
   * `created` (default): newest first by the latest run's create time, paged by `cursor`.
   * `instance`: one workflow's instances by instance id, highest first, paged by `beforeInstanceId`
   * (the per-workflow list's integer cursor; instance ids only grow, so it is a keyset too).
   */
  order?: 'created' | 'instance';
  /** order `instance`: instances whose id is below this one. */
  beforeInstanceId?: number;
  /** 1..1000, default 50. */
  limit?: number;
  /** `nextCursor` of the previous page. */
  cursor?: string;
}

export interface InstanceListPage {
  items: InstanceSummary[];
  /** Absent on the last page. */
  nextCursor?: string;
  /** order `instance`: the `beforeInstanceId` of the next page; absent on the last page. */
  nextBeforeInstanceId?: number;
}

const CURSOR_KIND = 'i1';
// Microseconds since 1970 up to 16 digits (until the year 2286) and a bigint id: both within range.
const MICROS = /^\d{1,16}$/;
const ID = /^\d{1,18}$/;

/** A summary's columns, plus the keyset position the cursor is made of. */
interface Row extends InstanceSummaryRow {
  id: string | number;
  created_us: string;
}

/**
 * Workflow instances across workflows (the latest run of each), newest first by the latest run's
 * create time, then id. Loop iterations are not listed; subworkflow runs are. Pages are keyset
 * based, so instances created while a caller pages through never shift or repeat the rows that
 * existed at its first page (a restarted instance moves to the front: its new run is newer).
 */
export async function listInstancesAcross(db: Queryable, q: InstanceListQuery = {}): Promise<InstanceListPage> {
  const { sql, params, limit } = instanceListQuery(q);
  const res = await db.query<Row>(sql, params);
  const rows = res.rows.slice(0, limit);
  const items = rows.map(toInstanceSummary);
  const last = rows.at(-1);
  if (res.rows.length <= limit || !last) return { items };
  return q.order === 'instance' ? { items, nextBeforeInstanceId: Number(last.instance_id) } : { items, nextCursor: encodeCursor(CURSOR_KIND, [last.created_us, String(last.id)]) };
}

/** The SQL `listInstancesAcross` runs (one row more than the page size), for EXPLAIN in tests and benchmarks. */
export function instanceListQuery(q: InstanceListQuery): { sql: string; params: unknown[]; limit: number } {
  const limit = pageSize(q.limit);
  const c = new Conditions();
  c.add(`strpos(i.workflow_id, '#') = 0`);
  if (q.workflowIds?.length) c.add(q.workflowIds.length === 1 ? `i.workflow_id = ${c.param(q.workflowIds[0])}` : `i.workflow_id = ANY(${c.param(q.workflowIds)}::text[])`);
  for (const s of q.statuses ?? []) if (!(INSTANCE_STATUSES as readonly string[]).includes(s)) throw new ListFilterError('status', `"${s}" is not one of ${INSTANCE_STATUSES.join(', ')}`);
  const statuses = [...new Set(q.statuses ?? [])];
  const byInstance = q.order === 'instance';
  if (statuses.length > 0 && byInstance) c.add(statuses.length === 1 ? `i.status = ${c.param(statuses[0])}` : `i.status = ANY(${c.param(statuses)}::text[])`);
  if (q.initiators?.length) {
    for (const k of q.initiators) if (!(INITIATOR_KINDS as readonly string[]).includes(k)) throw new ListFilterError('initiator', `"${k}" is not one of ${INITIATOR_KINDS.join(', ')}`);
    c.add(`upper(i.initiator->>'type') = ANY(${c.param(q.initiators)}::text[])`);
  }
  if (q.since) c.add(`i.created_at >= ${c.param(q.since.toISOString())}::timestamptz`);
  if (q.until) c.add(`i.created_at < ${c.param(q.until.toISOString())}::timestamptz`);
  if (q.tag !== undefined) {
    const tag = c.param(JSON.stringify([{ name: q.tag }]));
    c.add(
      `EXISTS (SELECT 1 FROM baton_workflow_versions v JOIN baton_workflows w ON w.workflow_id = v.workflow_id
               WHERE v.workflow_id = i.workflow_id AND v.version = i.version
                 AND (v.definition->'tags' @> ${tag}::jsonb OR w.properties->'tags' @> ${tag}::jsonb))`,
    );
  }
  if (byInstance && q.workflowIds?.length !== 1) throw new Error('listing by instance id needs exactly one workflow');
  if (q.beforeInstanceId !== undefined) c.add(`i.instance_id < ${c.param(q.beforeInstanceId)}`);
  let after: { ts: string; id: string } | undefined;
  if (q.cursor !== undefined) {
    if (byInstance) throw new ListFilterError('cursor', 'this list pages by instance id');
    const [us, id] = decodeCursor(CURSOR_KIND, q.cursor, [MICROS, ID]);
    after = { ts: `to_timestamp(0) + ${c.param(us)}::bigint * interval '1 microsecond'`, id: `${c.param(id)}::bigint` };
    if (statuses.length === 0) c.add(`(i.created_at, i.id) < (${after.ts}, ${after.id})`);
  }
  // Only the latest run of each instance (one probe of the (workflow_id, instance_id, run_id) key).
  c.add(`NOT EXISTS (SELECT 1 FROM baton_workflow_instances n WHERE n.workflow_id = i.workflow_id AND n.instance_id = i.instance_id AND n.run_id > i.run_id)`);
  const select = `SELECT i.id, (extract(epoch FROM i.created_at) * 1000000)::bigint::text AS created_us, i.workflow_id, i.version, i.instance_id, i.run_id,
            i.status, i.request_id, i.initiator, i.reason, i.created_at, i.started_at, i.ended_at
       FROM baton_workflow_instances i`;
  const n = c.param(limit + 1);
  if (byInstance || statuses.length === 0) {
    const sql = `${select}
       ${c.sql()}
      ORDER BY ${byInstance ? 'i.instance_id DESC' : 'i.created_at DESC, i.id DESC'}
      LIMIT ${n}`;
    return { sql, params: c.params, limit };
  }
  // A status filter reads the (status, created_at, id) index from the page's start, one status at a
  // time, so that a page costs the same whatever other statuses sit in front of it. Left to itself
  // the planner may read the (created_at, id) index and filter by status instead: cheap by its
  // estimate while the status is common, but it then steps over every newer row of other statuses
  // (a backlog of 100,000 CREATED runs in front of the SUCCEEDED ones: 100,000 rows per page). So the
  // status is written as a range (>= and <=: estimated from its statistics as an equality would
  // be, but not a constant the planner can drop from the order) and the order names it first: only
  // the status index yields that order without sorting every row of the status.
  const branches = statuses.map((st) => {
    const p = c.param(st);
    const from = after ? ` AND (i.status, i.created_at, i.id) < (${p}, ${after.ts}, ${after.id})` : '';
    return `${select}
       ${c.sql()} AND i.status >= ${p} AND i.status <= ${p}${from}
      ORDER BY i.status DESC, i.created_at DESC, i.id DESC
      LIMIT ${n}`;
  });
  const sql = branches.length === 1 ? branches[0]! : `SELECT * FROM (${branches.map((b) => `(${b})`).join('\n      UNION ALL ')}) x ORDER BY x.created_at DESC, x.id DESC LIMIT ${n}`;
  return { sql, params: c.params, limit };
}

