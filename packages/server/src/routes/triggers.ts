import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { getVersion, type Db } from '@baton/engine-core';
import { PauseConflictError, UnknownTriggerError, type ActivationPreview, type Scheduler } from '@baton/scheduler';
import {
  activateSignalTriggersInTx,
  listSignalTriggers,
  pauseSignalTriggersInTx,
  SignalNotFoundError,
  TriggerPauseConflictError,
  type SignalActivation,
} from '@baton/signals';
import { decodeKeyCursor, encodeKeyCursor } from '../http/keyset-cursor.js';
import { ProblemError, ProblemTypes } from '../http/problem.js';
import { activationPreviewJson, activationPreviewSchema, scheduleItemJson, scheduleItemSchema, signalTriggerItemJson, signalTriggerItemSchema } from './trigger-json.js';
import { badRequest, doc, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';

export interface TriggerRoutesOptions {
  db: Db;
  scheduler: Scheduler;
}

type Kind = 'all' | 'time' | 'signal';
interface PauseBody {
  kind?: Kind;
  trigger_id?: string;
  reason?: string;
  dry_run?: boolean;
}
interface ListQuery {
  workflow_id?: string;
  paused?: 'true' | 'false';
  limit?: number;
  cursor?: string;
  signal?: string;
}

const STATE_LIMIT = 1000;

/**
 * Refuses keys the schema does not name (fastify would drop them silently): a misspelt `kind`
 * must not widen a pause to every trigger.
 */
function knownKeys(where: 'body' | 'querystring', properties: object): (request: FastifyRequest) => Promise<void> {
  const known = Object.keys(properties);
  return async (request) => {
    const given = where === 'body' ? request.body : request.query;
    if (given === null || typeof given !== 'object' || Array.isArray(given)) return;
    for (const key of Object.keys(given)) if (!known.includes(key)) throw badRequest(`${where}.${key}`, `is not a field of this request (known: ${known.join(', ')})`);
  };
}
const kindSchema = { type: 'string', enum: ['all', 'time', 'signal'], description: 'which triggers: time, signal or all (default all)' } as const;
const triggerIdSchema = { type: 'string', minLength: 1, maxLength: 256, description: 'one trigger, as the schedule or signal trigger list names it (needs kind time or signal)' } as const;
const listCommon = {
  workflow_id: workflowIdParam,
  paused: { type: 'string', enum: ['true', 'false'], description: 'only paused (true) or only unpaused (false) triggers' },
  limit: { type: 'integer', minimum: 1, maximum: 1000, description: 'page size (default 50)' },
  cursor: { type: 'string', minLength: 1, maxLength: 2000, description: 'the previous page\'s next_cursor' },
} as const;
const signalListFields = { ...listCommon, signal: { type: 'string', minLength: 1, maxLength: 512, description: 'only triggers fed by this signal name' } } as const;
const stateResponse = {
  workflow_id: { type: 'string' },
  changed: { type: 'boolean', description: 'false when nothing was (or, in a dry run, would be) paused or activated' },
  time_triggers: { type: 'array', items: scheduleItemSchema, description: "the workflow's time triggers afterwards" },
  signal_triggers: { type: 'array', items: signalTriggerItemSchema, description: "the workflow's signal triggers afterwards" },
} as const;

/**
 * Pausing and activating a workflow's triggers, and the trigger lists. The pause state lives with
 * each kind's firing (scheduler_pauses, signal_trigger_pauses) and both change in one transaction
 * that first takes the lock each firing path holds, so a fire claimed before the pause completes
 * and none is claimed after it commits.
 */
export const triggerRoutes: FastifyPluginAsync<TriggerRoutesOptions> = async (app, opts) => {
  const { db, scheduler } = opts;
  useExactJson(app);

  const requireWorkflow = async (id: string): Promise<void> => {
    if (!(await getVersion(db, id, 'latest'))) throw notFound(`workflow "${id}" does not exist`);
  };
  const kindsOf = (body: PauseBody): { time: boolean; signal: boolean } => {
    const kind = body.kind ?? 'all';
    if (body.trigger_id !== undefined && kind === 'all') throw badRequest('body.kind', 'must be time or signal when trigger_id is given');
    return { time: kind !== 'signal', signal: kind !== 'time' };
  };
  const state = async (workflowId: string) => ({
    time_triggers: (await scheduler.listPage({ workflowId, limit: STATE_LIMIT })).items.map(scheduleItemJson),
    signal_triggers: (await listSignalTriggers(db, { workflowId, limit: STATE_LIMIT })).items.map(signalTriggerItemJson),
  });
  const domainError = (err: unknown): never => {
    if (err instanceof UnknownTriggerError || err instanceof SignalNotFoundError) {
      throw new ProblemError(404, 'Not Found', err.message, { type: ProblemTypes.notFound, errors: [{ field: 'body.trigger_id', message: err.message }] });
    }
    if (err instanceof PauseConflictError || err instanceof TriggerPauseConflictError) throw new ProblemError(409, 'Conflict', err.message, { type: 'urn:baton:problem:conflict' });
    throw err;
  };
  const pauseFields = { kind: kindSchema, trigger_id: triggerIdSchema, reason: { type: 'string', maxLength: 1000, description: 'shown in the lists' } } as const;
  const activateFields = { kind: kindSchema, trigger_id: triggerIdSchema, dry_run: { type: 'boolean', description: 'only preview (default false)' } } as const;
  const bodySchema = (properties: object) => ({ type: 'object', properties, additionalProperties: false });
  const who = (request: FastifyRequest): string | undefined => request.apiToken?.name;

  app.post<{ Params: { id: string }; Body: PauseBody | undefined }>(
    '/api/v3/workflows/:id/triggers/pause',
    {
      schema: doc({
        summary: "Pause a workflow's time and signal triggers",
        description:
          'A paused trigger fires nothing until activated; a pause of all triggers of a kind also covers triggers later versions add. ' +
          'Fires claimed before the pause complete first (the call waits for them); none starts after it returns. Signals published while ' +
          'a signal trigger is paused never count for it. Idempotent. Deactivating a version is a different thing and works as before.',
        tags: ['triggers'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        body: bodySchema(pauseFields),
        response: { 200: { type: 'object', properties: stateResponse, required: ['workflow_id', 'changed', 'time_triggers', 'signal_triggers'] }, 400: problemSchema, 404: problemSchema },
      }),
      preValidation: knownKeys('body', pauseFields),
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body ?? {};
      const kinds = kindsOf(body);
      await requireWorkflow(id);
      const req = { workflowId: id, by: who(request), reason: body.reason };
      const changed = await db
        .tx(async (tx) => {
          // Signals first: the subscription generation before any schedule or engine row, the order
          // a match batch takes them in (it holds the generation while it starts runs).
          const s = kinds.signal ? await pauseSignalTriggersInTx(tx, { ...req, triggerId: body.trigger_id }) : false;
          const t = kinds.time ? await scheduler.pauseInTx(tx, { ...req, triggerKey: body.trigger_id }) : false;
          return t || s;
        })
        .catch(domainError);
      return { workflow_id: id, changed, ...(await state(id)) };
    },
  );

  app.post<{ Params: { id: string }; Body: PauseBody | undefined }>(
    '/api/v3/workflows/:id/triggers/activate',
    {
      schema: doc({
        summary: "Activate a workflow's paused triggers (with a preview of what fires)",
        description:
          "Time triggers continue from where they were paused: fire times that came due meanwhile follow each trigger's catch_up policy " +
          '(LATEST, the default: the latest one; ALL: up to max_runs; NONE: none). Signal triggers count signals published from now on; ' +
          'halves of joins collected before the pause can still complete. `preview` says what starts at once; with `dry_run` nothing changes.',
        tags: ['triggers'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        body: bodySchema(activateFields),
        response: {
          200: { type: 'object', properties: { ...stateResponse, dry_run: { type: 'boolean' }, preview: activationPreviewSchema }, required: ['workflow_id', 'changed', 'dry_run', 'preview', 'time_triggers', 'signal_triggers'] },
          400: problemSchema,
          404: problemSchema,
          409: problemSchema,
        },
      }),
      preValidation: knownKeys('body', activateFields),
    },
    async (request) => {
      const { id } = request.params;
      const body = request.body ?? {};
      const kinds = kindsOf(body);
      const dryRun = body.dry_run === true;
      await requireWorkflow(id);
      const result = await db
        .tx(async (tx) => {
          // Same lock order as pausing: the generation, then the schedule rows and the runs they start.
          const s: SignalActivation = kinds.signal ? await activateSignalTriggersInTx(tx, id, body.trigger_id, dryRun) : { changed: false, resumed: [] };
          const t = kinds.time ? await scheduler.activateInTx(tx, id, body.trigger_id, dryRun) : { changed: false, previews: [] as ActivationPreview[] };
          return { t, s };
        })
        .catch(domainError);
      if (!dryRun) scheduler.wake();
      return { workflow_id: id, changed: result.t.changed || result.s.changed, dry_run: dryRun, preview: activationPreviewJson(result.t.previews, result.s.resumed), ...(await state(id)) };
    },
  );

  const pagedResponse = (item: object) => ({
    200: { type: 'object', properties: { items: { type: 'array', items: item }, next_cursor: { type: 'string', description: 'absent on the last page' } }, required: ['items'] },
    400: problemSchema,
  });
  const paging = (q: ListQuery) => {
    const after = q.cursor === undefined ? undefined : decodeKeyCursor(q.cursor);
    return { limit: q.limit ?? 50, paused: q.paused === undefined ? undefined : q.paused === 'true', after };
  };

  app.get<{ Querystring: ListQuery }>(
    '/api/v3/schedules',
    {
      schema: doc({
        summary: 'Time triggers: next and last fire times (UTC and local), pause state',
        description: 'Ordered by workflow id, then trigger id. Pages with `cursor` = the previous `next_cursor`.',
        tags: ['triggers'],
        querystring: { type: 'object', properties: listCommon, additionalProperties: false },
        response: pagedResponse(scheduleItemSchema),
      }),
      preValidation: knownKeys('querystring', listCommon),
    },
    async (request) => {
      const q = request.query;
      const p = paging(q);
      const page = await scheduler.listPage({
        limit: p.limit,
        ...(q.workflow_id !== undefined ? { workflowId: q.workflow_id } : {}),
        ...(p.paused !== undefined ? { paused: p.paused } : {}),
        ...(p.after ? { after: { workflowId: p.after[0], triggerKey: p.after[1] } } : {}),
      });
      return { items: page.items.map(scheduleItemJson), ...(page.next ? { next_cursor: encodeKeyCursor([page.next.workflowId, page.next.triggerKey]) } : {}) };
    },
  );

  app.get<{ Querystring: ListQuery }>(
    '/api/v3/triggers/signals',
    {
      schema: doc({
        summary: 'Signal triggers: which signal names feed which workflows, with match params, join keys and pause state',
        description: 'Signal triggers of active versions, ordered by workflow id, then trigger id. Pages with `cursor` = the previous `next_cursor`.',
        tags: ['triggers'],
        querystring: { type: 'object', properties: signalListFields, additionalProperties: false },
        response: pagedResponse(signalTriggerItemSchema),
      }),
      preValidation: knownKeys('querystring', signalListFields),
    },
    async (request) => {
      const q = request.query;
      const p = paging(q);
      const page = await listSignalTriggers(db, {
        limit: p.limit,
        ...(q.workflow_id !== undefined ? { workflowId: q.workflow_id } : {}),
        ...(q.signal !== undefined ? { signal: q.signal } : {}),
        ...(p.paused !== undefined ? { paused: p.paused } : {}),
        ...(p.after ? { after: { workflowId: p.after[0], triggerId: p.after[1] } } : {}),
      });
      return { items: page.items.map(signalTriggerItemJson), ...(page.next ? { next_cursor: encodeKeyCursor([page.next.workflowId, page.next.triggerId]) } : {}) };
    },
  );
};
