/**
 * The contract between the composition root (`app.ts`) and what plugs into it: the app type and
 * the route-plugin shape. Plugins and HTTP helpers import these from here, never from `app.ts`,
 * so the arrows run one way: app.ts -> plugins -> this module.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyInstance, FastifyPluginAsync, RawServerDefault } from 'fastify';
import type { Db } from '@baton/engine-core';
import type { ServerConfig } from './config.js';
import type { Logger } from './logger.js';

/** The fastify instance Baton runs, logging through pino. */
export type BatonApp = FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger>;

/** What the composition root has to hand when it builds the route plugins and their services. */
export interface RouteContext {
  db: Db;
  config: ServerConfig;
  logger: Logger;
}

/**
 * A group of routes for one domain (signals, workflows, ...), mounted as its own encapsulated
 * fastify plugin, so hooks, decorators and error handlers it adds stay inside it. Make one with
 * `routePlugin`.
 */
export interface RoutePlugin {
  readonly name: string;
  /** URL prefix for every route of the plugin, e.g. `/api/v3`. */
  readonly prefix?: string;
  mount(app: BatonApp): Promise<void>;
}

/** Pairs a fastify plugin with its options, type-checked here so a list of them needs no casts. */
export function routePlugin<O extends object>(
  name: string,
  plugin: FastifyPluginAsync<O>,
  options: O,
  prefix?: string,
): RoutePlugin {
  return {
    name,
    prefix,
    async mount(app) {
      await app.register(plugin, { ...options, prefix });
    },
  };
}

