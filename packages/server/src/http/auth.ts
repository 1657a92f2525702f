import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { sendProblem } from './problem.js';
import { verifyToken, type ApiToken, type Role } from './tokens.js';

/**
 * Who may call a route. `open`: anyone (probes, API docs, the SNS endpoint, which checks SNS's own
 * message signatures); `read`: reader or admin; `publish`: publisher or admin; `admin`: admin only.
 */
export type Access = 'open' | 'read' | 'publish' | 'admin';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Overrides the access Baton derives from the method and path (see `defaultAccess`). */
    access?: Access;
  }
  interface FastifyRequest {
    /** The token the request authenticated with; undefined when auth is off or the route is open. */
    apiToken?: ApiToken;
  }
}

export const ALLOWED_ROLES: Readonly<Record<Exclude<Access, 'open'>, readonly Role[]>> = {
  read: ['reader', 'admin'],
  publish: ['publisher', 'admin'],
  admin: ['admin'],
};

/** Routes that publish signals; a publisher token may call these and nothing else. */
export const PUBLISH_ROUTES: ReadonlySet<string> = new Set(['POST /api/v3/signals', 'POST /api/v3/cloudevents']);
/** Open whatever the method: probes, the OpenAPI document, the SNS subscription endpoint. */
const OPEN_PATHS: ReadonlySet<string> = new Set(['/healthz', '/readyz', '/openapi.json', '/api/v3/sns']);
/** The API documentation and its assets. */
const DOCS_PREFIX = '/docs';

/** The access a route gets unless its `config.access` says otherwise. */
export function defaultAccess(method: string, url: string): Access {
  if (OPEN_PATHS.has(url) || url === DOCS_PREFIX || url.startsWith(`${DOCS_PREFIX}/`)) return 'open';
  if (PUBLISH_ROUTES.has(`${method} ${url}`)) return 'publish';
  if (method === 'GET' || method === 'HEAD') return 'read';
  return 'admin';
}

/** Gives every route its access in `config.access` as it is registered (an `onRoute` hook). */
export function assignAccess(route: RouteOptions): Access {
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const given = route.config?.access;
  // A route serving several methods gets the strictest of their defaults.
  const access = given ?? methods.map((m) => defaultAccess(m, route.url)).reduce(stricter);
  route.config = { ...route.config, access };
  return access;
}

const STRICTNESS: Record<Access, number> = { open: 0, read: 1, publish: 2, admin: 3 };
function stricter(a: Access, b: Access): Access {
  return STRICTNESS[a] >= STRICTNESS[b] ? a : b;
}

export interface AuthOptions {
  tokens: readonly ApiToken[];
  /** False only for the loopback + PGlite setup without tokens: every request is let through. */
  enabled: boolean;
}

const BEARER = /^Bearer[ \t]+(\S+)[ \t]*$/i;

/**
 * The `onRequest` hook that authenticates and authorises. Answers 401 (with
 * `WWW-Authenticate: Bearer`) for a missing or unknown token and 403 when the token's role may not
 * call the route. A request matching no route still needs a valid token before it learns so (404).
 */
export function authHook(opts: AuthOptions) {
  return async function authenticate(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    if (!opts.enabled) return undefined;
    const access = request.routeOptions.url === undefined ? 'read' : (request.routeOptions.config.access ?? 'admin');
    if (access === 'open') return undefined;
    const header = request.headers.authorization;
    if (header === undefined) return unauthorized(reply, request, 'send an API token: Authorization: Bearer <token>', false);
    const match = BEARER.exec(header);
    if (!match) return unauthorized(reply, request, 'the Authorization header must be "Bearer <token>"', true);
    const token = verifyToken(opts.tokens, match[1]!);
    if (!token) return unauthorized(reply, request, 'the API token is not valid', true);
    request.apiToken = token;
    // 404 for an unknown path is no secret to any holder of a valid token.
    if (request.routeOptions.url === undefined) return undefined;
    const allowed = ALLOWED_ROLES[access];
    if (!allowed.includes(token.role)) {
      request.log.info({ token: token.name, role: token.role, access }, 'request forbidden');
      return sendProblem(reply, {
        type: 'urn:baton:problem:forbidden',
        title: 'Forbidden',
        status: 403,
        detail: `token "${token.name}" has role ${token.role}; ${request.method} ${request.routeOptions.url} needs ${allowed.join(' or ')}`,
        instance: request.url,
      });
    }
    return undefined;
  };
}

function unauthorized(reply: FastifyReply, request: FastifyRequest, detail: string, invalid: boolean): FastifyReply {
  reply.header('www-authenticate', invalid ? 'Bearer realm="baton", error="invalid_token"' : 'Bearer realm="baton"');
  return sendProblem(reply, { type: 'urn:baton:problem:unauthorized', title: 'Unauthorized', status: 401, detail, instance: request.url });
}
