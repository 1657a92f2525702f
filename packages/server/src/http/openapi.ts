import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifySchema } from 'fastify';
import type { BatonApp } from '../baton-app.js';
import { ALLOWED_ROLES, type Access } from './auth.js';

export const DOCS_PATH = '/docs';
/** The OpenAPI document as JSON (the UI also serves it at /docs/json). */
export const OPENAPI_JSON_PATH = '/openapi.json';

const BEARER_SCHEME = 'bearerAuth';

/** The sentence the documentation gives each route about who may call it. */
export function accessNote(access: Access): string {
  if (access === 'open') return 'No token needed.';
  const roles = ALLOWED_ROLES[access].join(' or ');
  return `Needs ${/^[aeiou]/.test(roles) ? 'an' : 'a'} ${roles} token.`;
}

const PROBLEM_DOC = {
  type: 'object',
  description: 'RFC 9457 problem document (application/problem+json)',
  properties: { type: { type: 'string' }, title: { type: 'string' }, status: { type: 'integer' }, detail: { type: 'string' }, instance: { type: 'string' } },
  required: ['type', 'title', 'status', 'detail'],
} as const;

/** The answers auth and the publish limit add to a route, for its documentation only. */
function withAuthResponses(response: unknown, access: Access): unknown {
  if (access === 'open') return response;
  const added: Record<string, unknown> = {
    401: { ...PROBLEM_DOC, description: 'missing or invalid API token (WWW-Authenticate: Bearer)' },
    403: { ...PROBLEM_DOC, description: "the token's role may not call this route" },
  };
  if (access === 'publish') added[429] = { ...PROBLEM_DOC, description: 'the token used up its publishes for this minute (BATON_PUBLISH_RATE_LIMIT); see Retry-After' };
  const given = (response ?? {}) as Record<string, unknown>;
  // A route that documents one of these answers itself keeps its own description.
  return { ...added, ...given, ...(Object.keys(given).length === 0 ? { 200: { description: 'Default Response' } } : {}) };
}

const PROBLEM_TYPE = 'application/problem+json';

/**
 * Error answers are documented as what they are: `application/problem+json` problem documents. A
 * route that takes params, a query or a body may answer 400 (its input failed validation) even
 * when it does not list it.
 */
export function problemResponses(response: unknown, takesInput: boolean): unknown {
  if (response === undefined && !takesInput) return undefined;
  const given = { ...((response ?? { 200: { description: 'Default Response' } }) as Record<string, unknown>) };
  if (takesInput && given[400] === undefined) given[400] = { ...PROBLEM_DOC, description: 'the request is invalid; `errors` names each field at fault' };
  const out: Record<string, unknown> = {};
  for (const [code, raw] of Object.entries(given)) {
    const schema = raw as Record<string, unknown> | undefined;
    if (!/^[45]\d\d$/.test(code) || !schema || typeof schema !== 'object' || 'content' in schema) {
      out[code] = raw;
      continue;
    }
    const { description, ...body } = schema;
    out[code] = { description: typeof description === 'string' ? description : 'problem document', content: { [PROBLEM_TYPE]: { schema: { ...PROBLEM_DOC, ...body } } } };
  }
  return out;
}

/**
 * Collects every route's schema into an OpenAPI 3 document. Register before any route: the
 * plugin learns routes from `onRoute`, so a route added earlier would be missing from the document.
 */
export async function registerOpenApi(app: BatonApp, opts: { version: string }): Promise<void> {
  await app.register(swagger, {
    openapi: {
      openapi: '3.0.3',
      info: {
        title: 'Baton API',
        version: opts.version,
        description:
          'Signals, workflows and their lineage. Errors are RFC 9457 problem documents (application/problem+json) naming the field at fault. ' +
          'Send API tokens as `Authorization: Bearer <token>`; roles: reader (every GET), publisher (publishing signals), admin (everything).',
      },
      components: { securitySchemes: { [BEARER_SCHEME]: { type: 'http', scheme: 'bearer', description: 'an API token from BATON_TOKENS or BATON_TOKENS_FILE' } } },
    },
    transform: ({ schema, url, route }) => {
      const access = route.config?.access ?? 'admin';
      const given = (schema ?? {}) as FastifySchema & { description?: string; security?: unknown };
      const note = accessNote(access);
      const description = given.description ? `${given.description}\n\n${note}` : note;
      // Documented as deployed: only the loopback + PGlite setup runs without tokens.
      const security = access === 'open' ? [] : [{ [BEARER_SCHEME]: [] }];
      const takesInput = Boolean(given.params || given.querystring || given.body);
      const response = problemResponses(withAuthResponses(given.response, access), takesInput);
      return { schema: { ...given, description, security, response } as FastifySchema, url };
    },
  });
  await app.register(swaggerUi, { routePrefix: DOCS_PATH, uiConfig: { deepLinking: true }, staticCSP: true });
  app.get(OPENAPI_JSON_PATH, { schema: { hide: true } }, async () => app.swagger());
}
