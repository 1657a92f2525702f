import { STATUS_CODES } from 'node:http';
import type { FastifyError, FastifyReply, FastifyRequest } from 'fastify';

/** One field at fault, e.g. `{ field: 'body.workflowId', message: 'is required' }`. */
export interface FieldError {
  field: string;
  message: string;
}

/** An RFC 9457 problem document, the body of every error response. */
export interface Problem {
  type: string;
  title: string;
  status: number;
  detail: string;
  instance?: string;
  errors?: FieldError[];
}

export const PROBLEM_CONTENT_TYPE = 'application/problem+json; charset=utf-8';

/** Problem types Baton itself produces; routes may add their own `urn:baton:problem:*` types. */
export const ProblemTypes = {
  generic: 'about:blank',
  validation: 'urn:baton:problem:validation',
  notFound: 'urn:baton:problem:not-found',
  methodNotAllowed: 'urn:baton:problem:method-not-allowed',
  bodyTooLarge: 'urn:baton:problem:body-too-large',
  internal: 'urn:baton:problem:internal',
} as const;

/**
 * Thrown by route handlers to answer with a specific problem, e.g.
 * `throw new ProblemError(409, 'Workflow exists', 'workflow "etl" already has version 3')`.
 */
export class ProblemError extends Error {
  override readonly name = 'ProblemError';

  constructor(
    readonly status: number,
    readonly title: string,
    readonly detail: string,
    readonly extra: { type?: string; errors?: FieldError[] } = {},
  ) {
    super(detail);
  }
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.code(problem.status).header('content-type', PROBLEM_CONTENT_TYPE).send(problem);
}

export function notFoundHandler(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  return sendProblem(reply, {
    type: ProblemTypes.notFound,
    title: 'Not Found',
    status: 404,
    detail: `no route for ${request.method} ${request.url.split('?')[0]}`,
    instance: request.url,
  });
}

/**
 * Turns anything a route throws into a problem document. Client errors keep their message (they
 * describe the request); server errors are logged in full and answered with the request id only,
 * so internals never leak to callers.
 */
export function errorHandler(error: unknown, request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const problem = toProblem(error, request);
  if (problem.status >= 500) request.log.error({ err: error }, 'request failed');
  else request.log.info({ status: problem.status, detail: problem.detail }, 'request rejected');
  return sendProblem(reply, problem);
}

function toProblem(error: unknown, request: FastifyRequest): Problem {
  const instance = request.url;
  if (error instanceof ProblemError) {
    return {
      type: error.extra.type ?? ProblemTypes.generic,
      title: error.title,
      status: error.status,
      detail: error.detail,
      instance,
      ...(error.extra.errors ? { errors: error.extra.errors } : {}),
    };
  }
  const err = error as Partial<FastifyError> & { validationContext?: string };
  if (Array.isArray(err.validation)) {
    const errors = err.validation.map((v) => fieldError(err.validationContext ?? 'request', v));
    return {
      type: ProblemTypes.validation,
      title: 'Invalid request',
      status: 400,
      detail: errors.map((e) => `${e.field} ${e.message}`).join('; '),
      instance,
      errors,
    };
  }
  const status = typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode <= 599 ? err.statusCode : 500;
  if (status >= 500) {
    return {
      type: ProblemTypes.internal,
      title: STATUS_CODES[status] ?? 'Server Error',
      status,
      detail: `the server failed to handle this request; quote request id ${request.id} when reporting it`,
      instance,
    };
  }
  if (err.code === 'FST_ERR_CTP_BODY_TOO_LARGE') {
    const limit = request.routeOptions.bodyLimit;
    return {
      type: ProblemTypes.bodyTooLarge,
      title: 'Payload Too Large',
      status,
      detail: `request body exceeds the limit of ${limit} bytes`,
      instance,
    };
  }
  return {
    type: ProblemTypes.generic,
    title: STATUS_CODES[status] ?? 'Client Error',
    status,
    detail: err.message ?? 'the request was rejected',
    instance,
  };
}

interface AjvIssue {
  keyword?: string;
  instancePath?: string;
  params?: Record<string, unknown>;
  message?: string;
}

function fieldError(context: string, issue: AjvIssue): FieldError {
  const segments = (issue.instancePath ?? '').split('/').filter(Boolean).map(unescapePointer);
  const params = issue.params ?? {};
  // For these keywords the field at fault is the named property, not the object holding it.
  const named = params.missingProperty ?? params.additionalProperty ?? params.propertyName;
  if (typeof named === 'string') segments.push(named);
  const field = segments.reduce((acc, seg) => (/^\d+$/.test(seg) ? `${acc}[${seg}]` : `${acc}.${seg}`), context);
  return { field, message: messageFor(issue) };
}

function messageFor(issue: AjvIssue): string {
  switch (issue.keyword) {
    case 'required':
      return 'is required';
    case 'additionalProperties':
      return 'is not an allowed property';
    default:
      return issue.message ?? 'is invalid';
  }
}

function unescapePointer(seg: string): string {
  return seg.replace(/~1/g, '/').replace(/~0/g, '~');
}
