import type { FastifyInstance, FastifySchema } from 'fastify';
import { JsonSyntaxError, parseJsonText, stringifyJson, type DefinitionIssue, type JsonValue } from '@baton/engine-core';
import { storableJson, utf8Text } from '../http/json-body.js';
import { ProblemError, ProblemTypes, type FieldError } from '../http/problem.js';

/** Shared by the workflow and instance route plugins: schemas, parsing and serialising. */

export const problemSchema = {
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

export const workflowIdParam = { type: 'string', minLength: 1, maxLength: 256, description: 'the workflow id' } as const;
export const versionParam = { type: 'string', pattern: '^(latest|active|[1-9][0-9]{0,8})$', description: 'a version number, `latest` or `active`' } as const;
export const instanceIdParam = { type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: 'the workflow instance id' } as const;

/** The fields that name one run of an instance together with its workflow version, in an answer. */
export const versionedRunKeyProperties = {
  workflow_id: { type: 'string' },
  workflow_version_id: { type: 'integer' },
  workflow_instance_id: { type: 'integer' },
  workflow_run_id: { type: 'integer' },
} as const;

/** Route schemas carry OpenAPI's summary and description next to fastify's validation keys. */
export function doc(schema: FastifySchema & { summary?: string; description?: string; tags?: string[] }): FastifySchema {
  return schema;
}

const rawBodies = new WeakMap<object, string>();

/** The request body text, for definition parsers that report line and column. */
export function rawBody(request: object): string | undefined {
  return rawBodies.get(request);
}

/**
 * JSON bodies through the definitions package's parser (exact 64-bit integers, syntax errors
 * with line and column), keeping the text; responses written the same way (bigint as exact JSON
 * numbers, dates as ISO-8601).
 */
export function useExactJson(app: FastifyInstance): void {
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      // Nesting is bounded by the definitions parser itself (reported with line and column).
      text = utf8Text(body);
    } catch (err) {
      return done(err as Error, undefined);
    }
    rawBodies.set(request, text);
    if (text.trim() === '') return done(null, undefined);
    try {
      if (/"__proto__"\s*:/.test(text)) throw new ProblemError(400, 'Invalid JSON', 'the body must not contain a "__proto__" key', { type: ProblemTypes.validation, errors: [{ field: 'body', message: 'must not contain a "__proto__" key' }] });
      done(null, storableJson(parseJsonText(text)));
    } catch (err) {
      if (err instanceof ProblemError) return done(err, undefined);
      const message = err instanceof JsonSyntaxError ? `malformed JSON: ${err.message}` : `malformed JSON: ${(err as Error).message}`;
      done(new ProblemError(400, 'Invalid JSON', `body: ${message}`, { type: ProblemTypes.validation, errors: [{ field: 'body', message }] }), undefined);
    }
  });
  app.setSerializerCompiler(() => (data) => toJsonText(data));
}

export function toJsonText(data: unknown): string {
  return stringifyJson(toJsonValue(data));
}

function toJsonValue(v: unknown): JsonValue {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return v.toISOString();
  if (Array.isArray(v)) return v.map(toJsonValue);
  if (typeof v === 'object') {
    const o: Record<string, JsonValue> = {};
    for (const [k, x] of Object.entries(v)) if (x !== undefined) Object.defineProperty(o, k, { value: toJsonValue(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  if (typeof v === 'bigint' || typeof v === 'number' || typeof v === 'string' || typeof v === 'boolean') return v;
  return String(v);
}

/** Definition issues as problem field errors (`workflow.steps[2].id`), with the source position when known. */
export function issueErrors(issues: readonly DefinitionIssue[]): FieldError[] {
  return issues.map((i) => ({
    field: i.field === '' ? 'body' : i.field,
    message: i.line !== undefined ? `${i.message} (line ${i.line}, column ${i.column ?? 0})` : i.message,
  }));
}

export function invalidDefinition(issues: readonly DefinitionIssue[]): ProblemError {
  const errors = issueErrors(issues);
  return new ProblemError(400, 'Invalid workflow definition', errors.map((e) => `${e.field}: ${e.message}`).join('; '), { type: ProblemTypes.validation, errors });
}

export function notFound(detail: string): ProblemError {
  return new ProblemError(404, 'Not Found', detail, { type: ProblemTypes.notFound });
}

export function badRequest(field: string, message: string): ProblemError {
  return new ProblemError(400, 'Invalid request', `${field}: ${message}`, { type: ProblemTypes.validation, errors: [{ field, message }] });
}

export function versionSelector(text: string): 'latest' | 'active' | number {
  return text === 'latest' || text === 'active' ? text : Number(text);
}
