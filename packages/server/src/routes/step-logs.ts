import type { FastifyPluginAsync } from 'fastify';
import { LOG_STREAMS, StepLogOffsetError, type Engine, type LogStream, type Queryable, type StepHttpResponse, type StepLogSummary } from '@baton/engine-core';
import { attemptKeyProperties, attemptParam, runParam, stepIdParam } from './instance-actions.js';
import { runNotFound } from './purged-runs.js';
import { badRequest, doc, instanceIdParam, notFound, problemSchema, useExactJson, workflowIdParam } from './workflow-http.js';

export interface StepLogRoutesOptions {
  engine: Engine;
  /** For the tombstone of a purged run (404 detail). */
  db: Queryable;
}


const DEFAULT_LIMIT = 256 * 1024;
const MAX_LIMIT = 4 * 1024 * 1024;
const QUERY_KEYS = ['stream', 'offset', 'limit'];

/** One stream's sizes, as the attempt answer lists them. */
export const logSummarySchema = {
  type: 'object',
  properties: {
    stream: { type: 'string', enum: [...LOG_STREAMS] },
    total_bytes: { type: 'integer', description: 'bytes the process printed' },
    stored_bytes: { type: 'integer', description: 'bytes kept: the first and the last half of the bound' },
    dropped_bytes: { type: 'integer', description: 'bytes dropped from the middle' },
    closed: { type: 'boolean', description: 'the writer stored everything and finished' },
  },
  required: ['stream', 'total_bytes', 'stored_bytes', 'dropped_bytes', 'closed'],
} as const;

export const httpResponseSchema = {
  type: ['object', 'null'],
  description: 'an Http step\'s response (the last one, after redirects): status, headers and the first bytes of the body',
  properties: {
    method: { type: 'string' },
    url: { type: 'string', description: 'without user info or query' },
    status_code: { type: 'integer' },
    status_text: { type: 'string' },
    headers: { type: 'object', additionalProperties: { type: 'string' } },
    body: { type: 'string' },
    body_bytes: { type: 'integer', description: 'size of the whole body' },
    body_truncated: { type: 'boolean' },
    time: { type: 'string', format: 'date-time' },
  },
} as const;

export function logSummaryJson(s: StepLogSummary) {
  return { stream: s.stream, total_bytes: s.totalBytes, stored_bytes: s.storedBytes, dropped_bytes: s.droppedBytes, closed: s.closed };
}

export function httpResponseJson(r: StepHttpResponse | null) {
  if (!r) return null;
  return {
    method: r.method,
    url: r.url,
    status_code: r.statusCode,
    status_text: r.statusText,
    headers: r.headers,
    body: r.body,
    body_bytes: r.bodyBytes,
    body_truncated: r.bodyTruncated,
    time: r.at,
  };
}

interface LogQuery {
  stream?: LogStream;
  offset?: number;
  limit?: number;
}

/** What a step attempt printed (Shell steps), page by page from an offset, for reading and following. */
export const stepLogRoutes: FastifyPluginAsync<StepLogRoutesOptions> = async (app, opts) => {
  const { engine, db } = opts;
  useExactJson(app);

  app.get<{ Params: { id: string; iid: string; run: string; stepId: string; attempt: string }; Querystring: LogQuery }>(
    '/api/v3/workflows/:id/instances/:iid/runs/:run/steps/:stepId/attempts/:attempt/logs',
    {
      schema: doc({
        summary: 'What a step attempt printed, from an offset',
        description:
          'A Shell step\'s stdout or stderr as stored while it runs: its first and last bytes up to the bound (`BATON_STEP_LOG_BYTES` per stream), the middle replaced by a marker `[… N bytes dropped …]` (also listed in `gaps`). Offsets are byte positions in the stream as printed. To follow a running step, ask again with `offset` = the previous `next_offset` until `complete` is true (the attempt ended and everything it printed was read). An Http step\'s response is in `http_response`.',
        tags: ['instances'],
        params: {
          type: 'object',
          properties: { id: workflowIdParam, iid: instanceIdParam, run: runParam, stepId: stepIdParam, attempt: attemptParam },
          required: ['id', 'iid', 'run', 'stepId', 'attempt'],
        },
        querystring: {
          type: 'object',
          properties: {
            stream: { type: 'string', enum: [...LOG_STREAMS], description: 'default stdout' },
            offset: { type: 'integer', minimum: 0, maximum: Number.MAX_SAFE_INTEGER, description: 'byte offset to read from (default 0)' },
            limit: { type: 'integer', minimum: 4, maximum: MAX_LIMIT, description: `most bytes of the stream returned (default ${DEFAULT_LIMIT})` },
          },
          additionalProperties: false,
        },
        response: {
          200: {
            type: 'object',
            properties: {
              ...attemptKeyProperties,
              step_type: { type: ['string', 'null'] },
              status: { type: 'string', description: 'the attempt\'s status' },
              ...logSummarySchema.properties,
              offset: { type: 'integer' },
              next_offset: { type: 'integer', description: 'pass as `offset` to read on' },
              text: { type: 'string' },
              gaps: { type: 'array', items: { type: 'object', properties: { offset: { type: 'integer' }, bytes: { type: 'integer' } } } },
              complete: { type: 'boolean', description: 'the attempt ended and nothing more will be printed after next_offset' },
              http_response: httpResponseSchema,
            },
            required: [...Object.keys(attemptKeyProperties), 'status', 'stream', 'offset', 'next_offset', 'text', 'complete'],
          },
          400: problemSchema,
          404: problemSchema,
        },
      }),
    },
    async (request) => {
      const { id, iid, run, stepId, attempt } = request.params;
      const q = request.query;
      // The schema's additionalProperties drops unknown parameters silently; name them instead.
      for (const key of new URL(request.url, 'http://x').searchParams.keys()) {
        if (!QUERY_KEYS.includes(key)) throw badRequest(`querystring.${key}`, `is not a parameter of this route (expected ${QUERY_KEYS.join(', ')})`);
      }
      let read;
      try {
        read = await engine.getStepLog(id, Number(iid), stepId, {
          ...(run === 'latest' ? {} : { runId: Number(run) }),
          ...(attempt === 'latest' ? {} : { attemptId: Number(attempt) }),
          stream: q.stream ?? 'stdout',
          offset: q.offset ?? 0,
          limit: q.limit ?? DEFAULT_LIMIT,
        });
      } catch (err) {
        if (err instanceof StepLogOffsetError) throw badRequest('querystring.offset', err.message);
        throw err;
      }
      if (!read) {
        const runId = run === 'latest' ? undefined : Number(run);
        if (!(await engine.getRun(id, Number(iid), runId))) throw await runNotFound(db, id, Number(iid), runId);
        throw notFound(`step ${stepId} of ${id} instance ${iid}${runId === undefined ? '' : ` run ${runId}`} has no attempt${attempt === 'latest' ? '' : ` ${attempt}`}`);
      }
      const { attempt: a, page } = read;
      return {
        workflow_id: a.workflowId,
        workflow_instance_id: a.instanceId,
        workflow_run_id: a.runId,
        step_id: a.stepId,
        step_attempt_id: a.attemptId,
        step_type: a.stepType,
        status: a.status,
        ...logSummaryJson(page),
        offset: page.offset,
        next_offset: page.nextOffset,
        text: page.text,
        gaps: page.gaps,
        complete: read.complete,
        http_response: httpResponseJson(read.httpResponse),
      };
    },
  );
};
