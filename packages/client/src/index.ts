/**
 * @baton/client: Baton's REST API for TypeScript, typed from the OpenAPI document (see
 * src/generated/openapi.ts, `npm run gen:client`). Depends on no other Baton package.
 */
export { BatonClient, DEFAULT_URL, enc, type ApiResponse, type BatonClientOptions, type RequestOptions } from './client.js';
export { ApiError, AuthError, NotFoundError, RateLimitedError, ServerUnreachableError, ValidationError, WaitTimeoutError, type Problem } from './errors.js';
export { parseJsonExact, stringifyExact } from './json.js';
export { DEFAULT_RETRY, RETRY_STATUSES, type RetryPolicy } from './retry.js';
export {
  MAX_BATCH,
  TERMINAL_STATUSES,
  type InstanceLineage,
  type InstanceStatus,
  type Lineage,
  type ParamValue,
  type PublishResult,
  type SignalInput,
  type SignalInstance,
  type StartResult,
} from './types.js';
export type { paths, components } from './generated/openapi.js';
