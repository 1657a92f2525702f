import type { Db, Queryable } from '../db/db.js';
import { MaestroReader } from '../definition/from-json.js';
import { Issues } from '../definition/issues.js';
import { parseJsonText } from '../definition/json-text.js';
import { storeDefinitions, type DefinitionSource, type VersionSelector } from './definitions.js';
import type { StartDefinition } from './start.js';

export interface VersionKey {
  workflowId: string;
  version: VersionSelector;
}

/**
 * A definition source that also answers, for many versions in one go, what a start needs of them
 * (number and declared params). A batch start of thousands of workflows (a scheduler minute, a
 * matcher batch) then costs one query and no full definition parse per workflow: on a busy
 * machine those round trips and parses were most of the batch's time.
 */
export interface BulkDefinitionSource extends DefinitionSource {
  /** Answers in key order; undefined where the workflow or version does not exist. */
  getStartDefinitions(keys: readonly VersionKey[], q?: Queryable): Promise<(StartDefinition | undefined)[]>;
}

export function isBulkSource(source: DefinitionSource): source is BulkDefinitionSource {
  return typeof (source as Partial<BulkDefinitionSource>).getStartDefinitions === 'function';
}

interface Row {
  ord: number;
  version: number;
  params: string | null;
}

/** The versions store (as `storeDefinitions`), answering batch starts in one query. */
export function bulkStoreDefinitions(db: Db | Queryable): BulkDefinitionSource {
  const single = storeDefinitions(db);
  return {
    getVersion: single.getVersion,
    async getStartDefinitions(keys, q) {
      if (keys.length === 0) return [];
      // Version numbers that cannot exist are not asked for (their answer stays undefined).
      const asked = keys.map((k, i) => ({ ...k, i })).filter((k) => typeof k.version !== 'number' || (Number.isInteger(k.version) && k.version >= 1));
      // One row per key: a number picks that version, 'active'/'latest' the workflow's pointer.
      // Params as text, so 64-bit defaults stay exact (as the store reads definitions).
      const res = await (q ?? db).query<Row>(
        `SELECT k.ord, v.version, (v.definition -> 'params')::text AS params
           FROM unnest($1::int[], $2::text[], $3::text[]) AS k(ord, wf, sel)
           JOIN baton_workflows w ON w.workflow_id = k.wf
           JOIN baton_workflow_versions v ON v.workflow_id = w.workflow_id
            AND v.version = CASE k.sel WHEN 'active' THEN w.active_version WHEN 'latest' THEN w.latest_version ELSE k.sel::int END`,
        [asked.map((k) => k.i), asked.map((k) => k.workflowId), asked.map((k) => String(k.version))],
      );
      const out: (StartDefinition | undefined)[] = keys.map(() => undefined);
      for (const r of res.rows) out[r.ord] = toStartDefinition(keys[r.ord]!.workflowId, r);
      return out;
    },
  };
}

/** Reads the params as the store reads a whole definition back (see `readDefinition` in definition/store.ts). */
function toStartDefinition(workflowId: string, row: Row): StartDefinition {
  const issues = new Issues();
  const params = new MaestroReader(issues, { allowUntypedExpressions: true }).params(row.params === null ? undefined : parseJsonText(row.params), 'workflow.params');
  if (!issues.empty) throw new Error(`stored definition ${workflowId} v${row.version} no longer parses: ${issues.list.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  return { version: row.version, workflow: { params } };
}
