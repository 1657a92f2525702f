import type { FastifyPluginAsync } from 'fastify';
import { INSTANCE_STATUSES, TRIGGER_KINDS, listInstancesAcross, listVersions, listWorkflows, type Db, type InstanceStatus, type TriggerKind, type WorkflowListItem } from '@baton/engine-core';
import { workflowsWithPausedTimeTriggers } from '@baton/scheduler';
import { workflowsWithPausedSignalTriggers } from '@baton/signals';
import { instanceSummary, summaryJson } from './instances.js';
import { cursorParam, instanceFilterProperties, instanceListFilters, knownQuery, limitParam, listValues, runList, statusFilter, type InstanceFilterQuerystring } from './list-query.js';
import { doc, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';

export interface ListRoutesOptions {
  db: Db;
}

const nextCursor = { type: 'string', description: 'pass as `cursor` for the next page; absent on the last page' } as const;

/** One workflow in `GET /api/v3/workflows`. Fields are added here (and to `workflowItemJson`). */
export const workflowItem = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    name: { type: ['string', 'null'] },
    description: { type: ['string', 'null'] },
    active_version_id: { type: ['integer', 'null'] },
    latest_version_id: { type: 'integer' },
    owner: { type: ['string', 'null'] },
    tags: { type: 'array', items: { type: 'string' }, description: "tag names of the workflow's properties and of its active (else latest) version" },
    trigger_kinds: { type: 'array', items: { type: 'string', enum: [...TRIGGER_KINDS] }, description: 'kinds of trigger the active (else latest) version defines' },
    last_run: {
      type: ['object', 'null'],
      description: 'the newest instance (its latest run); null when the workflow never ran',
      properties: {
        workflow_instance_id: { type: 'integer' },
        workflow_run_id: { type: 'integer' },
        status: { type: 'string', enum: [...INSTANCE_STATUSES] },
        create_time: { type: 'string', format: 'date-time' },
        end_time: { type: ['string', 'null'], format: 'date-time' },
      },
    },
    create_time: { type: 'string', format: 'date-time' },
    update_time: { type: 'string', format: 'date-time' },
    paused: { type: 'boolean', description: 'some or all of its triggers are paused (POST .../triggers/pause); see paused_trigger_kinds' },
    paused_trigger_kinds: { type: 'array', items: { type: 'string', enum: [...TRIGGER_KINDS] }, description: 'kinds with a paused trigger' },
  },
  required: ['workflow_id', 'active_version_id', 'latest_version_id', 'owner', 'tags', 'trigger_kinds', 'last_run', 'paused'],
} as const;

export function workflowItemJson(w: WorkflowListItem) {
  return {
    workflow_id: w.workflowId,
    name: w.name,
    description: w.description,
    active_version_id: w.activeVersion,
    latest_version_id: w.latestVersion,
    owner: w.owner,
    tags: w.tags,
    trigger_kinds: w.triggerKinds,
    last_run: w.lastRun && { workflow_instance_id: w.lastRun.instanceId, workflow_run_id: w.lastRun.runId, status: w.lastRun.status, create_time: w.lastRun.createdAt, end_time: w.lastRun.endedAt },
    create_time: w.createdAt,
    update_time: w.updatedAt,
  };
}

const workflowQueryProperties = {
  q: { type: 'string', minLength: 1, maxLength: 256, description: 'case-insensitive text in the id, name or description' },
  owner: { type: 'string', minLength: 1, maxLength: 256, description: 'properties.owner equals this' },
  tag: { type: 'string', minLength: 1, maxLength: 256, description: 'a tag name of the workflow' },
  trigger: { type: 'string', enum: [...TRIGGER_KINDS], description: 'has a trigger of this kind' },
  paused: { type: 'string', enum: ['true', 'false'], description: 'only workflows with (true) or without (false) a paused trigger' },
  last_status: { ...statusFilter, description: `status of the newest instance, one of ${INSTANCE_STATUSES.join(', ')}; several by repeating or with commas` },
  limit: limitParam,
  cursor: cursorParam,
} as const;

const instanceQueryProperties = {
  workflow: { type: 'array', items: workflowIdParam, maxItems: 50, description: 'instances of this workflow; several by repeating the parameter' },
  ...instanceFilterProperties,
} as const;

interface WorkflowListQuerystring {
  q?: string;
  owner?: string;
  tag?: string;
  trigger?: TriggerKind;
  paused?: 'true' | 'false';
  last_status?: string[];
  limit?: number;
  cursor?: string;
}

/**
 * Lists: workflows (`GET /api/v3/workflows`), instances across workflows (`GET /api/v3/instances`)
 * and the versions of a workflow. Filters and keyset pages come from the engine's read models;
 * the per-workflow instance list lives with the other instance routes.
 */
export const listRoutes: FastifyPluginAsync<ListRoutesOptions> = async (app, opts) => {
  const { db } = opts;
  useExactJson(app);

  app.get<{ Querystring: WorkflowListQuerystring }>(
    '/api/v3/workflows',
    {
      schema: doc({
        summary: 'Workflows, in id order, with filters',
        description: 'Every stored workflow with its versions, owner, tags, trigger kinds and last run. Pages with `cursor` = the previous `next_cursor`.',
        tags: ['workflows'],
        querystring: {
          type: 'object',
          properties: workflowQueryProperties,
          additionalProperties: false,
        },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: workflowItem }, next_cursor: nextCursor }, required: ['items'] },
          400: problemSchema,
        },
      }),
      preValidation: knownQuery(workflowQueryProperties),
    },
        async (request) => {
      const q = request.query;
      const lastStatuses = listValues(q.last_status) as InstanceStatus[];
      // Pauses live with each kind's firing (the scheduler's and signals' tables): read both sets.
      const pausedTime = await workflowsWithPausedTimeTriggers(db);
      const pausedSignal = await workflowsWithPausedSignalTriggers(db);
      const pausedIds = [...new Set([...pausedTime, ...pausedSignal])];
      const page = await runList(() =>
        listWorkflows(db, {
          ...(q.q !== undefined ? { text: q.q } : {}),
          ...(q.owner !== undefined ? { owner: q.owner } : {}),
          ...(q.tag !== undefined ? { tag: q.tag } : {}),
          ...(q.trigger !== undefined ? { trigger: q.trigger } : {}),
          ...(lastStatuses.length ? { lastStatuses } : {}),
          ...(q.paused === 'true' ? { onlyWorkflowIds: pausedIds } : q.paused === 'false' ? { exceptWorkflowIds: pausedIds } : {}),
          ...(q.limit !== undefined ? { limit: q.limit } : {}),
          ...(q.cursor !== undefined ? { cursor: q.cursor } : {}),
        }),
      );
      const items = page.items.map((w) => {
        const kinds = [...(pausedTime.has(w.workflowId) ? (['time'] as const) : []), ...(pausedSignal.has(w.workflowId) ? (['signal'] as const) : [])];
        return { ...workflowItemJson(w), paused: kinds.length > 0, paused_trigger_kinds: kinds };
      });
      return { items, ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) };
    },
  );

  app.get<{ Querystring: InstanceFilterQuerystring & { workflow?: string[] } }>(
    '/api/v3/instances',
    {
      schema: doc({
        summary: 'Instances of every workflow, newest first, with filters',
        description:
          'The latest run of each instance (loop iterations are not listed; subworkflow runs are), newest first by create time. Pages are keyset based: instances created while paging never shift or repeat the ones already there. Pass `cursor` = the previous `next_cursor`.',
        tags: ['instances'],
        querystring: { type: 'object', properties: instanceQueryProperties, additionalProperties: false },
        response: {
          200: { type: 'object', properties: { items: { type: 'array', items: instanceSummary }, next_cursor: nextCursor }, required: ['items'] },
          400: problemSchema,
        },
      }),
      preValidation: knownQuery(instanceQueryProperties),
    },
    async (request) => {
      const q = request.query;
      const filters = instanceListFilters(q);
      const page = await runList(() => listInstancesAcross(db, { ...filters, ...(q.workflow?.length ? { workflowIds: q.workflow } : {}), ...(q.cursor !== undefined ? { cursor: q.cursor } : {}) }));
      return { items: page.items.map(summaryJson), ...(page.nextCursor ? { next_cursor: page.nextCursor } : {}) };
    },
  );

  app.get<{ Params: { id: string } }>(
    '/api/v3/workflows/:id/versions',
    {
      schema: doc({
        summary: 'Versions of a workflow, newest first',
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        response: {
          200: {
            type: 'object',
            properties: {
              workflow_id: { type: 'string' },
              active_version_id: { type: ['integer', 'null'] },
              versions: {
                type: 'array',
                items: {
                  type: 'object',
                  properties: { workflow_version_id: { type: 'integer' }, is_active: { type: 'boolean' }, create_time: { type: 'string', format: 'date-time' }, content_hash: { type: 'string' } },
                },
              },
            },
            required: ['workflow_id', 'active_version_id', 'versions'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const versions = await listVersions(db, id);
      if (versions.length === 0) throw notFound(`workflow "${id}" does not exist`);
      return {
        workflow_id: id,
        active_version_id: versions.find((v) => v.active)?.version ?? null,
        versions: versions.map((v) => ({ workflow_version_id: v.version, is_active: v.active, create_time: v.createdAt, content_hash: v.contentHash })),
      };
    },
  );
};
