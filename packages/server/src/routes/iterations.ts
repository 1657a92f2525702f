import type { FastifyPluginAsync } from 'fastify';
import { INSTANCE_STATUSES, ITERATION_PAGE_DEFAULT, ITERATION_PAGE_MAX, IterationReadError, type Engine, type InstanceStatus } from '@baton/engine-core';
import { runParam, stepIdParam } from './instance-actions.js';
import { knownQuery } from './list-query.js';
import { badRequest, doc, instanceIdParam, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';

export interface IterationRoutesOptions {
  engine: Engine;
}

const query = {
  after: { type: 'integer', minimum: -1, maximum: Number.MAX_SAFE_INTEGER, description: 'iterations with a higher index than this (`next_cursor` of the previous page)' },
  limit: { type: 'integer', minimum: 1, maximum: ITERATION_PAGE_MAX, description: `iterations a page, default ${ITERATION_PAGE_DEFAULT}` },
  status: { type: 'string', enum: [...INSTANCE_STATUSES], description: 'only iterations with this status' },
} as const;

const iteration = {
  type: 'object',
  properties: {
    iteration: { type: 'integer', description: '0-based index in the loop' },
    workflow_id: { type: 'string', description: 'the inline workflow of the loop\'s inner steps (`<workflow>#<step>`): read the iteration\'s steps at `/api/v3/workflows/{workflow_id}/instances/{workflow_instance_id}/runs/latest`' },
    workflow_instance_id: { type: 'integer' },
    workflow_run_id: { type: 'integer' },
    status: { type: 'string', enum: [...INSTANCE_STATUSES] },
    reason: { type: ['string', 'null'] },
    loop_params: { type: ['object', 'null'], additionalProperties: true, description: 'the iteration\'s loop variables (foreach); null for a while step' },
    create_time: { type: 'string', format: 'date-time' },
    start_time: { type: ['string', 'null'], format: 'date-time' },
    end_time: { type: ['string', 'null'], format: 'date-time' },
    from_run_id: { type: 'integer', description: 'the parent run that ran it: lower than `workflow_run_id` of the page when a restart carried it over' },
  },
  required: ['iteration', 'workflow_id', 'workflow_instance_id', 'workflow_run_id', 'status', 'from_run_id'],
} as const;

const count = { type: 'integer' } as const;

/** The iterations of a foreach or while step, paged by index. */
export const iterationRoutes: FastifyPluginAsync<IterationRoutesOptions> = async (app, opts) => {
  const { engine } = opts;
  useExactJson(app);

  app.get<{ Params: { id: string; iid: string; run: string; stepId: string }; Querystring: { after?: number; limit?: number; status?: InstanceStatus } }>(
    '/api/v3/workflows/:id/instances/:iid/runs/:run/steps/:stepId/iterations',
    {
      schema: doc({
        summary: 'Iterations of a foreach or while step, paged by index',
        description:
          'Each iteration with its index, loop params, status and times, in index order, plus the loop\'s counters. An iteration is an instance of the inline workflow `<workflow>#<step>`: its inner steps, attempts and logs are read with the instance routes under that id. A restarted run re-runs only the iterations that did not succeed; the others are listed from the run that ran them (`from_run_id`). Page with `after` = the previous `next_cursor`; 400 for a step that is not a loop.',
        tags: ['instances'],
        params: {
          type: 'object',
          properties: { id: workflowIdParam, iid: instanceIdParam, run: runParam, stepId: stepIdParam },
          required: ['id', 'iid', 'run', 'stepId'],
        },
        querystring: { type: 'object', properties: query, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              workflow_id: { type: 'string' },
              workflow_instance_id: { type: 'integer' },
              workflow_run_id: { type: 'integer' },
              step_id: { type: 'string' },
              step_attempt_id: { type: 'integer' },
              step_type: { type: 'string', enum: ['foreach', 'while'] },
              counts: {
                type: ['object', 'null'],
                description: 'the loop\'s counters (null before it launched iterations)',
                properties: { total: count, launched: count, succeeded: count, failed: count, stopped: count },
              },
              items: { type: 'array', items: iteration },
              next_cursor: { type: 'integer', description: 'pass as `after` for the next page; absent on the last page' },
            },
            required: ['workflow_id', 'workflow_instance_id', 'workflow_run_id', 'step_id', 'step_attempt_id', 'step_type', 'counts', 'items'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
      preValidation: knownQuery(query),
    },
    async (request) => {
      const { id, iid, run, stepId } = request.params;
      const q = request.query;
      try {
        const page = await engine.listIterations(id, Number(iid), stepId, {
          ...(run === 'latest' ? {} : { runId: Number(run) }),
          ...(q.after !== undefined ? { after: q.after } : {}),
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
          ...(q.status !== undefined ? { status: q.status } : {}),
        });
        return {
          workflow_id: page.workflowId,
          workflow_instance_id: page.instanceId,
          workflow_run_id: page.runId,
          step_id: page.stepId,
          step_attempt_id: page.attemptId,
          step_type: page.stepType,
          counts: page.tally,
          items: page.items.map((it) => ({
            iteration: it.iteration,
            workflow_id: it.workflowId,
            workflow_instance_id: it.instanceId,
            workflow_run_id: it.runId,
            status: it.status,
            reason: it.reason,
            loop_params: it.loopParams,
            create_time: it.createdAt,
            start_time: it.startedAt,
            end_time: it.endedAt,
            from_run_id: it.fromRunId,
          })),
          ...(page.nextAfter !== undefined ? { next_cursor: page.nextAfter } : {}),
        };
      } catch (err) {
        if (err instanceof IterationReadError) {
          if (err.code === 'not_found') throw notFound(err.message);
          throw badRequest('params.stepId', err.message);
        }
        throw err;
      }
    },
  );
};
