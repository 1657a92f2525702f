import type { FastifyPluginAsync } from 'fastify';
import type { Db } from '@baton/engine-core';
import { CATALOG_DEFAULT_DEPTH, CatalogFocusNotFoundError, lineageCatalog, MAX_LINEAGE_DEPTH, nameProblem } from '@baton/signals';
import { knownQuery } from './list-query.js';
import { badRequest, doc, notFound, problemSchema, workflowIdParam } from './workflow-http.js';

export interface LineageCatalogRoutesOptions {
  db: Db;
}

interface CatalogQuerystring {
  workflow?: string;
  signal?: string;
  depth?: number;
}

const query = {
  workflow: { ...workflowIdParam, description: 'centre the graph on this workflow' },
  signal: { type: 'string', minLength: 1, maxLength: 512, description: 'centre the graph on this signal name' },
  depth: { type: 'integer', minimum: 1, maximum: MAX_LINEAGE_DEPTH, description: `with workflow or signal: hops to follow up- and downstream, 1..${MAX_LINEAGE_DEPTH} (default ${CATALOG_DEFAULT_DEPTH})` },
} as const;

const node = {
  type: 'object',
  description:
    'signal {id, type, name}; workflow {id, type, workflow_id, name, version}; time_trigger {id, type, workflow_id, trigger_index, trigger_type (CRON, PREDEFINED, INTERVAL), expression, timezone, disabled}',
  properties: {
    id: { type: 'string' },
    type: { type: 'string', enum: ['signal', 'workflow', 'time_trigger'] },
    name: { type: ['string', 'null'] },
    workflow_id: { type: 'string' },
    version: { type: 'integer' },
    trigger_index: { type: 'integer' },
    trigger_type: { type: 'string', enum: ['CRON', 'PREDEFINED', 'INTERVAL'] },
    expression: { type: 'string' },
    timezone: { type: ['string', 'null'] },
    disabled: { type: 'boolean' },
  },
  required: ['id', 'type'],
} as const;

const edge = {
  type: 'object',
  properties: {
    from: { type: 'string' },
    to: { type: 'string' },
    kind: { type: 'string', enum: ['TRIGGERS', 'UNBLOCKS', 'EMITS', 'FIRES'], description: 'TRIGGERS: signal → workflow it starts; UNBLOCKS: signal → workflow whose steps wait for it; EMITS: workflow → signal its steps publish; FIRES: time trigger → workflow' },
    steps: { type: 'array', items: { type: 'string' }, description: 'UNBLOCKS and EMITS: the steps that wait for or publish the signal' },
  },
  required: ['from', 'to', 'kind'],
} as const;

/** `GET /api/v3/lineage/catalog`: the signal → workflow → signal graph of every active workflow. */
export const lineageCatalogRoutes: FastifyPluginAsync<LineageCatalogRoutesOptions> = async (app, opts) => {
  app.get<{ Querystring: CatalogQuerystring }>(
    '/api/v3/lineage/catalog',
    {
      schema: doc({
        summary: 'The lineage catalog: signals → workflows → signals across all active workflows',
        description:
          "Built from the active versions' signal triggers, step signal dependencies, step signal outputs and time triggers (not from recorded runs). " +
          `Whole, or centred on \`workflow\` or \`signal\` with the nodes \`depth\` hops up- and downstream of it. At most 2,000 nodes (\`truncated\` says when more were left out).`,
        tags: ['lineage'],
        querystring: { type: 'object', properties: query, additionalProperties: false },
        response: {
          200: {
            type: 'object',
            properties: {
              nodes: { type: 'array', items: node },
              edges: { type: 'array', items: edge },
              focus: { type: ['string', 'null'], description: 'id of the node the graph is centred on' },
              depth: { type: ['integer', 'null'] },
              truncated: { type: 'boolean' },
            },
            required: ['nodes', 'edges', 'focus', 'depth', 'truncated'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
      preValidation: knownQuery(query),
    },
    async (request) => {
      const q = request.query;
      if (q.workflow !== undefined && q.signal !== undefined) throw badRequest('querystring', 'give workflow or signal, not both');
      if (q.depth !== undefined && q.workflow === undefined && q.signal === undefined) throw badRequest('querystring.depth', 'needs workflow or signal to centre on');
      if (q.signal !== undefined) {
        const problem = nameProblem(q.signal);
        if (problem) throw badRequest('querystring.signal', `signal name ${problem}`);
      }
      const focus = q.workflow !== undefined ? { workflow: q.workflow } : q.signal !== undefined ? { signal: q.signal } : undefined;
      try {
        return await lineageCatalog(opts.db, { ...(focus ? { focus } : {}), ...(q.depth !== undefined ? { depth: q.depth } : {}) });
      } catch (err) {
        if (err instanceof CatalogFocusNotFoundError) throw notFound(err.message);
        throw err;
      }
    },
  );
};
