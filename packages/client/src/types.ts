import type { paths } from './generated/openapi.js';

/** The JSON body of a route's 200 answer, from the generated OpenAPI types. */
type Ok<P extends keyof paths, M extends 'get' | 'post' | 'put' | 'delete'> = paths[P][M] extends { responses: { 200: { content: { 'application/json': infer B } } } } ? B : never;

type PublishAnswer = Ok<'/api/v3/signals', 'post'>;
/** What publishing one signal stored (`duplicate`: the request id was stored before this call). */
export type PublishResult = Exclude<PublishAnswer, { signals: unknown }>;
export type SignalInstance = Ok<'/api/v3/signals/{name}/instances/{seq}', 'get'>;
export type SignalInstancePage = Ok<'/api/v3/signals/{name}/instances', 'get'>;
export type Lineage = Ok<'/api/v3/signals/{name}/instances/{seq}/lineage', 'get'>;
export type InstanceLineage = Ok<'/api/v3/workflows/{id}/instances/{iid}/lineage', 'get'>;
export type StartResult = Ok<'/api/v3/workflows/{id}/versions/{version}/actions/start', 'post'>;
export type InstanceStatus = Ok<'/api/v3/workflows/{id}/instances/{iid}/runs/{run}', 'get'>;

/** A signal param value: a string or a 64-bit integer (bigint beyond 2^53). */
export type ParamValue = string | number | bigint;

/** One signal to publish; without `requestId` the client generates one. */
export interface SignalInput {
  name: string;
  params?: Record<string, ParamValue>;
  payload?: unknown;
  requestId?: string;
}

/** Instance statuses after which a run changes no more. */
export const TERMINAL_STATUSES: ReadonlySet<string> = new Set(['SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT']);

/** The most signals the server takes in one request; larger batches go in chunks. */
export const MAX_BATCH = 1000;
