import { createHash } from 'node:crypto';
import type { Db, Queryable } from '../db/db.js';
import { workflowLifecycle, type WorkflowEvent, type WorkflowEventKind, type WorkflowLifecycle } from './events.js';
import { DefinitionError } from './issues.js';
import { parseJsonText, stringifyJson } from './json-text.js';
import type { JsonObject, JsonValue, Properties, Workflow, WorkflowRequest } from './model.js';
import { MaestroReader, isObject } from './from-json.js';
import { propertiesToJson, workflowToJson } from './to-json.js';
import { validateWorkflow, type ValidateOptions } from './validate.js';
import { Issues } from './issues.js';

/** One stored version of a workflow, with the workflow's current state. */
export interface StoredVersion {
  workflowId: string;
  version: number;
  workflow: Workflow;
  /** The workflow's current properties (kept across versions). */
  properties: Properties;
  contentHash: string;
  createdAt: Date;
  /** Is this the active version? */
  active: boolean;
}

export interface PushResult {
  workflowId: string;
  /** The new version, or the latest one when the definition was unchanged. */
  version: number;
  created: boolean;
  /** The active version after the push (undefined when none is active). */
  activeVersion: number | undefined;
}

export interface StoreOptions {
  /** Where lifecycle events go after commit (default: the process-wide `workflowLifecycle`). */
  events?: WorkflowLifecycle;
}

export interface PushOptions extends StoreOptions {
  /** Validation settings (step limit, SEL compiler); validation always runs. */
  validate?: ValidateOptions;
}

export type VersionSelector = 'latest' | 'active' | number;

export class WorkflowNotFoundError extends Error {
  constructor(
    readonly workflowId: string,
    readonly selector?: VersionSelector,
  ) {
    super(selector === undefined ? `workflow "${workflowId}" does not exist` : `workflow "${workflowId}" has no ${typeof selector === 'number' ? `version ${selector}` : `${selector} version`}`);
    this.name = 'WorkflowNotFoundError';
  }
}

/** The hash that decides whether a push changes anything: sha256 of the canonical definition JSON. */
export function definitionHash(workflow: Workflow): string {
  return createHash('sha256').update(stringifyJson(workflowToJson(workflow), { sortKeys: true })).digest('hex');
}

interface WorkflowRow {
  properties: JsonValue;
  latest_version: number;
  active_version: number | null;
}

type PendingEvent = Omit<WorkflowEvent, 'seq' | 'createdAt'>;

async function record(tx: Queryable, e: PendingEvent): Promise<WorkflowEvent> {
  const res = await tx.query<{ seq: number | bigint | string; created_at: Date | string }>(
    `INSERT INTO baton_workflow_events (workflow_id, kind, version, previous_active_version)
     VALUES ($1, $2, $3, $4) RETURNING seq, created_at`,
    [e.workflowId, e.kind, e.version ?? null, e.previousActiveVersion ?? null],
  );
  const row = res.rows[0] as { seq: number | bigint | string; created_at: Date | string };
  return { ...e, seq: Number(row.seq), createdAt: new Date(row.created_at) };
}

function mergeProperties(current: JsonObject, given: Properties | undefined): JsonObject {
  if (!given) return current;
  return { ...current, ...propertiesToJson(given) };
}

function readProperties(raw: JsonValue): Properties {
  const issues = new Issues();
  const props = new MaestroReader(issues).properties(isObject(raw) ? raw : {}, 'properties');
  return props;
}

/**
 * The stored JSONB, read as text so 64-bit numbers stay exact. A stored definition was validated
 * at push, where YAML may declare an expression param without a type (it takes the type of its
 * SEL result), so reading it back allows that too.
 */
function readDefinition(text: string, workflowId: string, version: number): Workflow {
  const issues = new Issues();
  const wf = new MaestroReader(issues, { allowUntypedExpressions: true }).workflow(parseJsonText(text), 'workflow');
  if (!wf || !issues.empty) throw new Error(`stored definition ${workflowId} v${version} no longer parses: ${issues.list.map((i) => `${i.field}: ${i.message}`).join('; ')}`);
  return wf;
}

/**
 * Stores a pushed definition. Validates it (throws DefinitionError with every issue), then, under
 * the workflow row's lock: makes a new version unless the definition equals the latest one,
 * merges the given properties into the kept ones, and activates the pushed (or unchanged latest)
 * version unless `isActive` is false. Events go to subscribers after the commit.
 */
export async function pushWorkflow(db: Db, request: WorkflowRequest, opts: PushOptions = {}): Promise<PushResult> {
  const issues = validateWorkflow(request, opts.validate);
  if (issues.length > 0) throw new DefinitionError(issues);
  const workflowId = request.workflow.id;
  const definition = stringifyJson(workflowToJson(request.workflow));
  const hash = definitionHash(request.workflow);
  const activate = request.isActive !== false;

  const { result, events } = await db.tx(async (tx) => {
    await tx.query(`INSERT INTO baton_workflows (workflow_id, properties) VALUES ($1, $2::jsonb) ON CONFLICT (workflow_id) DO NOTHING`, [
      workflowId,
      stringifyJson(request.properties ? propertiesToJson(request.properties) : {}),
    ]);
    const locked = await tx.query<WorkflowRow>(
      'SELECT properties, latest_version, active_version FROM baton_workflows WHERE workflow_id = $1 FOR UPDATE',
      [workflowId],
    );
    const row = locked.rows[0] as WorkflowRow;
    const events: WorkflowEvent[] = [];
    const before = isObject(row.properties) ? row.properties : {};
    const properties = mergeProperties(before, request.properties);
    const propsText = stringifyJson(properties, { sortKeys: true });
    const propsChanged = row.latest_version > 0 && propsText !== stringifyJson(before, { sortKeys: true });

    let version = row.latest_version;
    let created = false;
    const latest = version > 0
      ? await tx.query<{ content_hash: string }>('SELECT content_hash FROM baton_workflow_versions WHERE workflow_id = $1 AND version = $2', [workflowId, version])
      : undefined;
    if (latest?.rows[0]?.content_hash !== hash) {
      version += 1;
      created = true;
      await tx.query(
        `INSERT INTO baton_workflow_versions (workflow_id, version, definition, properties, content_hash) VALUES ($1, $2, $3::jsonb, $4::jsonb, $5)`,
        [workflowId, version, definition, propsText, hash],
      );
      events.push(await record(tx, { kind: 'version_created', workflowId, version }));
    }
    const previous = row.active_version ?? undefined;
    const activeVersion = activate ? version : previous;
    await tx.query(
      `UPDATE baton_workflows SET properties = $2::jsonb, latest_version = $3, active_version = $4, updated_at = now() WHERE workflow_id = $1`,
      [workflowId, propsText, version, activeVersion ?? null],
    );
    if (propsChanged) events.push(await record(tx, { kind: 'properties_changed', workflowId }));
    if (activate && previous !== version) {
      const e: PendingEvent = { kind: 'activated', workflowId, version };
      if (previous !== undefined) e.previousActiveVersion = previous;
      events.push(await record(tx, e));
    }
    return { result: { workflowId, version, created, activeVersion }, events };
  });
  await (opts.events ?? workflowLifecycle).emit(events);
  return result;
}

interface VersionRow {
  version: number;
  definition: string;
  content_hash: string;
  created_at: Date | string;
  properties: JsonValue;
  active_version: number | null;
  latest_version: number;
}

async function selectVersion(q: Queryable, workflowId: string, selector: VersionSelector): Promise<VersionRow | undefined> {
  const which = selector === 'latest' ? 'w.latest_version' : selector === 'active' ? 'w.active_version' : '$2';
  const params: unknown[] = typeof selector === 'number' ? [workflowId, selector] : [workflowId];
  const res = await q.query<VersionRow>(
    `SELECT v.version, v.definition::text AS definition, v.content_hash, v.created_at, w.properties, w.active_version, w.latest_version
       FROM baton_workflows w JOIN baton_workflow_versions v ON v.workflow_id = w.workflow_id AND v.version = ${which}
      WHERE w.workflow_id = $1`,
    params,
  );
  return res.rows[0];
}

function toStored(workflowId: string, row: VersionRow): StoredVersion {
  return {
    workflowId,
    version: row.version,
    workflow: readDefinition(row.definition, workflowId, row.version),
    properties: readProperties(row.properties),
    contentHash: row.content_hash,
    createdAt: new Date(row.created_at),
    active: row.active_version === row.version,
  };
}

/** A version by number, or the latest or active one; undefined when there is none. */
export async function getVersion(db: Queryable, workflowId: string, selector: VersionSelector): Promise<StoredVersion | undefined> {
  if (typeof selector === 'number' && (!Number.isInteger(selector) || selector < 1)) return undefined;
  const row = await selectVersion(db, workflowId, selector);
  return row && toStored(workflowId, row);
}

/** Makes `version` the active one. Throws WorkflowNotFoundError when it does not exist. */
export async function activate(db: Db, workflowId: string, version: number, opts: StoreOptions = {}): Promise<void> {
  const events = await db.tx(async (tx) => {
    const row = (await tx.query<WorkflowRow>('SELECT properties, latest_version, active_version FROM baton_workflows WHERE workflow_id = $1 FOR UPDATE', [workflowId])).rows[0];
    if (!row) throw new WorkflowNotFoundError(workflowId);
    if (!Number.isInteger(version) || version < 1 || version > row.latest_version) throw new WorkflowNotFoundError(workflowId, version);
    if (row.active_version === version) return [];
    await tx.query('UPDATE baton_workflows SET active_version = $2, updated_at = now() WHERE workflow_id = $1', [workflowId, version]);
    const e: PendingEvent = { kind: 'activated', workflowId, version };
    if (row.active_version !== null) e.previousActiveVersion = row.active_version;
    return [await record(tx, e)];
  });
  await (opts.events ?? workflowLifecycle).emit(events);
}

/** No version is active afterwards: triggers stop starting the workflow. Idempotent. */
export async function deactivate(db: Db, workflowId: string, opts: StoreOptions = {}): Promise<void> {
  const events = await db.tx(async (tx) => {
    const row = (await tx.query<WorkflowRow>('SELECT properties, latest_version, active_version FROM baton_workflows WHERE workflow_id = $1 FOR UPDATE', [workflowId])).rows[0];
    if (!row) throw new WorkflowNotFoundError(workflowId);
    if (row.active_version === null) return [];
    await tx.query('UPDATE baton_workflows SET active_version = NULL, updated_at = now() WHERE workflow_id = $1', [workflowId]);
    return [await record(tx, { kind: 'deactivated', workflowId, version: row.active_version })];
  });
  await (opts.events ?? workflowLifecycle).emit(events);
}

/** Every workflow's active version: what the scheduler and signal triggers load when they start. */
export async function listActiveWorkflows(db: Queryable): Promise<StoredVersion[]> {
  const res = await db.query<VersionRow & { workflow_id: string }>(
    `SELECT w.workflow_id, v.version, v.definition::text AS definition, v.content_hash, v.created_at, w.properties, w.active_version, w.latest_version
       FROM baton_workflows w JOIN baton_workflow_versions v ON v.workflow_id = w.workflow_id AND v.version = w.active_version
      ORDER BY w.workflow_id`,
  );
  return res.rows.map((r) => toStored(r.workflow_id, r));
}

/**
 * What decides `listActiveWorkflows`: which version of which workflow is active, and its current
 * properties (versions themselves never change). The same text in both queries below, so a cache
 * of the list can be keyed by it: equal fingerprints, equal lists.
 */
const ACTIVE_FINGERPRINT = `md5(coalesce(string_agg(w.workflow_id || '@' || w.active_version || ':' || md5(w.properties::text), ',' ORDER BY w.workflow_id), ''))`;

/** A fingerprint of the active workflows (see ACTIVE_FINGERPRINT); reads no definition. */
export async function activeWorkflowsFingerprint(db: Queryable): Promise<string> {
  const res = await db.query<{ fp: string }>(`SELECT ${ACTIVE_FINGERPRINT} AS fp FROM baton_workflows w WHERE w.active_version IS NOT NULL`);
  return res.rows[0]!.fp;
}

/** An active version's key in a fingerprinted list: `workflow@version:md5(properties)`. */
export interface FingerprintedVersion {
  key: string;
  /** Absent for a key the caller already knows (its definition was not read). */
  version?: StoredVersion;
}

/**
 * `listActiveWorkflows` with its fingerprint, read in one statement (one snapshot of both). The
 * definitions of versions whose key is in `known` are not read (a caller keeping parsed versions
 * by key reads only what changed).
 */
export async function listActiveWorkflowsFingerprinted(db: Queryable, known: readonly string[] = []): Promise<{ fingerprint: string; versions: FingerprintedVersion[] }> {
  const res = await db.query<Omit<VersionRow, 'definition'> & { definition: string | null; workflow_id: string | null; key: string; fp: string }>(
    `WITH a AS (
       SELECT w.workflow_id, w.active_version, w.latest_version, w.properties, w.workflow_id || '@' || w.active_version || ':' || md5(w.properties::text) AS key
       FROM baton_workflows w WHERE w.active_version IS NOT NULL
     ), f AS (SELECT ${ACTIVE_FINGERPRINT} AS fp FROM baton_workflows w WHERE w.active_version IS NOT NULL)
     SELECT f.fp, r.* FROM f LEFT JOIN (
       SELECT a.key, a.workflow_id, v.version, CASE WHEN a.key = ANY($1::text[]) THEN NULL ELSE v.definition::text END AS definition,
              v.content_hash, v.created_at, a.properties, a.active_version, a.latest_version
         FROM a JOIN baton_workflow_versions v ON v.workflow_id = a.workflow_id AND v.version = a.active_version
     ) r ON true ORDER BY r.workflow_id`,
    [known],
  );
  const versions = res.rows
    .filter((r) => r.workflow_id !== null)
    .map((r): FingerprintedVersion => (r.definition === null ? { key: r.key } : { key: r.key, version: toStored(r.workflow_id!, { ...r, definition: r.definition }) }));
  return { fingerprint: res.rows[0]!.fp, versions };
}

/** Version numbers and creation times of a workflow, newest first. */
export async function listVersions(db: Queryable, workflowId: string): Promise<{ version: number; contentHash: string; createdAt: Date; active: boolean }[]> {
  const res = await db.query<{ version: number; content_hash: string; created_at: Date | string; active_version: number | null }>(
    `SELECT v.version, v.content_hash, v.created_at, w.active_version
       FROM baton_workflow_versions v JOIN baton_workflows w ON w.workflow_id = v.workflow_id
      WHERE v.workflow_id = $1 ORDER BY v.version DESC`,
    [workflowId],
  );
  return res.rows.map((r) => ({ version: r.version, contentHash: r.content_hash, createdAt: new Date(r.created_at), active: r.active_version === r.version }));
}

/** Lifecycle events after `afterSeq`, oldest first: how other processes follow changes. */
export async function listWorkflowEvents(db: Queryable, afterSeq = 0, limit = 1000): Promise<WorkflowEvent[]> {
  const res = await db.query<{ seq: number | bigint | string; workflow_id: string; kind: WorkflowEventKind; version: number | null; previous_active_version: number | null; created_at: Date | string }>(
    `SELECT seq, workflow_id, kind, version, previous_active_version, created_at FROM baton_workflow_events WHERE seq > $1 ORDER BY seq LIMIT $2`,
    [afterSeq, limit],
  );
  return res.rows.map((r) => {
    const e: WorkflowEvent = { seq: Number(r.seq), kind: r.kind, workflowId: r.workflow_id, createdAt: new Date(r.created_at) };
    if (r.version !== null) e.version = r.version;
    if (r.previous_active_version !== null) e.previousActiveVersion = r.previous_active_version;
    return e;
  });
}
