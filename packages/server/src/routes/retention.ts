import type { FastifyPluginAsync } from 'fastify';
import type { Queryable } from '@baton/engine-core';
import { retentionStatus, type RetentionLoop, type RetentionPassResult, type RetentionPolicy } from '@baton/signals';
import { doc, problemSchema } from './workflow-http.js';

export interface RetentionRoutesOptions {
  db: Queryable;
  retention: RetentionLoop;
}

const size = {
  type: 'object',
  properties: { table: { type: 'string' }, rows: { type: 'integer', description: "the planner's estimate once analysed, else counted" }, bytes: { type: 'integer' } },
  required: ['table', 'rows', 'bytes'],
} as const;

const partition = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    from: { type: ['string', 'null'], format: 'date-time', description: 'null: from the beginning (or the DEFAULT partition)' },
    to: { type: ['string', 'null'], format: 'date-time', description: 'rows expiring before this; null: the forever partition, or the DEFAULT one (rows whose day had no partition yet)' },
    is_default: { type: 'boolean' },
    forever: { type: 'boolean', description: 'holds the signals kept forever' },
    rows: { type: 'integer' },
    bytes: { type: 'integer' },
  },
  required: ['name', 'from', 'to', 'is_default', 'forever', 'rows', 'bytes'],
} as const;

const passSchema = {
  type: 'object',
  properties: {
    at: { type: 'string', format: 'date-time' },
    created: { type: 'array', items: { type: 'string' }, description: 'partitions created ahead' },
    dropped: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          partition: { type: 'string' },
          rows: { type: 'integer', description: 'expired signal instances removed' },
          kept: { type: 'integer', description: 'rows still needed (partial join, pending match, waiting step) moved to a later partition' },
          tombstones: { type: 'integer', description: 'purged instances lineage points to, kept as tombstones' },
        },
        required: ['partition', 'rows', 'kept', 'tombstones'],
      },
    },
    skipped: { type: 'array', items: { type: 'string' }, description: 'expired partitions left for the next pass (lock not had in time)' },
    duration_ms: { type: 'integer' },
  },
  required: ['at', 'created', 'dropped', 'skipped', 'duration_ms'],
} as const;

const policySchema = {
  type: 'object',
  properties: {
    default_seconds: { type: ['integer', 'null'], description: 'null: kept forever' },
    names: { type: 'object', additionalProperties: { type: ['integer', 'null'] } },
  },
  required: ['default_seconds', 'names'],
} as const;

const statusSchema = {
  type: 'object',
  properties: {
    policy: policySchema,
    partitions: { type: 'array', items: partition },
    tables: { type: 'array', items: size },
    oldest_retained: { type: ['string', 'null'], format: 'date-time', description: 'create time of the oldest stored signal instance' },
    next_expiry: { type: ['string', 'null'], format: 'date-time', description: 'end of the oldest partition holding rows: the next drop' },
    last_pass: { anyOf: [passSchema, { type: 'null' }], description: "this process's last pass (null before the first)" },
    last_error: { type: ['string', 'null'] },
  },
  required: ['policy', 'partitions', 'tables', 'oldest_retained', 'next_expiry', 'last_pass', 'last_error'],
} as const;

function passJson(result: RetentionPassResult, at: string) {
  return { at, created: result.created, dropped: result.dropped, skipped: result.skipped, duration_ms: result.durationMs };
}

const policyJson = (p: RetentionPolicy) => ({ default_seconds: p.defaultSeconds, names: p.names });

/** Signal retention for operators (admin role): its state, and a pass on demand. */
export const retentionRoutes: FastifyPluginAsync<RetentionRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/v3/admin/retention',
    {
      config: { access: 'admin' },
      schema: doc({
        summary: 'Signal retention: policy, partitions, table sizes, oldest retained signal, last pass',
        tags: ['admin'],
        response: { 200: statusSchema, 401: problemSchema, 403: problemSchema },
      }),
    },
    async () => {
      const s = await retentionStatus(opts.db);
      const last = opts.retention.last;
      return {
        policy: policyJson(s.policy),
        partitions: s.partitions.map((p) => ({ name: p.name, from: p.from, to: p.to, is_default: p.isDefault, forever: p.forever, rows: p.rows, bytes: p.bytes })),
        tables: s.tables,
        oldest_retained: s.oldestRetained,
        next_expiry: s.nextExpiry,
        last_pass: last ? passJson(last.result, last.at) : null,
        last_error: opts.retention.lastError ?? null,
      };
    },
  );

  app.post(
    '/api/v3/admin/retention/run',
    {
      config: { access: 'admin' },
      schema: doc({
        summary: 'Run a retention pass now: create partitions ahead, drop expired ones',
        tags: ['admin'],
        response: { 200: passSchema, 401: problemSchema, 403: problemSchema },
      }),
    },
    async () => {
      const result = await opts.retention.runNow();
      return passJson(result, opts.retention.last?.at ?? new Date().toISOString());
    },
  );
};
