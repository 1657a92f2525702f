import type { Queryable } from '../db/db.js';
import type { ParamValue } from '../definition/model.js';
import type { EngineContext } from './context.js';
import type { ParamsHost, SelExtensionContext } from './expressions.js';

/**
 * The extension `<signal>__<param>` references are read through (as Maestro does, a reference
 * that names neither a param nor a step is `params.getFromSignal('<signal>', '<param>')`).
 */
export const SIGNAL_REFERENCE_EXTENSION = 'getFromSignal';

/** Maestro's step/signal param separator. */
const SEPARATOR = '__';

/**
 * Loads what the registered extensions need for programs in `texts` (only the extensions they
 * mention, and the signal extension when a `__` reference may read a signal) and answers
 * `params.<extension>(...)` calls from it.
 */
export async function extensionHost(
  ctx: Pick<EngineContext, 'extensions'>,
  q: Queryable,
  extCtx: SelExtensionContext,
  texts: string,
): Promise<ParamsHost['extension']> {
  const prepared = new Map<string, unknown>();
  for (const [name, ext] of ctx.extensions) {
    const used = texts.includes(name) || (name === SIGNAL_REFERENCE_EXTENSION && texts.includes(SEPARATOR));
    if (used) prepared.set(name, ext.prepare ? await ext.prepare(q, extCtx) : undefined);
  }
  return (name) => {
    const ext = ctx.extensions.get(name);
    return ext && prepared.has(name) ? (...args: unknown[]) => ext.call(prepared.get(name), extCtx, ...args) : undefined;
  };
}

/**
 * `<signal>__<param>`: the param of a signal that triggered the run, split at the first `__` as
 * Maestro splits it. Undefined when the name is no such reference or no signal extension is
 * registered; the extension's error (naming the signal) when the run has no such signal.
 */
export function signalReference(extension: ParamsHost['extension'], name: string): ParamValue | undefined {
  const i = name.indexOf(SEPARATOR);
  if (i <= 0 || i + SEPARATOR.length >= name.length) return undefined;
  const fn = extension(SIGNAL_REFERENCE_EXTENSION);
  if (!fn) return undefined;
  return fn(name.slice(0, i), name.slice(i + SEPARATOR.length)) as ParamValue;
}

/** The text of a param map (expressions, literals, nested MAP entries), to see what it mentions. */
export function paramTexts(defs: unknown): string {
  return JSON.stringify(defs, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)) ?? '';
}
