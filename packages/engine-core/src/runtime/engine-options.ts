/** What an Engine is built with: its database, definitions, and the limits and hooks it applies. */
import type { Db } from '../db/db.js';
import type { ParamValidatorMode } from './context.js';
import type { DefinitionSource } from './definitions.js';
import type { ExpressionPort } from './expressions.js';
import type { StepLogLimits } from './step-logs.js';
import type { PlatformRetry } from './terminal.js';

export interface EngineOptions {
  db: Db;
  definitions: DefinitionSource;
  /** Identifies this process's workers in leases (default: a random id). */
  workerId?: string;
  /** Queue jobs this process runs at once (default 32). */
  concurrency?: number;
  /** Lease on each job and step attempt, renewed while it runs (default 30 s). */
  leaseMs?: number;
  /** Safety-net poll (default 1 s). */
  pollMs?: number;
  /** Scales every wait step runtimes make (Sleep); 1 = real time. */
  timeScale?: number;
  /** `enforce` (default) checks param validators; `ignore` only keeps them, as Maestro does. */
  paramValidators?: ParamValidatorMode;
  /** Most iterations one foreach step may run (default 1,000,000). */
  foreachIterationLimit?: number;
  /** Most iterations one while step may run (default 100,000). */
  whileIterationLimit?: number;
  /** How deep subworkflows may nest (default 10). */
  subworkflowDepthLimit?: number;
  /** SEL; default `@baton/sel`, with the worker pool and wall-clock limit below. */
  expressions?: ExpressionPort;
  /** Output kept per step attempt (Shell stdout/stderr, Http response body); see StepLogLimits. */
  stepLogs?: Partial<StepLogLimits>;
  /**
   * Wall-clock limit of one SEL evaluation (params, conditions, validators), in ms (default 5,000;
   * 0 = none). Passing it fails the step or run with the param or condition named.
   */
  selTimeoutMs?: number;
  /** Worker threads that evaluate SEL programs which may run long (default: cores, 2 to 4). */
  selWorkers?: number;
  /** SEL evaluations that may wait for a worker before more are refused (default 1,000). */
  selQueueLimit?: number;
  /**
   * Retries of a job that failed on a passing platform problem (lost database connection,
   * deadlock): deliveries before its step or instance fails with the error (default 10), and the
   * cap on the exponential backoff between them in seconds (default 60).
   */
  platformRetry?: Partial<PlatformRetry>;
  /** Called when a queue handler fails unexpectedly (it is retried with backoff). */
  onError?: (err: unknown, job: { kind: string; payload: Record<string, unknown> }) => void;
}
