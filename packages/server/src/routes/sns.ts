import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import { errorHandler, ProblemError, ProblemTypes } from '../http/problem.js';
import { problemSchema } from './workflow-http.js';

/** What the endpoint answers for one SNS message (the signals package's SnsIngestor produces it). */
export type SnsRouteOutcome =
  | { status: 200; kind: string; topicArn: string; signal?: unknown }
  | { status: 400 | 403 | 502 | 503; title: string; detail: string };

/** The SNS logic behind the endpoint: `SnsIngestor` from @baton/signals (sources/sns). */
export interface SnsEndpointService {
  handle(body: unknown, messageTypeHeader?: string): Promise<SnsRouteOutcome>;
}

export interface SnsRoutesOptions {
  sns: SnsEndpointService;
  /** Path of the subscription endpoint (default /api/v3/sns). */
  path?: string;
}

/** SNS messages are small (256 KiB payload plus the envelope). */
const BODY_LIMIT = 512 * 1024;

/**
 * The HTTP(S) endpoint SNS topics subscribe to. SNS posts its JSON envelope as text/plain; the
 * body is handed to the SNS service unparsed so the signature is checked over exactly what was
 * sent. Answers 200 on success (also for a repeated MessageId), 403 for a bad signature or an
 * unconfigured topic, 400 for a message that cannot become a signal, 502/503 so SNS retries
 * when confirming or fetching the certificate failed.
 */
export const snsRoutes: FastifyPluginAsync<SnsRoutesOptions> = async (app, opts) => {
  const path = opts.path ?? '/api/v3/sns';
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('*', { parseAs: 'string', bodyLimit: BODY_LIMIT }, (_req, body, done) => done(null, body));
  app.setErrorHandler((error: FastifyError, request: FastifyRequest, reply: FastifyReply) => errorHandler(error, request, reply));

  app.post(
    path,
    {
      bodyLimit: BODY_LIMIT,
      schema: {
        summary: 'SNS HTTP(S) subscription endpoint',
        body: { type: 'string', description: 'the SNS message JSON, as SNS posts it (text/plain)' },
        description: 'Receives SubscriptionConfirmation, Notification and UnsubscribeConfirmation messages from Amazon SNS. Notifications become signals per the configured mapping of their topic ARN, deduplicated on MessageId.',
        response: {
          200: {
            type: 'object',
            properties: {
              result: { type: 'string', description: 'what was done with the message' },
              topicArn: { type: 'string' },
              signal: { type: 'object', additionalProperties: true, description: 'the stored signal: name, seq_id, instance_id, duplicate' },
            },
            required: ['result'],
          },
          400: problemSchema,
          403: problemSchema,
          404: problemSchema,
        },
      },
    },
    async (request, reply) => {
      const header = request.headers['x-amz-sns-message-type'];
      if (typeof request.body !== 'string' || request.body.length === 0) {
        throw new ProblemError(400, 'Invalid SNS message', 'the body must be the SNS message JSON', { type: ProblemTypes.validation });
      }
      const out = await opts.sns.handle(request.body, typeof header === 'string' ? header : undefined);
      if (out.status !== 200) {
        throw new ProblemError(out.status, out.title, out.detail, out.status === 400 ? { type: ProblemTypes.validation } : {});
      }
      return reply.code(200).send(out.signal === undefined ? { result: out.kind, topicArn: out.topicArn } : { result: out.kind, topicArn: out.topicArn, signal: out.signal });
    },
  );
};
