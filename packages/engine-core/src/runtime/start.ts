import { randomUUID } from 'node:crypto';
import { PARAM_TYPES, type ParamType, type Workflow } from '../definition/model.js';
import { parseParamType } from '../params/typed-value.js';
import { runParamsFailure } from '../params/validators.js';
import type { Queryable } from '../db/db.js';
import { dispatchJob, type EngineContext, type ParamValidatorMode } from './context.js';
import type { VersionSelector } from './definitions.js';
import type { ExpressionPort } from './expressions.js';
import { encodeParams, toTypedValue, ParamEvaluationError, type EvaluatedParams } from './params.js';
import type { InstanceStatus } from './status.js';

export interface StartWorkflowRequest {
  workflowId: string;
  /** Default 'active'. */
  version?: VersionSelector;
  /** Run params by name: plain JSON values (typed by the definition, else inferred) or `{value, type}`. */
  params?: Record<string, unknown>;
  /** The same id never starts a second instance of the workflow; default a random UUID. */
  requestId?: string;
  /** Who or what started it (manual, signal trigger, time trigger...); stored as given. */
  initiator?: Record<string, unknown>;
}

export interface StartWorkflowResult {
  workflowId: string;
  version: number;
  workflowInstanceId: number;
  runId: number;
  status: InstanceStatus;
  /** True when the request id had already started an instance (this one is returned). */
  duplicate: boolean;
  requestId: string;
}

/** A start request the engine refuses (unknown workflow or version, bad params). */
export class StartError extends Error {
  constructor(
    readonly code: 'not_found' | 'invalid_params' | 'invalid_request',
    message: string,
  ) {
    super(message);
    this.name = 'StartError';
  }
}

export interface InstanceRow {
  id: number;
  version: number;
  instance_id: number;
  run_id: number;
  status: InstanceStatus;
}

class Duplicate extends Error {}

/** What a start needs of a workflow version: its number and its declared params. */
export interface StartDefinition {
  version: number;
  workflow: Pick<Workflow, 'params'>;
}

/** Where a start looks its definition up (the engine's version cache, or a batch's bulk read). */
export interface StartDefinitions {
  get(workflowId: string, version: VersionSelector, q?: Queryable): Promise<StartDefinition | undefined>;
}

/** A start request checked against its definition: what the single and the batch start record. */
export interface PreparedStart {
  workflowId: string;
  requestId: string;
  def: StartDefinition;
  runParams: EvaluatedParams;
  initiator: Record<string, unknown>;
}

/**
 * Checks a request and types its run params by the definition. `q` is the transaction to read the
 * definition in, when the start runs inside one (PGlite has a single connection).
 */
export async function prepareStart(ctx: { versions: StartDefinitions; sel?: ExpressionPort; paramValidators?: ParamValidatorMode }, req: StartWorkflowRequest, q?: Queryable): Promise<PreparedStart> {
  if (typeof req.workflowId !== 'string' || !req.workflowId) throw new StartError('invalid_request', 'workflowId is required');
  const requestId = req.requestId ?? randomUUID();
  if (typeof requestId !== 'string' || requestId.length === 0 || requestId.length > 512) {
    throw new StartError('invalid_request', 'requestId must be a non-empty string of at most 512 characters');
  }
  const selector = req.version ?? 'active';
  const def = await ctx.versions.get(req.workflowId, selector, q);
  if (!def) throw new StartError('not_found', `workflow ${req.workflowId} has no ${typeof selector === 'number' ? `version ${selector}` : `${selector} version`}`);
  const runParams = typeRunParams(req.params ?? {}, (name) => def.workflow.params[name]?.type);
  const invalid = ctx.paramValidators !== 'ignore' ? await runParamsFailure(ctx.sel, def.workflow.params, runParams) : undefined;
  if (invalid) throw new StartError('invalid_params', invalid);
  return { workflowId: req.workflowId, requestId, def, runParams, initiator: req.initiator ?? { type: 'MANUAL' } };
}

/**
 * Records a new instance in CREATED and hands it to the run-strategy dispatcher, in one
 * transaction. Exactly once per request id: starts of one workflow serialise on its counter row,
 * and the unique (workflow_id, request_id) key backs that up; a duplicate rolls its transaction
 * back (so instance ids stay gap-free) and returns the first instance.
 */
export async function startWorkflow(ctx: EngineContext, req: StartWorkflowRequest): Promise<StartWorkflowResult> {
  const { requestId, def, runParams } = await prepareStart(ctx, req);

  try {
    const row = await ctx.queue.tx(async (tx, outbox) => {
      // One statement: next instance id (the counter row's lock serialises starts of a workflow),
      // the instance (unless the request id exists: then nothing), and its first timeline entry.
      const ins = await tx.query<InstanceRow>(
        `WITH c AS (
           INSERT INTO baton_workflow_state (workflow_id, last_instance_id) VALUES ($1, 1)
           ON CONFLICT (workflow_id) DO UPDATE SET last_instance_id = baton_workflow_state.last_instance_id + 1
           RETURNING last_instance_id
         ), i AS (
           INSERT INTO baton_workflow_instances (workflow_id, version, instance_id, run_id, status, request_id, initiator, run_params)
           SELECT $1, $2, c.last_instance_id, 1, 'CREATED', $3, $4::jsonb, $5::jsonb FROM c
           ON CONFLICT (workflow_id, request_id) DO NOTHING
           RETURNING id, version, instance_id, run_id, status
         ), t AS (
           INSERT INTO baton_instance_timeline (instance_pk, from_status, to_status, message)
           SELECT id, NULL, 'CREATED', $6 FROM i
         ) SELECT * FROM i`,
        [req.workflowId, def.version, requestId, JSON.stringify(req.initiator ?? { type: 'MANUAL' }), encodeParams(runParams), `created by request ${requestId}`],
      );
      const inserted = ins.rows[0];
      // A duplicate: roll back, so the counter does not skip an instance id.
      if (!inserted) throw new Duplicate();
      await outbox.add(dispatchJob(req.workflowId));
      return inserted;
    });
    return startResult(req.workflowId, requestId, row, false);
  } catch (e) {
    if (!(e instanceof Duplicate) && (e as { code?: string }).code !== '23505') throw e;
    const first = await findByRequest(ctx, req.workflowId, requestId);
    if (!first) throw e;
    return startResult(req.workflowId, requestId, first, true);
  }
}

async function findByRequest(ctx: EngineContext, workflowId: string, requestId: string): Promise<InstanceRow | undefined> {
  const res = await ctx.db.query<InstanceRow>(
    'SELECT id, version, instance_id, run_id, status FROM baton_workflow_instances WHERE workflow_id = $1 AND request_id = $2',
    [workflowId, requestId],
  );
  return res.rows[0];
}

export function startResult(workflowId: string, requestId: string, row: InstanceRow, duplicate: boolean): StartWorkflowResult {
  return {
    workflowId,
    version: row.version,
    workflowInstanceId: Number(row.instance_id),
    runId: row.run_id,
    status: row.status,
    duplicate,
    requestId,
  };
}

function typeRunParams(given: Record<string, unknown>, declared: (name: string) => ParamType | undefined): EvaluatedParams {
  if (typeof given !== 'object' || given === null || Array.isArray(given)) throw new StartError('invalid_params', 'params must be an object of name → value');
  const out: EvaluatedParams = {};
  for (const [name, raw] of Object.entries(given)) {
    const explicit = raw && typeof raw === 'object' && !Array.isArray(raw) && 'value' in raw ? (raw as { value: unknown; type?: unknown }) : undefined;
    let type = declared(name);
    if (explicit?.type !== undefined) {
      type = typeof explicit.type === 'string' ? parseParamType(explicit.type) : undefined;
      if (!type) throw new StartError('invalid_params', `param ${name}: unknown param type ${JSON.stringify(explicit.type)}; use ${PARAM_TYPES.join(', ')}`);
    }
    try {
      Object.defineProperty(out, name, { value: toTypedValue(name, type, explicit ? explicit.value : raw), enumerable: true, writable: true, configurable: true });
    } catch (e) {
      throw new StartError('invalid_params', e instanceof ParamEvaluationError ? e.message : `param ${name}: ${(e as Error).message}`);
    }
  }
  return out;
}
