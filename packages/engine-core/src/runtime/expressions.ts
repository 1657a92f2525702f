import type { Queryable } from '../db/db.js';
import type { ParamValue } from '../definition/model.js';

/**
 * The runtime's view of SEL: compile once per source, evaluate with variables and the `params`
 * host object. `sel-port.ts` implements it with `@baton/sel`.
 */
export interface CompiledExpression {
  /** Names the program reads (bare identifiers), for ordering param evaluation. */
  readonly names: readonly string[];
  /** True when the program uses `params` beyond literal `params.get('x')` reads it declares. */
  readonly readsParams: boolean;
  /** False when evaluating may wait for a SEL worker (callers in a transaction evaluate it first). */
  readonly inline?: boolean;
  /**
   * Evaluates and resolves with the result as a plain value (LONG = bigint, arrays, objects for
   * maps). Programs that may run long are evaluated off the event loop, under the wall-clock
   * limit: passing it rejects with SelWallClockError.
   */
  evaluate(vars: Readonly<Record<string, ParamValue>>, params: ParamsHost): Promise<unknown>;
}

export interface ExpressionPort {
  compile(source: string): CompiledExpression;
}

/**
 * `params.*` as SEL programs see it. The engine implements get/getFromStep/getFromInstance;
 * other packages add functions (`getFromSignal`, ...) through `Engine.registerSelExtension`.
 */
export interface ParamsHost {
  get(name: string): ParamValue | undefined;
  containsKey(name: string): boolean;
  getFromStep(stepId: string, name: string): ParamValue | undefined;
  getFromInstance(name: string): ParamValue | undefined;
  /** A registered extension by method name, if any. */
  extension(name: string): ((...args: unknown[]) => unknown) | undefined;
}

/** Context an extension receives besides its SEL arguments. */
export interface SelExtensionContext {
  workflowId: string;
  instanceId: number;
  runId: number;
  stepId?: string;
}

/**
 * A `params.<name>(...)` function added by another package. SEL evaluation is synchronous, so an
 * extension that needs stored data loads it in `prepare` (run in the evaluating transaction, only
 * when a program mentions the name) and answers calls from what it loaded.
 */
export interface SelExtension {
  prepare?(q: Queryable, ctx: SelExtensionContext): Promise<unknown>;
  call(prepared: unknown, ctx: SelExtensionContext, ...args: unknown[]): unknown;
}
