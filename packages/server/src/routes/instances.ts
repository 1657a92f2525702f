import type { FastifyPluginAsync } from 'fastify';
import { getVersion, INSTANCE_STATUSES, runTombstone, listInstancesAcross, RestartError, type Db, type Engine, type EvaluatedParams, type InstanceSummary, type ParentRef, type TimelineEntry } from '@baton/engine-core';
import { MAX_LINEAGE_DEPTH, type SignalService } from '@baton/signals';
import { ProblemError } from '../http/problem.js';
import { instanceFilterProperties, instanceListFilters, knownQuery, runList, type InstanceFilterQuerystring } from './list-query.js';
import { actionReason, attemptKeyProperties, attemptParam, runParam, endInstanceRoute, instanceParams, reasonBody, runKeyProperties, runKeyRequired, stepIdParam, type ReasonBody } from './instance-actions.js';
import { httpResponseJson, httpResponseSchema, logSummaryJson, logSummarySchema } from './step-logs.js';
import { badRequest, doc, instanceIdParam, notFound, problemSchema, useExactJson, versionedRunKeyProperties, workflowIdParam } from './workflow-http.js';
import { runNotFound } from './purged-runs.js';

export interface InstanceRoutesOptions {
  db: Db;
  engine: Engine;
  signals: SignalService;
}


const typedParams = {
  type: 'object',
  description: 'params by name: {type, value}; LONG values are exact JSON integers',
  additionalProperties: { type: 'object', properties: { type: { type: 'string' }, value: {} } },
} as const;
const timeline = {
  type: 'array',
  items: {
    type: 'object',
    properties: { at: { type: 'string', format: 'date-time' }, from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] }, message: { type: 'string' } },
  },
} as const;
const workflowInstancesQuery = {
  ...instanceFilterProperties,
  cursor: { type: 'integer', minimum: 1, maximum: Number.MAX_SAFE_INTEGER, description: 'instances older than this id (`next_cursor` of the previous page)' },
} as const;
export const instanceSummary = {
  type: 'object',
  properties: {
    ...versionedRunKeyProperties,
    status: { type: 'string', enum: [...INSTANCE_STATUSES] },
    request_id: { type: ['string', 'null'] },
    initiator: {},
    reason: { type: ['string', 'null'] },
    create_time: { type: 'string', format: 'date-time' },
    start_time: { type: ['string', 'null'], format: 'date-time' },
    end_time: { type: ['string', 'null'], format: 'date-time' },
  },
  required: ['workflow_id', 'workflow_instance_id', 'workflow_run_id', 'status'],
} as const;
const stepSummary = {
  type: 'object',
  properties: {
    step_id: { type: 'string' },
    status: { type: 'string' },
    attempt_id: { type: ['integer', 'null'] },
    reason: { type: ['string', 'null'] },
    start_time: { type: ['string', 'null'] },
    end_time: { type: ['string', 'null'] },
    subworkflow: {
      type: ['object', 'null'],
      description: 'a subworkflow step\'s child run (null for other steps and before it started)',
      properties: { workflow_id: { type: 'string' }, workflow_instance_id: { type: 'integer' }, status: { type: ['string', 'null'] } },
    },
  },
} as const;
const parentRef = {
  type: ['object', 'null'],
  description: 'the step that started this run: a subworkflow step (kind SUBWORKFLOW) or the loop step of an iteration (FOREACH, WHILE, with its index); null for a top-level run',
  properties: {
    kind: { type: 'string', enum: ['SUBWORKFLOW', 'FOREACH', 'WHILE'] },
    workflow_id: { type: 'string' },
    workflow_instance_id: { type: 'integer' },
    workflow_run_id: { type: 'integer' },
    step_id: { type: 'string' },
    step_attempt_id: { type: 'integer' },
    iteration: { type: ['integer', 'null'] },
  },
} as const;
const lineageGraph = {
  type: 'object',
  properties: {
    nodes: { type: 'array', items: { type: 'object', additionalProperties: true } },
    edges: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, kind: { type: 'string' } } } },
    truncated: { type: 'boolean' },
  },
} as const;

/**
 * Workflow instances: listing, run and step attempt details (status, params, timeline), stop, kill, and
 * the upstream lineage of an instance (which signals started or unblocked it, what emitted them).
 */
export const instanceRoutes: FastifyPluginAsync<InstanceRoutesOptions> = async (app, opts) => {
  const { db, engine, signals } = opts;
  useExactJson(app);

  const requireWorkflow = async (id: string): Promise<void> => {
    if (!(await getVersion(db, id, 'latest'))) throw notFound(`workflow "${id}" does not exist`);
  };
  const requireRun = async (id: string, iid: number, run?: number) => {
    const details = await engine.getRun(id, iid, run);
    if (!details) throw await runNotFound(db, id, iid, run);
    return details;
  };

  app.get<{ Params: { id: string }; Querystring: Omit<InstanceFilterQuerystring, 'cursor'> & { cursor?: number } }>(
    '/api/v3/workflows/:id/instances',
    {
      schema: doc({
        summary: 'Instances of a workflow, newest first',
        description:
          'The latest run of each instance, highest instance id (newest) first, with the filters of `GET /api/v3/instances`. Pages with `cursor` = the previous `next_cursor`: an instance id, the list goes on below it.',
        tags: ['instances'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        querystring: { type: 'object', properties: workflowInstancesQuery, additionalProperties: false },
        response: {
          200: { type: 'object', properties: { workflow_id: { type: 'string' }, items: { type: 'array', items: instanceSummary }, next_cursor: { type: 'integer' } }, required: ['items'] },
          400: problemSchema,
          404: problemSchema,
        },
      }),
      preValidation: knownQuery(workflowInstancesQuery),
    },
    async (request) => {
      const { id } = request.params;
      await requireWorkflow(id);
      const q = request.query;
      const filters = instanceListFilters(q);
      const page = await runList(() => listInstancesAcross(db, { ...filters, workflowIds: [id], order: 'instance', ...(q.cursor !== undefined ? { beforeInstanceId: q.cursor } : {}) }));
      return { workflow_id: id, items: page.items.map(summaryJson), ...(page.nextBeforeInstanceId !== undefined ? { next_cursor: page.nextBeforeInstanceId } : {}) };
    },
  );

  app.get<{ Params: { id: string; iid: string; run: string } }>(
    '/api/v3/workflows/:id/instances/:iid/runs/:run',
    {
      schema: doc({
        summary: 'One run of an instance with per-step statuses',
        tags: ['instances'],
        params: { type: 'object', properties: { id: workflowIdParam, iid: instanceIdParam, run: runParam }, required: ['id', 'iid', 'run'] },
        response: {
          200: {
            type: 'object',
            properties: {
              ...instanceSummary.properties,
              params: typedParams,
              run_params: typedParams,
              parent: parentRef,
              steps: { type: 'array', items: stepSummary },
              rollup: { type: 'object', additionalProperties: { type: 'integer' }, description: 'step counts by status' },
              timeline,
            },
            required: [...instanceSummary.required, 'steps'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, iid, run } = request.params;
      const details = await requireRun(id, Number(iid), run === 'latest' ? undefined : Number(run));
      return {
        ...summaryJson(details),
        params: paramsJson(details.params),
        run_params: paramsJson(details.runParams),
        parent: details.parent ? parentJson(details.parent) : null,
        steps: details.steps.map((s) => ({
          step_id: s.stepId, status: s.status, attempt_id: s.attemptId, reason: s.reason, start_time: s.startedAt, end_time: s.endedAt,
          subworkflow: s.subworkflow ? { workflow_id: s.subworkflow.workflowId, workflow_instance_id: s.subworkflow.instanceId, status: s.subworkflow.status } : null,
        })),
        rollup: details.rollup,
        timeline: timelineJson(details.timeline),
      };
    },
  );

  app.get<{ Params: { id: string; iid: string; run: string; stepId: string; attempt: string } }>(
    '/api/v3/workflows/:id/instances/:iid/runs/:run/steps/:stepId/attempts/:attempt',
    {
      schema: doc({
        summary: 'One step attempt: status, params, outputs, timeline, log sizes and Http response',
        description: 'The evaluated params and outputs, the failure reason (`reason`), the timeline, the sizes of what a Shell step printed (read it at `.../logs`) and an Http step\'s response.',
        tags: ['instances'],
        params: {
          type: 'object',
          properties: { id: workflowIdParam, iid: instanceIdParam, run: runParam, stepId: stepIdParam, attempt: attemptParam },
          required: ['id', 'iid', 'run', 'stepId', 'attempt'],
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...attemptKeyProperties,
              step_type: { type: ['string', 'null'] },
              status: { type: 'string' },
              reason: { type: ['string', 'null'] },
              params: typedParams,
              outputs: typedParams,
              edges: { type: ['object', 'null'], additionalProperties: { type: 'boolean' }, description: 'successor id → whether its condition held' },
              create_time: { type: 'string', format: 'date-time' },
              start_time: { type: ['string', 'null'], format: 'date-time' },
              end_time: { type: ['string', 'null'], format: 'date-time' },
              timeline,
              logs: { type: 'array', items: logSummarySchema, description: 'sizes of stdout and stderr (Shell steps); read them at `.../logs`' },
              http_response: httpResponseSchema,
            },
            required: ['workflow_id', 'workflow_instance_id', 'step_id', 'step_attempt_id', 'status', 'timeline', 'logs'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, iid, run, stepId, attempt } = request.params;
      const a = await engine.getStepAttempt(id, Number(iid), stepId, {
        ...(run === 'latest' ? {} : { runId: Number(run) }),
        ...(attempt === 'latest' ? {} : { attemptId: Number(attempt) }),
      });
      if (!a) {
        await requireRun(id, Number(iid), run === 'latest' ? undefined : Number(run));
        throw notFound(`step ${stepId} of ${id} instance ${iid} has no attempt${attempt === 'latest' ? '' : ` ${attempt}`}`);
      }
      return {
        workflow_id: a.workflowId,
        workflow_instance_id: a.instanceId,
        workflow_run_id: a.runId,
        step_id: a.stepId,
        step_attempt_id: a.attemptId,
        step_type: a.stepType,
        status: a.status,
        reason: a.reason,
        params: paramsJson(a.params),
        outputs: paramsJson(a.outputs),
        edges: a.edges,
        create_time: a.createdAt,
        start_time: a.startedAt,
        end_time: a.endedAt,
        timeline: timelineJson(a.timeline),
        logs: a.logs.map(logSummaryJson),
        http_response: httpResponseJson(a.httpResponse),
      };
    },
  );

  endInstanceRoute(app, requireRun, {
    action: 'stop',
    ended: 'stopped',
    summary: 'Stop an instance',
    description: 'Running steps are aborted and end STOPPED. Stopping an instance that already ended changes nothing (stopped: false).',
    end: (id, iid, reason) => engine.stopInstance(id, iid, reason ?? 'stopped by request'),
  });

  endInstanceRoute(app, requireRun, {
    action: 'kill',
    ended: 'killed',
    summary: 'Kill an instance',
    description:
      'Ends the instance FAILED (not STOPPED), as Maestro\'s kill does: the run strategy takes it as a failure, so STRICT_SEQUENTIAL blocks the runs queued behind it until unblocked. Running steps are aborted and, like every step that has not ended, end FATALLY_FAILED (never retried); the loop iterations and subworkflow runs below them are killed too. A queued instance can be killed. Killing an instance that already ended changes nothing (killed: false).',
    end: (id, iid, reason) => engine.killInstance(id, iid, reason?.trim() || 'killed by request'),
  });

  app.post<{ Params: { id: string; iid: string }; Body: ReasonBody }>(
    '/api/v3/workflows/:id/instances/:iid/actions/restart',
    {
      schema: doc({
        summary: 'Restart an instance from its failed steps',
        description:
          'Starts a new run of an instance whose latest run FAILED, was STOPPED or TIMED_OUT. Steps that ended well are carried over as they ended (and shown in the new run), so only the failed, stopped and never-started steps run; a restarted foreach runs only its unsuccessful iterations. 409 when the latest run has not ended badly, and for a subworkflow run or a loop iteration: those are restarted through the parent run that started them (the problem names it).',
        tags: ['instances'],
        params: instanceParams,
        body: reasonBody,
        response: {
          200: {
            type: 'object',
            properties: {
              ...runKeyProperties,
              carried_over_steps: { type: 'array', items: { type: 'string' } },
            },
            required: [...runKeyRequired, 'carried_over_steps'],
          },
          400: problemSchema,
          404: problemSchema,
          409: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const iid = Number(request.params.iid);
      const reason = actionReason(request.body);
      try {
        const r = await engine.restartInstance(id, iid, reason ?? 'restarted by request');
        return { workflow_id: r.workflowId, workflow_instance_id: r.workflowInstanceId, workflow_run_id: r.runId, carried_over_steps: r.carried };
      } catch (err) {
        if (err instanceof RestartError) {
          if (err.code === 'not_found') throw (await runTombstone(db, id, iid)) ? await runNotFound(db, id, iid) : notFound(err.message);
          throw new ProblemError(409, 'Conflict', err.message);
        }
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string; iid: string }; Querystring: { run?: number } }>(
    '/api/v3/workflows/:id/instances/:iid/rollup',
    {
      schema: doc({
        summary: 'Counts by status across an instance',
        description: 'Leaf steps by status (in this run and every loop iteration and subworkflow run below it), child runs by status, and loop/subworkflow steps by status.',
        tags: ['instances'],
        params: instanceParams,
        querystring: { type: 'object', properties: { run: { type: 'integer', minimum: 1, maximum: 1000000, description: 'run id, default the latest' } }, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              ...runKeyProperties,
              leaves: { type: 'object', additionalProperties: { type: 'integer' } },
              children: { type: 'object', additionalProperties: { type: 'integer' } },
              composites: { type: 'object', additionalProperties: { type: 'integer' } },
            },
            required: [...runKeyRequired, 'leaves', 'children', 'composites'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const iid = Number(request.params.iid);
      const rollup = await engine.getRollup(id, iid, request.query.run);
      if (!rollup) throw await runNotFound(db, id, iid, request.query.run);
      return { workflow_id: rollup.workflowId, workflow_instance_id: rollup.instanceId, workflow_run_id: rollup.runId, leaves: rollup.leaves, children: rollup.children, composites: rollup.composites };
    },
  );

  app.get<{ Params: { id: string; iid: string }; Querystring: { depth?: number } }>(
    '/api/v3/workflows/:id/instances/:iid/lineage',
    {
      schema: doc({
        summary: 'Upstream lineage of an instance',
        description:
          'Signals that triggered or unblocked it, the steps that emitted those signals, their instances, and so on up to `depth`. ' +
          'A run a time trigger started has the fire upstream of it: a node of type `time_trigger` (`trigger`, `expression`, `timezone`, `fire_time`, `catch_up`) and a FIRED edge to the run.',
        tags: ['instances', 'lineage'],
        params: instanceParams,
        querystring: { type: 'object', properties: { depth: { type: 'integer', minimum: 1, maximum: MAX_LINEAGE_DEPTH, description: `1..${MAX_LINEAGE_DEPTH}, default 3` } }, additionalProperties: false },
        response: { 200: lineageGraph, 400: problemSchema, 404: problemSchema },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const iid = Number(request.params.iid);
      // A purged run's lineage still answers: its node carries the tombstone (`purged`).
      if (!(await runTombstone(db, id, iid))) await requireRun(id, iid);
      const depth = request.query.depth ?? 3;
      if (!Number.isInteger(depth)) throw badRequest('querystring.depth', `must be an integer from 1 to ${MAX_LINEAGE_DEPTH}`);
      return signals.lineageOfWorkflowInstance(id, iid, depth);
    },
  );
};

export function summaryJson(s: InstanceSummary) {
  return {
    workflow_id: s.workflowId,
    workflow_version_id: s.version,
    workflow_instance_id: s.instanceId,
    workflow_run_id: s.runId,
    status: s.status,
    request_id: s.requestId,
    initiator: s.initiator,
    reason: s.reason,
    create_time: s.createdAt,
    start_time: s.startedAt,
    end_time: s.endedAt,
  };
}

export function parentJson(p: ParentRef) {
  return { kind: p.kind, workflow_id: p.workflowId, workflow_instance_id: p.instanceId, workflow_run_id: p.runId, step_id: p.stepId, step_attempt_id: p.attemptId, iteration: p.iteration };
}

function paramsJson(params: EvaluatedParams): Record<string, { type: string; value: unknown }> {
  const out: Record<string, { type: string; value: unknown }> = {};
  for (const [k, v] of Object.entries(params)) Object.defineProperty(out, k, { value: { type: v.type, value: v.value }, enumerable: true, writable: true, configurable: true });
  return out;
}

function timelineJson(entries: readonly TimelineEntry[]) {
  return entries.map((t) => ({ at: t.at, from: t.from, to: t.to, message: t.message }));
}
