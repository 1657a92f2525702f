import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import { getVersion, type Db, type Engine } from '@baton/engine-core';
import { DEFAULT_CLOSEST, DEFAULT_JOIN_LIMIT, DEFAULT_SCAN_LIMIT, explainStepWait, explainTriggerWaits, MAX_CLOSEST, MAX_JOIN_LIMIT, MAX_SCAN_LIMIT } from '@baton/signals';
import { ProblemError, ProblemTypes } from '../http/problem.js';
import { attemptKeyProperties, stepIdParam } from './instance-actions.js';
import { badRequest, doc, instanceIdParam, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';
import { stepWaitSchema, triggerWaitsSchema } from './waiting-schema.js';

export interface WaitingRoutesOptions {
  db: Db;
  engine: Engine;
}

interface ScanQuery {
  scan_limit?: number;
  closest?: number;
}
interface TriggerQuery extends ScanQuery {
  trigger_id?: string;
  join_limit?: number;
}

const scanFields = {
  scan_limit: { type: 'integer', minimum: 1, maximum: MAX_SCAN_LIMIT, description: `newest instances of each awaited signal name read (default ${DEFAULT_SCAN_LIMIT})` },
  closest: { type: 'integer', minimum: 1, maximum: MAX_CLOSEST, description: `closest non-matching instances reported per unmet condition (default ${DEFAULT_CLOSEST})` },
} as const;
const triggerFields = {
  ...scanFields,
  trigger_id: { type: 'string', minLength: 1, maxLength: 256, description: 'only this signal trigger (as the signal trigger list names it)' },
  join_limit: { type: 'integer', minimum: 1, maximum: MAX_JOIN_LIMIT, description: `pending joins explained per trigger, newest first (default ${DEFAULT_JOIN_LIMIT})` },
} as const;

/** The schema's additionalProperties would drop a misspelt parameter silently: name it instead. */
function knownQuery(properties: object): (request: FastifyRequest) => Promise<void> {
  const known = Object.keys(properties);
  return async (request) => {
    for (const key of new URL(request.url, 'http://x').searchParams.keys()) {
      if (!known.includes(key)) throw badRequest(`querystring.${key}`, `is not a parameter of this route (known: ${known.join(', ')})`);
    }
  };
}

/**
 * "Why is this waiting?": a step in WAITING_FOR_SIGNALS and a workflow's signal triggers with
 * pending joins, explained condition by condition (the read models are in `@baton/signals`).
 */
export const waitingRoutes: FastifyPluginAsync<WaitingRoutesOptions> = async (app, opts) => {
  const { db, engine } = opts;
  useExactJson(app);

  app.get<{ Params: { id: string; iid: string; stepId: string }; Querystring: ScanQuery }>(
    '/api/v3/workflows/:id/instances/:iid/steps/:stepId/waiting',
    {
      schema: doc({
        summary: 'Why a step waits for signals',
        description:
          "The latest attempt of a step in the instance's latest run, explained against its signal dependencies (as evaluated when it began to wait): " +
          'each met condition with the signal instance that met it, each unmet one with the closest recent instances of that signal name that did not match ' +
          'and why (the param, operator, expected and actual value). Closest: fewest failed checks, then newest, among the newest `scan_limit` instances. ' +
          'A step without signal dependencies answers `waiter_status: null` and no conditions.',
        tags: ['instances'],
        params: { type: 'object', properties: { id: workflowIdParam, iid: instanceIdParam, stepId: stepIdParam }, required: ['id', 'iid', 'stepId'] },
        querystring: { type: 'object', properties: scanFields, additionalProperties: false },
        response: { 200: stepWaitSchema(attemptKeyProperties), 400: problemSchema, 404: problemSchema },
      }),
      preValidation: knownQuery(scanFields),
    },
    async (request) => {
      const { id, iid, stepId } = request.params;
      const a = await engine.getStepAttempt(id, Number(iid), stepId);
      if (!a) {
        if (!(await engine.getRun(id, Number(iid)))) throw notFound(`workflow "${id}" has no instance ${iid}`);
        throw new ProblemError(404, 'Not Found', `step ${stepId} of ${id} instance ${iid} has no attempt`, {
          type: ProblemTypes.notFound,
          errors: [{ field: 'params.stepId', message: `no attempt of step ${stepId} in the latest run` }],
        });
      }
      const why = await explainStepWait(db, { workflowId: a.workflowId, workflowInstanceId: a.instanceId, stepId: a.stepId, attempt: a.attemptId }, {
        scanLimit: request.query.scan_limit,
        closest: request.query.closest,
      });
      return {
        ...why,
        workflow_instance_id: a.instanceId,
        workflow_run_id: a.runId,
        status: a.status,
        waiting: a.status === 'WAITING_FOR_SIGNALS',
      };
    },
  );

  app.get<{ Params: { id: string }; Querystring: TriggerQuery }>(
    '/api/v3/workflows/:id/triggers/signals/waiting',
    {
      schema: doc({
        summary: "Why a workflow's signal triggers have not fired",
        description:
          'For each active signal trigger, its pending joins (newest first): the signals each join holds (met, with the instance) and the ones it still waits for, ' +
          'each with the closest recent instances of that name that do not count and why: a failed condition (param, operator, expected, actual), another join key, ' +
          'published before the trigger became active, already consumed, or not yet processed by the matcher. A trigger that holds nothing is one join with ' +
          '`join_values: null`. Reads are bounded: the newest `scan_limit` candidates and instances per signal name.',
        tags: ['triggers'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        querystring: { type: 'object', properties: triggerFields, additionalProperties: false },
        response: { 200: triggerWaitsSchema, 400: problemSchema, 404: problemSchema },
      }),
      preValidation: knownQuery(triggerFields),
    },
    async (request) => {
      const { id } = request.params;
      const q = request.query;
      if (!(await getVersion(db, id, 'latest'))) throw notFound(`workflow "${id}" does not exist`);
      const why = await explainTriggerWaits(db, id, { triggerId: q.trigger_id, scanLimit: q.scan_limit, closest: q.closest, joinLimit: q.join_limit });
      if (q.trigger_id !== undefined && why.triggers.length === 0) {
        const message = `workflow "${id}" has no active signal trigger ${q.trigger_id}`;
        throw new ProblemError(404, 'Not Found', message, { type: ProblemTypes.notFound, errors: [{ field: 'querystring.trigger_id', message }] });
      }
      return why;
    },
  );
};
