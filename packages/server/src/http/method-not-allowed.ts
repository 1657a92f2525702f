import type { FastifyReply, FastifyRequest, RouteOptions } from 'fastify';
import { notFoundHandler, ProblemTypes, sendProblem } from './problem.js';

/**
 * The methods each registered path answers, so a request for a known path with another method is
 * a 405 with `Allow` (RFC 9110) rather than a 404. Paths are fastify patterns: `:name` matches one
 * segment, `*` the rest.
 */
export class RouteMethods {
  private readonly byPattern = new Map<string, { re: RegExp; methods: Set<string> }>();

  add(route: Pick<RouteOptions, 'method' | 'url'>): void {
    let entry = this.byPattern.get(route.url);
    if (!entry) {
      entry = { re: patternRegExp(route.url), methods: new Set() };
      this.byPattern.set(route.url, entry);
    }
    for (const m of [route.method].flat()) entry.methods.add(String(m).toUpperCase());
  }

  /** The methods `path` answers (sorted), or an empty list for a path no route has. */
  allowed(path: string): string[] {
    const p = path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
    const out = new Set<string>();
    for (const { re, methods } of this.byPattern.values()) if (re.test(p)) for (const m of methods) out.add(m);
    return [...out].sort();
  }

  /** The not-found handler: 405 with Allow for a known path, else the 404 problem. */
  handler(): (request: FastifyRequest, reply: FastifyReply) => FastifyReply {
    return (request, reply) => this.refuse(request, reply) ?? notFoundHandler(request, reply);
  }

  /**
   * An onRequest hook answering 405 before the body is read: a request without a route (with a
   * method such as QUERY that fastify expects a body for) would otherwise fail on its missing
   * Content-Type first.
   */
  hook(): (request: FastifyRequest, reply: FastifyReply) => Promise<void> {
    return async (request, reply) => {
      if (request.is404) this.refuse(request, reply);
    };
  }

  private refuse(request: FastifyRequest, reply: FastifyReply): FastifyReply | undefined {
    const path = request.url.split('?')[0]!;
    const allow = this.allowed(path);
    if (allow.length === 0 || allow.includes(request.method)) return undefined;
    reply.header('allow', allow.join(', '));
    return sendProblem(reply, {
      type: ProblemTypes.methodNotAllowed,
      title: 'Method Not Allowed',
      status: 405,
      detail: `${request.method} is not allowed on ${path}: use ${allow.join(', ')}`,
      instance: request.url,
    });
  }
}

function patternRegExp(url: string): RegExp {
  const body = url
    .split(/(:[A-Za-z_][\w]*|\*)/)
    .map((part) => (part === '*' ? '.*' : part.startsWith(':') ? '[^/]+' : part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')))
    .join('');
  return new RegExp(`^${body.length > 1 && body.endsWith('/') ? body.slice(0, -1) : body}$`);
}
