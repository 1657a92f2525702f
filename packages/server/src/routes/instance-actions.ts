import type { FastifyInstance } from 'fastify';
import { rejectUnknown } from './workflows.js';
import { doc, instanceIdParam, problemSchema, workflowIdParam } from './workflow-http.js';

/** Shared by the instance and step action routes: their params, bodies and answers. */

export const runParam = { type: 'string', pattern: '^(latest|[1-9][0-9]{0,8})$', description: 'a run number or `latest`' } as const;
export const attemptParam = { type: 'string', pattern: '^(latest|[1-9][0-9]{0,8})$', description: 'an attempt number or `latest`' } as const;
export const stepIdParam = { type: 'string', minLength: 1, maxLength: 256, description: 'the step id' } as const;
export const instanceParams = { type: 'object', properties: { id: workflowIdParam, iid: instanceIdParam }, required: ['id', 'iid'] } as const;

/** The body every action takes: an optional reason, recorded with what it changes. */
export const reasonBody = { type: 'object', properties: { reason: { type: 'string', maxLength: 1000 } } } as const;
export type ReasonBody = { reason?: string } | undefined;

/** The fields that name one run of an instance in an answer, all required. */
export const runKeyProperties = {
  workflow_id: { type: 'string' },
  workflow_instance_id: { type: 'integer' },
  workflow_run_id: { type: 'integer' },
} as const;
export const runKeyRequired = ['workflow_id', 'workflow_instance_id', 'workflow_run_id'] as const;

/** The fields that name one step attempt in an answer. */
export const attemptKeyProperties = {
  ...runKeyProperties,
  step_id: { type: 'string' },
  step_attempt_id: { type: 'integer' },
} as const;

/** The reason an action's body gives, if any; any other field is refused (400). */
export function actionReason(body: ReasonBody): string | undefined {
  if (body) rejectUnknown(body, ['reason']);
  return body?.reason;
}

export interface EndInstanceAction<Ended extends string> {
  action: 'stop' | 'kill';
  /** The answer's boolean: false when the instance had already ended. */
  ended: Ended;
  summary: string;
  description: string;
  /** Ends the instance's latest run; false when it had already ended. */
  end(workflowId: string, instanceId: number, reason: string | undefined): Promise<boolean>;
}

/**
 * PUT `/api/v3/workflows/:id/instances/:iid/actions/<action>`: ends the instance (404 when it
 * does not exist) and answers whether this request ended it, with its status afterwards.
 */
export function endInstanceRoute<Ended extends string>(
  app: FastifyInstance,
  requireRun: (workflowId: string, instanceId: number) => Promise<{ status: string }>,
  spec: EndInstanceAction<Ended>,
): void {
  app.put<{ Params: { id: string; iid: string }; Body: ReasonBody }>(
    `/api/v3/workflows/:id/instances/:iid/actions/${spec.action}`,
    {
      schema: doc({
        summary: spec.summary,
        description: spec.description,
        tags: ['instances'],
        params: instanceParams,
        body: reasonBody,
        response: {
          200: {
            type: 'object',
            properties: { workflow_id: { type: 'string' }, workflow_instance_id: { type: 'integer' }, [spec.ended]: { type: 'boolean' }, status: { type: 'string' } },
            required: ['workflow_id', 'workflow_instance_id', spec.ended, 'status'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const iid = Number(request.params.iid);
      const reason = actionReason(request.body);
      await requireRun(id, iid);
      const ended = await spec.end(id, iid, reason);
      const after = await requireRun(id, iid);
      return { workflow_id: id, workflow_instance_id: iid, [spec.ended]: ended, status: after.status };
    },
  );
}
