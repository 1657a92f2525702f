import { compile, SelArray, type ExtensionFunction, type Value } from '@baton/sel';

/** A SEL value as plain data: LONG stays bigint, arrays become arrays, maps objects. */
export function selToPlain(v: Value | undefined): unknown {
  if (v === undefined || v === null) return null;
  if (typeof v !== 'object') return v;
  if (v instanceof SelArray) return v.items.map((x) => selToPlain(x as Value));
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, k, { value: selToPlain(x as Value), enumerable: true, writable: true, configurable: true });
    return o;
  }
  return String(v);
}

/**
 * Evaluates a SEL program the way the engine does (Maestro mode) with the given variables and
 * `params.*` methods, and returns plain data.
 */
export function evaluateSel(source: string, vars: Record<string, unknown>, paramMethods: Record<string, ExtensionFunction> = {}): unknown {
  const program = compile(source, { maestro: true });
  return selToPlain(program.evaluateOrThrow(vars, { extensions: { paramMethods } }));
}

export function stringArg(v: unknown, what: string): string {
  if (typeof v !== 'string') throw new Error(`${what} must be a string`);
  return v;
}
