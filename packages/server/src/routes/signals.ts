import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest, FastifySchema } from 'fastify';
import {
  MAX_BATCH,
  MAX_LINEAGE_DEPTH,
  parseJson,
  SignalNotFoundError,
  SignalValidationError,
  stringifyJson,
  type ListQuery,
  type SignalParams,
  type SignalService,
} from '@baton/signals';
import { jsonBodyText, storableJson } from '../http/json-body.js';
import { errorHandler, ProblemError, ProblemTypes, type FieldError } from '../http/problem.js';

export interface SignalRoutesOptions {
  signals: SignalService;
}

/** Room for a full batch of signals with modest payloads. */
const PUBLISH_BODY_LIMIT = 8 * 1024 * 1024;

const paramValue = { description: 'a string or a 64-bit integer (exact: big integers stay JSON numbers)', anyOf: [{ type: 'string' }, { type: 'integer' }] };
const signalRequest = {
  type: 'object',
  description: 'One signal. Fields other than the ones listed are kept in the payload.',
  properties: {
    name: { description: 'path-like name, e.g. db/prod/orders (at most 512 characters, no empty segments or control characters)' },
    // Values are checked by the domain (bigint-aware), not by Ajv, which would coerce or reject them.
    params: { type: 'object', description: 'matchable params: name to a string or a 64-bit integer' },
    payload: { description: 'any JSON carried along, not matched' },
    request_id: { description: 'dedupe key; without it the instance id is a hash of name and params' },
    request_time: { description: 'epoch milliseconds when the client created the signal' },
  },
  additionalProperties: true,
} as const;
const publishResult = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    seq_id: { type: 'integer' },
    instance_id: { type: 'string' },
    duplicate: { type: 'boolean', description: 'true: the instance existed already; this is the first instance and nothing new was stored' },
  },
  required: ['name', 'seq_id', 'instance_id', 'duplicate'],
} as const;
const signalInstance = {
  type: 'object',
  properties: {
    name: { type: 'string' },
    seq_id: { type: 'integer' },
    instance_id: { type: 'string' },
    params: { type: 'object', additionalProperties: paramValue },
    payload: {},
    request_id: { type: 'string' },
    request_time: { type: 'integer' },
    create_time: { type: 'integer', description: 'epoch milliseconds' },
    source: {},
  },
  required: ['name', 'seq_id', 'instance_id', 'params', 'create_time'],
} as const;
const problem = {
  type: 'object',
  description: 'RFC 9457 problem document (application/problem+json)',
  properties: {
    type: { type: 'string' },
    title: { type: 'string' },
    status: { type: 'integer' },
    detail: { type: 'string' },
    instance: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } } } },
  },
} as const;
const nameParam = { type: 'string', description: 'the signal name, URL-encoded (db%2Fprod%2Forders)' } as const;
const seqParam = { type: 'string', pattern: '^(latest|[0-9]{1,19})$', description: 'a seq id or `latest`' } as const;

/**
 * The signals REST API (Maestro-shaped, under /api/v3/signals). Register without a prefix; the
 * routes carry their full paths. JSON bodies are parsed so 64-bit integers stay exact, and
 * responses write bigint as plain JSON numbers. Errors are problem documents naming the field.
 *
 * Duplicates: publishing an instance that exists (same request id, or same name and params)
 * answers 200 with the first instance and `duplicate: true`; nothing new is stored.
 */
export const signalRoutes: FastifyPluginAsync<SignalRoutesOptions> = async (app, opts) => {
  const signals = opts.signals;

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, body, done) => {
    try {
      const text = jsonBodyText(body);
      // Same stance as fastify's default parser: a __proto__ key is refused, never assigned.
      if (/"__proto__"\s*:/.test(text)) {
        throw new ProblemError(400, 'Invalid JSON', 'the body must not contain a "__proto__" key', { type: ProblemTypes.validation });
      }
      done(null, text.trim() === '' ? undefined : storableJson(parseJson(text)));
    } catch (err) {
      if (err instanceof ProblemError) return done(err, undefined);
      done(new ProblemError(400, 'Invalid JSON', `the body is not valid JSON: ${(err as Error).message}`, { type: ProblemTypes.validation }), undefined);
    }
  });
  app.setSerializerCompiler(() => (data) => stringifyJson(data));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => errorHandler(toProblem(error), request, reply));

  app.post(
    '/api/v3/signals',
    {
      bodyLimit: PUBLISH_BODY_LIMIT,
      schema: doc({
        summary: 'Publish one signal or a batch',
        description: `One signal object, or {"signals": [...]} with 1..${MAX_BATCH} signals stored atomically (an invalid signal rejects the whole batch). Always 200, also for duplicates (see duplicate).`,
        body: {
          anyOf: [
            signalRequest,
            { type: 'object', properties: { signals: { type: 'array', items: signalRequest } }, required: ['signals'] },
          ],
        },
        response: {
          200: { anyOf: [publishResult, { type: 'object', properties: { signals: { type: 'array', items: publishResult } }, required: ['signals'] }] },
          400: problem,
        },
      }),
    },
    async (request) => {
      const body = request.body;
      if (typeof body !== 'object' || body === null || Array.isArray(body)) {
        throw new ProblemError(400, 'Invalid signal', 'body: must be a JSON object (one signal, or {"signals": [...]})', {
          type: ProblemTypes.validation,
          errors: [{ field: 'body', message: 'must be a JSON object' }],
        });
      }
      const rec = body as Record<string, unknown>;
      if ('signals' in rec) {
        if (!Array.isArray(rec.signals)) {
          throw new ProblemError(400, 'Invalid signal', 'signals: must be an array', { type: ProblemTypes.validation, errors: [{ field: 'signals', message: 'must be an array' }] });
        }
        return { signals: await signals.publish(rec.signals, { type: 'REST' }) };
      }
      try {
        const [one] = await signals.publish([rec], { type: 'REST' });
        return one;
      } catch (err) {
        // A single signal's fields are named from the body's root.
        if (err instanceof SignalValidationError) throw new SignalValidationError(err.errors.map((e) => ({ ...e, field: e.field.replace(/^signals\[0\]\.?/, '') || 'body' })));
        throw err;
      }
    },
  );

  app.get<{ Params: { name: string; seq: string } }>(
    '/api/v3/signals/:name/instances/:seq',
    {
      schema: doc({
        summary: 'One signal instance by seq id, or the latest',
        params: { type: 'object', properties: { name: nameParam, seq: seqParam }, required: ['name', 'seq'] },
        response: { 200: signalInstance, 400: problem, 404: problem },
      }),
    },
    async (request) => signals.getInstance(request.params.name, seqOf(request.params.seq)),
  );

  app.get<{ Params: { name: string }; Querystring: Record<string, string> }>(
    '/api/v3/signals/:name/instances',
    {
      schema: doc({
        summary: 'Instances of a signal, newest first',
        description: 'Filter by params with `param.<name>=<value>` (digits are integers) or `params=<JSON object>` (exact types), and by time with `from`/`to` (ISO-8601 or epoch ms). Pages with `cursor` = the previous `next_cursor`.',
        params: { type: 'object', properties: { name: nameParam }, required: ['name'] },
        querystring: {
          type: 'object',
          properties: {
            params: { type: 'string', pattern: '^\\s*\\{[\\s\\S]*\\}\\s*$', description: 'JSON object of param equality filters, e.g. {"dateint":20260101}' },
            from: { type: 'string', description: 'inclusive lower bound on create_time' },
            to: { type: 'string', description: 'exclusive upper bound on create_time' },
            limit: { type: 'string', pattern: '^(?:[1-9][0-9]{0,2}|1000)$', description: 'page size 1..1000, default 100' },
            cursor: { type: 'string' },
          },
          additionalProperties: { type: 'string' },
        },
        response: {
          200: { type: 'object', properties: { instances: { type: 'array', items: signalInstance }, next_cursor: { type: 'string' } }, required: ['instances'] },
          400: problem,
        },
      }),
    },
    async (request) => signals.listInstances(request.params.name, listQuery(request.query)),
  );

  app.get<{ Params: { name: string; seq: string }; Querystring: { depth?: string } }>(
    '/api/v3/signals/:name/instances/:seq/lineage',
    {
      schema: doc({
        summary: 'What a signal instance triggered and unblocked, transitively',
        params: { type: 'object', properties: { name: nameParam, seq: seqParam }, required: ['name', 'seq'] },
        querystring: { type: 'object', properties: { depth: { type: 'string', pattern: '^[0-9]{1,2}$', description: `1..${MAX_LINEAGE_DEPTH}, default 3` } } },
        response: {
          200: {
            type: 'object',
            properties: {
              nodes: { type: 'array', items: { type: 'object', additionalProperties: true } },
              edges: { type: 'array', items: { type: 'object', properties: { from: { type: 'string' }, to: { type: 'string' }, kind: { type: 'string' } } } },
              truncated: { type: 'boolean' },
            },
          },
          400: problem,
          404: problem,
        },
      }),
    },
    async (request) => {
      const depth = request.query.depth === undefined ? 3 : Number(request.query.depth);
      if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LINEAGE_DEPTH) {
        throw new SignalValidationError([{ field: 'querystring.depth', message: `must be an integer from 1 to ${MAX_LINEAGE_DEPTH}` }]);
      }
      return signals.lineageOfSignal(request.params.name, seqOf(request.params.seq), depth);
    },
  );
};

/** Route schemas carry OpenAPI's summary and description next to fastify's validation keys. */
function doc(schema: FastifySchema & { summary?: string; description?: string }): FastifySchema {
  return schema;
}

function seqOf(text: string): number | bigint | 'latest' {
  if (text === 'latest') return 'latest';
  const n = BigInt(text);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}

/** Times the database and ISO-8601 (four-digit years) both represent. */
const MIN_TIME_MS = Date.parse('0001-01-01T00:00:00Z');
const MAX_TIME_MS = Date.parse('9999-12-31T23:59:59.999Z');

function timeOf(text: string | undefined, field: string, errors: FieldError[]): Date | undefined {
  if (text === undefined) return undefined;
  const d = /^-?\d+$/.test(text) ? new Date(Number(text)) : new Date(text);
  if (Number.isNaN(d.getTime())) errors.push({ field: `querystring.${field}`, message: 'must be an ISO-8601 time or epoch milliseconds' });
  else if (d.getTime() < MIN_TIME_MS || d.getTime() > MAX_TIME_MS) {
    errors.push({ field: `querystring.${field}`, message: 'must be a time from 0001-01-01T00:00:00Z to 9999-12-31T23:59:59.999Z' });
  }
  return d;
}

function listQuery(q: Record<string, string>): ListQuery {
  const errors: FieldError[] = [];
  const params: Record<string, unknown> = {};
  if (q.params !== undefined) {
    try {
      const parsed = parseJson(q.params);
      if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) throw new Error('not an object');
      Object.assign(params, parsed);
    } catch {
      errors.push({ field: 'querystring.params', message: 'must be a JSON object of param name to string or integer' });
    }
  }
  for (const [k, v] of Object.entries(q)) {
    if (!k.startsWith('param.')) continue;
    params[k.slice('param.'.length)] = /^-?\d{1,19}$/.test(v) ? BigInt(v) : v;
  }
  const out: ListQuery = { params: params as SignalParams };
  out.from = timeOf(q.from, 'from', errors);
  out.to = timeOf(q.to, 'to', errors);
  if (q.limit !== undefined) out.limit = Number(q.limit);
  if (q.cursor !== undefined) out.cursor = q.cursor;
  if (errors.length > 0) throw new SignalValidationError(errors);
  return out;
}

/** Domain errors as problems; everything else goes to the server's problem mapping unchanged. */
function toProblem(error: FastifyError | Error): unknown {
  if (error instanceof SignalValidationError) {
    return new ProblemError(400, 'Invalid signal request', error.message, { type: ProblemTypes.validation, errors: error.errors });
  }
  if (error instanceof SignalNotFoundError) return new ProblemError(404, 'Not Found', error.message, { type: ProblemTypes.notFound });
  return error;
}
