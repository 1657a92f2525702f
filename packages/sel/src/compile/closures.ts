import { SelError, limitError } from '../errors.js';
import type { Pos } from '../syntax/ast.js';
import { classRef } from '../runtime/members.js';
import { typeError } from '../runtime/operators.js';
import type { EvalState } from '../runtime/state.js';
import { typeOf, type ElementType, type Value } from '../runtime/values.js';

/**
 * What compiled code is made of: a program compiles to closures over the evaluation state,
 * expressions to `Ev` (they answer a value), statements to `Ex` (they answer how control leaves
 * them). The helpers here are what those closures share at run time.
 */
export type Ev = (s: EvalState) => Value;
/** Statement completion: how control leaves a statement. */
export const NORMAL = 0, BREAK = 1, CONTINUE = 2, RETURN = 3;
export type Ex = (s: EvalState) => number;

export interface CompiledProgram {
  run: Ex;
  slotNames: string[];
  /** Input variables the program reads by name (and keys it reads through `params`). */
  inputNames: readonly string[];
  readsParams: boolean;
  /** Largest operand stack an expression needs, and where. */
  stackNeed: number;
  stackPos: Pos;
  /** Whether a statement stores into a variable slot (a declaration or an assignment to a name). */
  writesSlots: boolean;
}

/** Attaches the place of the failing code to an error raised without one. */
export function locate(e: unknown, pos: Pos): unknown {
  if (e instanceof SelError && e.line === 0) {
    e.line = pos.line;
    e.column = pos.column;
  }
  return e;
}


/** Can a value of runtime type `v` be stored where `t` is declared? Returns the value to store. */
export function coerce(t: string, v: Value, what: string): Value {
  if (v === null) return v;
  switch (t) {
    case 'LONG':
      if (typeof v === 'bigint') return v;
      break;
    case 'DOUBLE':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      break;
    case 'STRING':
      if (typeof v === 'string') return v;
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      break;
    default:
      if (typeOf(v) === t) return v;
  }
  throw typeError(`type mismatch: ${what} is ${t}, cannot assign ${typeOf(v)}`);
}

export function coerceElement(et: ElementType, v: Value): Value {
  return coerce(et, v, `an element of ${et}_ARRAY`);
}

/** What a name reads while its slot is unset: the class of that name, else NULL. */
export function fallbackOf(name: string): Value {
  const cls = classRef(name);
  return cls ? (cls as unknown as Value) : null;
}

/** Library code may fail with a plain JS error; it reaches the user as a runtime error. */
export function asSelError(err: unknown): unknown {
  if (err instanceof SelError) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return limitError('stack', 0, 'JavaScript stack exhausted');
  return new SelError('runtime', err instanceof Error ? err.message : String(err));
}
