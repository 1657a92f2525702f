import type { HostContext } from './host-context.js';

/** What a host extension function receives besides its arguments. */
export interface ExtensionCall<C = unknown> {
  /** The per-evaluation context the host passed to `evaluate` (e.g. the current step's scope). */
  readonly context: C;
  /** Limits and clock of the running evaluation; charge memory for large results here. */
  readonly host: HostContext;
  /** The method name as the program wrote it. */
  readonly name: string;
}

/**
 * A host function. Arguments arrive as SEL values (LONG = bigint, DOUBLE = number, arrays as
 * SelArray, maps as Map). The result may be a SEL value or plain JSON-like data (whole numbers
 * become LONG); it is copied into the evaluation, so the host keeps its own data.
 */
export type ExtensionFunction<C = unknown> = (args: readonly unknown[], call: ExtensionCall<C>) => unknown;

export interface HostExtensions<C = unknown> {
  /** Functions added to `Util`, e.g. `toJson`: `Util.toJson(x)`. */
  readonly utilFunctions?: Readonly<Record<string, ExtensionFunction<C>>>;
  /**
   * Methods added to `params`, e.g. `getFromStep`: `params.getFromStep('job1', 'out')`. As in
   * the reference, their arguments must be 0 to 3 STRINGs, and `getFromForeach` must return an array.
   */
  readonly paramMethods?: Readonly<Record<string, ExtensionFunction<C>>>;
}

export function findExtension<C>(
  table: Readonly<Record<string, ExtensionFunction<C>>> | undefined,
  name: string,
): ExtensionFunction<C> | undefined {
  if (!table || !Object.hasOwn(table, name)) return undefined;
  const fn = table[name];
  return typeof fn === 'function' ? fn : undefined;
}
