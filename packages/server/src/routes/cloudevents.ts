import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { parseJson, SignalValidationError, stringifyJson, type PublishResult } from '@baton/signals';
import { jsonBodyText, storableJson } from '../http/json-body.js';
import { errorHandler, ProblemError, ProblemTypes } from '../http/problem.js';
import { problemSchema } from './workflow-http.js';

/** The CloudEvents logic behind the route: `CloudEventsIngestor` from @baton/signals (sources). */
export interface CloudEventsService {
  publish(events: readonly unknown[], mode: 'structured' | 'batch'): Promise<PublishResult[]>;
}

export interface CloudEventsRoutesOptions {
  cloudevents: CloudEventsService;
}

const STRUCTURED = 'application/cloudevents+json';
const BATCH = 'application/cloudevents-batch+json';
const BODY_LIMIT = 8 * 1024 * 1024;

/**
 * `POST /api/v3/cloudevents`: CloudEvents 1.0 in structured mode as signals. One event with
 * `application/cloudevents+json`, a JSON array with `application/cloudevents-batch+json` (stored
 * atomically). The event `type` (or the configured attribute) names the signal, `data` fields
 * become params, `source` + `id` deduplicate. Answers 200 with the publish results (a repeated
 * event has `duplicate: true`), 400 naming the event and field at fault, 415 for other media types.
 */
export const cloudEventsRoutes: FastifyPluginAsync<CloudEventsRoutesOptions> = async (app, opts) => {
  app.removeAllContentTypeParsers();
  app.addContentTypeParser([STRUCTURED, BATCH, 'application/json'], { parseAs: 'buffer', bodyLimit: BODY_LIMIT }, (_req, body, done) => {
    try {
      done(null, storableJson(parseJson(jsonBodyText(body))));
    } catch (err) {
      if (err instanceof ProblemError) return done(err, undefined);
      done(new ProblemError(400, 'Invalid JSON', `the body is not valid JSON: ${(err as Error).message}`, { type: ProblemTypes.validation }), undefined);
    }
  });
  app.setSerializerCompiler(() => (data) => stringifyJson(data));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => {
    if (error instanceof SignalValidationError) {
      return errorHandler(new ProblemError(400, 'Invalid CloudEvent', error.message, { type: ProblemTypes.validation, errors: error.errors }), request, reply);
    }
    if (error.code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE') {
      return errorHandler(new ProblemError(415, 'Unsupported Media Type', `send ${STRUCTURED} (one event) or ${BATCH} (a JSON array of events)`), request, reply);
    }
    return errorHandler(error, request, reply);
  });

  const result = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      seq_id: { type: 'integer' },
      instance_id: { type: 'string' },
      duplicate: { type: 'boolean', description: 'true when this event (source + id) was already stored; the first instance is returned' },
    },
    required: ['name', 'seq_id', 'instance_id', 'duplicate'],
  } as const;
  const schema = {
    summary: 'Publish CloudEvents as signals',
    description:
      'CloudEvents 1.0 in structured mode: one event as `application/cloudevents+json` (or `application/json`), or a JSON array as `application/cloudevents-batch+json`, stored atomically. The event `type` names the signal, `data` fields become params, `source` + `id` deduplicate.',
    tags: ['signals'],
    body: { description: 'one CloudEvent (structured mode) or, for the batch media type, an array of them' },
    response: {
      200: {
        description: 'the stored signal for one event, or `{signals: [...]}` for a batch',
        anyOf: [result, { type: 'object', properties: { signals: { type: 'array', items: result } }, required: ['signals'] }],
      },
      400: problemSchema,
      413: problemSchema,
      415: problemSchema,
    },
  };
  app.post('/api/v3/cloudevents', { bodyLimit: BODY_LIMIT, schema }, async (request) => {
    const type = (request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
    if (type === BATCH) {
      if (!Array.isArray(request.body)) {
        throw new ProblemError(400, 'Invalid CloudEvents batch', `a ${BATCH} body must be a JSON array of events`, { type: ProblemTypes.validation, errors: [{ field: 'events', message: 'must be an array' }] });
      }
      return { signals: await opts.cloudevents.publish(request.body, 'batch') };
    }
    // application/json is accepted as structured mode too: some producers label events that way.
    const [one] = await opts.cloudevents.publish([request.body], 'structured');
    return one;
  });
};
