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
    run_history: {
      anyOf: [
        {
          type: 'object',
          description: 'weekly run-history partitions (timelines, log chunks) dropped after the purge',
          properties: {
            dropped: {
              type: 'array',
              items: {
                type: 'object',
                properties: {
                  table: { type: 'string' },
                  partition: { type: 'string' },
                  rows: { type: 'integer', description: 'rows of purged runs dropped with the partition' },
                  kept: { type: 'integer', description: 'rows of runs still stored, moved to the current week' },
                },
                required: ['table', 'partition', 'rows', 'kept'],
              },
            },
            skipped: { type: 'array', items: { type: 'string' }, description: 'expired partitions left for the next pass (lock not had in time)' },
          },
          required: ['dropped', 'skipped'],
        },
        { type: 'null' },
      ],
      description: 'null: finished runs are kept forever',
    },
    runs: {
      anyOf: [
        {
          type: 'object',
          description: 'finished runs purged (BATON_RUN_RETENTION)',
          properties: {
            runs: { type: 'integer', description: 'instance rows deleted: every run of each purged chain, its subworkflow children and loop iterations' },
            tombstones: { type: 'integer', description: 'purged instance chains (not loop iterations), each leaving a tombstone' },
            attempts: { type: 'integer', description: 'step attempts deleted' },
            kept: { type: 'integer', description: 'expired chains kept because a run of their family is open, ended recently, is queued for, or blocks a STRICT_SEQUENTIAL workflow' },
            batches: { type: 'integer' },
            more: { type: 'boolean', description: 'the pass stopped at its batch limit; the next one continues' },
          },
          required: ['runs', 'tombstones', 'attempts', 'kept', 'batches', 'more'],
        },
        { type: 'null' },
      ],
      description: 'null: finished runs are kept forever',
    },
    tombstones: {
      type: 'object',
      description: 'signal tombstones removed: every run their lineage edges led to was purged by run retention',
      properties: {
        removed: { type: 'integer', description: 'tombstones removed' },
        edges: { type: 'integer', description: 'lineage edges removed with them (purged signal to purged run)' },
        scanned: { type: 'integer', description: 'tombstones looked at' },
        more: { type: 'boolean', description: 'the pass stopped at its batch limit; the next one continues where it stopped' },
      },
      required: ['removed', 'edges', 'scanned', 'more'],
    },
    run_signal_rows: {
      type: 'object',
      description: 'per-step signal rows of runs purged by run retention, deleted',
      properties: {
        waiters: { type: 'integer', description: 'step signal waiters (any status)' },
        outputs: { type: 'integer', description: 'records of the signals a step emitted' },
      },
      required: ['waiters', 'outputs'],
    },
  },
  required: ['at', 'created', 'dropped', 'skipped', 'duration_ms', 'runs', 'run_history', 'tombstones', 'run_signal_rows'],
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
    runs: {
      type: 'object',
      description: 'finished-run history (engine tables)',
      properties: {
        retention_seconds: { type: ['integer', 'null'], description: "this process's BATON_RUN_RETENTION; null: kept forever" },
        tables: { type: 'array', items: size },
        partitions: {
          type: 'array',
          description: 'weekly partitions of the run-history tables (by write time), per table oldest first',
          items: { ...partition, properties: { table: { type: 'string' }, ...partition.properties }, required: ['table', ...partition.required] },
        },
        oldest_retained: { type: ['string', 'null'], format: 'date-time', description: 'end time of the oldest stored finished top-level run' },
      },
      required: ['retention_seconds', 'tables', 'partitions', 'oldest_retained'],
    },
    tombstones: {
      type: 'object',
      description: 'tombstones of purged signals that lineage of a stored run still points to',
      properties: {
        rows: { type: 'integer', description: "the planner's estimate once analysed, else counted" },
        oldest_purged_at: { type: ['string', 'null'], format: 'date-time', description: 'when the signal of the oldest stored tombstone was purged' },
      },
      required: ['rows', 'oldest_purged_at'],
    },
    last_pass: { anyOf: [passSchema, { type: 'null' }], description: "this process's last pass (null before the first)" },
    last_error: { type: ['string', 'null'] },
  },
  required: ['policy', 'partitions', 'tables', 'oldest_retained', 'next_expiry', 'runs', 'tombstones', 'last_pass', 'last_error'],
} as const;

function passJson(result: RetentionPassResult, at: string) {
  return { at, created: result.created, dropped: result.dropped, skipped: result.skipped, duration_ms: result.durationMs, runs: result.runs ?? null, run_history: result.history ?? null,
    tombstones: result.tombstones ?? { removed: 0, edges: 0, scanned: 0, more: false },
    run_signal_rows: result.runSignalRows ?? { waiters: 0, outputs: 0 } };
}

const policyJson = (p: RetentionPolicy) => ({ default_seconds: p.defaultSeconds, names: p.names });

/** Signal and run retention for operators (admin role): its state, and a pass on demand. */
export const retentionRoutes: FastifyPluginAsync<RetentionRoutesOptions> = async (app, opts) => {
  app.get(
    '/api/v3/admin/retention',
    {
      config: { access: 'admin' },
      schema: doc({
        summary: 'Retention of signals and finished runs: policy, partitions, table sizes, oldest retained signal and run, last pass',
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
        runs: {
          retention_seconds: opts.retention.runRetentionSeconds,
          tables: s.runs.tables,
          partitions: s.runs.partitions.map((p) => ({ table: p.table, name: p.name, from: p.from, to: p.to, is_default: p.isDefault, forever: p.forever, rows: p.rows, bytes: p.bytes })),
          oldest_retained: s.runs.oldestRetained,
        },
        tombstones: { rows: s.tombstones.rows, oldest_purged_at: s.tombstones.oldestPurgedAt },
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
        summary: 'Run a retention pass now: create partitions ahead, drop expired ones, purge expired finished runs',
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
