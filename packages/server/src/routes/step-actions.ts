import type { FastifyPluginAsync } from 'fastify';
import { getVersion, STEP_ACTIONS, StepActionError, type Breakpoint, type BreakpointScope, type Engine, type Db, type StepAction } from '@baton/engine-core';
import { ProblemError } from '../http/problem.js';
import { rejectUnknown } from './workflows.js';
import { actionReason, attemptKeyProperties, reasonBody, runKeyRequired, stepIdParam, type ReasonBody } from './instance-actions.js';
import { badRequest, doc, instanceIdParam, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';

export interface StepActionRoutesOptions {
  db: Db;
  engine: Engine;
}

const positive = (what: string) => ({ type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: what }) as const;
// Versions, runs and attempts are 32-bit in the database: a larger number can match nothing.
const positive32 = (what: string) => ({ type: 'integer', minimum: 1, maximum: 2_147_483_647, description: what }) as const;
const scopeProperties = {
  workflow_version_id: positive32('only this workflow version'),
  workflow_instance_id: positive('only this instance (for a step in a loop: of the top-level instance)'),
  workflow_run_id: positive32('only this run'),
  step_attempt_id: positive32('only this attempt of the step'),
} as const;
const SCOPE_KEYS = Object.keys(scopeProperties);
type ScopeJson = { workflow_version_id?: number; workflow_instance_id?: number; workflow_run_id?: number; step_attempt_id?: number };

const breakpointJson = {
  type: 'object',
  properties: {
    id: { type: 'integer' },
    workflow_id: { type: 'string' },
    step_id: { type: 'string' },
    ...scopeProperties,
    paused_attempts: { type: 'integer', description: 'attempts this breakpoint holds right now' },
    created_by: {},
    create_time: { type: 'string', format: 'date-time' },
  },
  required: ['id', 'workflow_id', 'step_id', 'paused_attempts'],
} as const;

const ACTION_TEXT: Record<StepAction, string> = {
  resume: 'lets a step attempt paused at a breakpoint run (only that attempt)',
  skip: 'ends a step that has not ended as SKIPPED (aborting it if it runs); the DAG goes on as if it had succeeded, its outgoing conditions evaluated (one that cannot be evaluated counts as false)',
  stop: 'ends a step that has not ended as STOPPED (aborting it if it runs); the instance ends STOPPED once nothing else runs',
  kill: 'ends a step that has not ended as FATALLY_FAILED, never retried (aborting it if it runs); the instance fails per the step\'s failure mode',
};

function toScope(q: ScopeJson): BreakpointScope | undefined {
  const scope: BreakpointScope = {};
  if (q.workflow_version_id !== undefined) scope.version = q.workflow_version_id;
  if (q.workflow_instance_id !== undefined) scope.instanceId = q.workflow_instance_id;
  if (q.workflow_run_id !== undefined) scope.runId = q.workflow_run_id;
  if (q.step_attempt_id !== undefined) scope.attemptId = q.step_attempt_id;
  return Object.keys(scope).length ? scope : undefined;
}

function breakpointOut(b: Breakpoint) {
  return {
    id: b.id,
    workflow_id: b.workflowId,
    step_id: b.stepId,
    ...(b.version !== undefined ? { workflow_version_id: b.version } : {}),
    ...(b.instanceId !== undefined ? { workflow_instance_id: b.instanceId } : {}),
    ...(b.runId !== undefined ? { workflow_run_id: b.runId } : {}),
    ...(b.attemptId !== undefined ? { step_attempt_id: b.attemptId } : {}),
    paused_attempts: b.paused,
    created_by: b.createdBy,
    create_time: b.createdAt,
  };
}

function problemOf(err: unknown): unknown {
  if (!(err instanceof StepActionError)) return err;
  if (err.code === 'not_found') return notFound(err.message);
  if (err.code === 'conflict') return new ProblemError(409, 'Conflict', err.message);
  return badRequest('body', err.message);
}

/**
 * Step actions on a running instance (resume, skip, stop, kill) and breakpoints: a step attempt of
 * a matching instance pauses before it runs until resumed; deleting the breakpoint resumes all.
 */
export const stepActionRoutes: FastifyPluginAsync<StepActionRoutesOptions> = async (app, opts) => {
  const { db, engine } = opts;
  useExactJson(app);

  const requireWorkflow = async (id: string): Promise<void> => {
    if (!(await getVersion(db, id, 'latest'))) throw notFound(`workflow "${id}" does not exist`);
  };

  app.get<{ Params: { id: string } }>(
    '/api/v3/workflows/:id/breakpoints',
    {
      schema: doc({
        summary: 'Breakpoints of a workflow',
        description: 'Every breakpoint set on a step of the workflow (steps inside loops included), with how many attempts each holds paused.',
        tags: ['breakpoints'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        response: {
          200: { type: 'object', properties: { workflow_id: { type: 'string' }, breakpoints: { type: 'array', items: breakpointJson } }, required: ['workflow_id', 'breakpoints'] },
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id } = request.params;
      await requireWorkflow(id);
      return { workflow_id: id, breakpoints: (await engine.listBreakpoints(id)).map(breakpointOut) };
    },
  );

  app.put<{ Params: { id: string; stepId: string }; Body: ScopeJson | undefined }>(
    '/api/v3/workflows/:id/steps/:stepId/breakpoint',
    {
      schema: doc({
        summary: 'Set a breakpoint on a step',
        description:
          'From now on each attempt of the step (in every instance, loop iterations included) pauses (PAUSED) before it runs, until resumed with the `resume` step action or until the breakpoint is deleted. The optional body narrows it to one version, instance, run or attempt. Setting the same breakpoint again changes nothing (`created: false`). 404 for an unknown workflow or a step its latest version does not have.',
        tags: ['breakpoints'],
        params: { type: 'object', properties: { id: workflowIdParam, stepId: stepIdParam }, required: ['id', 'stepId'] },
        body: { type: 'object', properties: scopeProperties },
        response: {
          200: { type: 'object', properties: { created: { type: 'boolean' }, breakpoint: breakpointJson }, required: ['created', 'breakpoint'] },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, stepId } = request.params;
      if (request.body) rejectUnknown(request.body, SCOPE_KEYS);
      try {
        const r = await engine.setBreakpoint(id, stepId, toScope(request.body ?? {}), { type: 'REST' });
        return { created: r.created, breakpoint: breakpointOut(r.breakpoint) };
      } catch (err) {
        throw problemOf(err);
      }
    },
  );

  app.delete<{ Params: { id: string; stepId: string }; Querystring: ScopeJson }>(
    '/api/v3/workflows/:id/steps/:stepId/breakpoint',
    {
      schema: doc({
        summary: 'Delete a step\'s breakpoints and resume what they paused',
        description:
          'Deletes every breakpoint on the step, or with query parameters only the one with exactly that scope, and resumes every attempt they paused. 404 when there is no such breakpoint.',
        tags: ['breakpoints'],
        params: { type: 'object', properties: { id: workflowIdParam, stepId: stepIdParam }, required: ['id', 'stepId'] },
        querystring: { type: 'object', properties: scopeProperties, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: { workflow_id: { type: 'string' }, step_id: { type: 'string' }, deleted: { type: 'integer' }, resumed_attempts: { type: 'integer' } },
            required: ['workflow_id', 'step_id', 'deleted', 'resumed_attempts'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, stepId } = request.params;
      const scope = toScope(request.query);
      const r = await engine.deleteBreakpoints(id, stepId, scope).catch((err: unknown) => {
        throw problemOf(err);
      });
      if (r.deleted === 0) throw notFound(`workflow "${id}" has no breakpoint on step ${stepId}${scope ? ' with that scope' : ''}`);
      return { workflow_id: id, step_id: stepId, deleted: r.deleted, resumed_attempts: r.resumed };
    },
  );

  app.post<{ Params: { id: string; iid: string; stepId: string; action: StepAction }; Body: ReasonBody }>(
    '/api/v3/workflows/:id/instances/:iid/steps/:stepId/actions/:action',
    {
      schema: doc({
        summary: 'Resume, skip, stop or kill one step of a running instance',
        description: [
          'Acts on the latest attempt of the step in the instance\'s latest run:',
          ...STEP_ACTIONS.map((a) => `\`${a}\` ${ACTION_TEXT[a]}.`),
          'A step inside a foreach or while loop is addressed in its iteration: workflow id `<workflow>#<loop step>` (URL-encoded `%23`) and the iteration\'s instance id.',
          '404 for an unknown instance or step; 409 when the instance has ended, the step has not been created, has already ended, or (resume) is not paused.',
        ].join(' '),
        tags: ['instances'],
        params: {
          type: 'object',
          properties: { id: workflowIdParam, iid: instanceIdParam, stepId: stepIdParam, action: { type: 'string', enum: [...STEP_ACTIONS] } },
          required: ['id', 'iid', 'stepId', 'action'],
        },
        body: reasonBody,
        response: {
          200: {
            type: 'object',
            properties: {
              ...attemptKeyProperties,
              status: { type: 'string', description: 'the attempt\'s status after the action' },
            },
            required: [...runKeyRequired, 'step_id', 'step_attempt_id', 'status'],
          },
          400: problemSchema,
          404: problemSchema,
          409: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, stepId, action } = request.params;
      const reason = actionReason(request.body);
      try {
        const r = await engine.stepAction(id, Number(request.params.iid), stepId, action, reason);
        return { workflow_id: r.workflowId, workflow_instance_id: r.workflowInstanceId, workflow_run_id: r.runId, step_id: r.stepId, step_attempt_id: r.attemptId, status: r.status };
      } catch (err) {
        throw problemOf(err);
      }
    },
  );
};
