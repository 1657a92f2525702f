import { SelError, runtimeError } from '../errors.js';
import type { BinaryOperator } from '../syntax/ast.js';
import type { EvalState } from './state.js';
import { javaString, typeOf, type Value } from './values.js';

const wrap = (x: bigint): bigint => BigInt.asIntN(64, x);

export function typeError(message: string): SelError {
  return new SelError('type', message);
}

function mismatch(op: string, a: Value, b: Value): SelError {
  return typeError(`operator '${op}' cannot be applied to ${typeOf(a)} and ${typeOf(b)}`);
}

/** `+`: numeric addition, or Java string concatenation when either side is a STRING. */
export function add(s: EvalState, a: Value, b: Value): Value {
  if (typeof a === 'bigint') {
    if (typeof b === 'bigint') return wrap(a + b);
    if (typeof b === 'number') return Number(a) + b;
    if (typeof b === 'string') return concat(s, a, b);
  } else if (typeof a === 'number') {
    if (typeof b === 'number') return a + b;
    if (typeof b === 'bigint') return a + Number(b);
    if (typeof b === 'string') return concat(s, a, b);
  } else if (typeof a === 'string') {
    if (typeof b === 'string' || typeof b === 'bigint' || typeof b === 'number' || typeof b === 'boolean' || b === null) {
      return concat(s, a, b);
    }
    if (typeof b === 'object' && !(b instanceof Map) && !('items' in b)) return concat(s, a, b);
  }
  throw mismatch('+', a, b);
}

function concat(s: EvalState, a: Value, b: Value): string {
  const sa = typeof a === 'string' ? a : javaString(a);
  const sb = typeof b === 'string' ? b : javaString(b);
  s.chargeString(sa.length + sb.length);
  return sa + sb;
}

export function arith(op: '-' | '*' | '/' | '%', a: Value, b: Value): Value {
  if (typeof a === 'bigint' && typeof b === 'bigint') {
    switch (op) {
      case '-':
        return wrap(a - b);
      case '*':
        return wrap(a * b);
      case '/':
        if (b === 0n) throw runtimeError('division by zero');
        return wrap(a / b);
      default:
        if (b === 0n) throw runtimeError('division by zero');
        return a % b;
    }
  }
  if ((typeof a === 'bigint' || typeof a === 'number') && (typeof b === 'bigint' || typeof b === 'number')) {
    const x = Number(a);
    const y = Number(b);
    switch (op) {
      case '-':
        return x - y;
      case '*':
        return x * y;
      case '/':
        return x / y;
      default:
        return x % y;
    }
  }
  throw mismatch(op, a, b);
}

/** `<` `>` `<=` `>=`: numbers only; a NULL operand makes the comparison false, as in the reference. */
export function compare(op: '<' | '>' | '<=' | '>=', a: Value, b: Value): boolean {
  const na = typeof a === 'bigint' || typeof a === 'number';
  const nb = typeof b === 'bigint' || typeof b === 'number';
  if (na && nb) {
    switch (op) {
      case '<':
        return a < b;
      case '>':
        return a > b;
      case '<=':
        return a <= b;
      default:
        return a >= b;
    }
  }
  if ((a === null && (nb || b === null)) || (b === null && na)) return false;
  if (typeof a === 'string' && typeof b === 'string') {
    throw typeError(`operator '${op}' cannot compare STRINGs; use compareTo`);
  }
  throw mismatch(op, a, b);
}

/** `==`: numbers by value (LONG with DOUBLE too), strings by content, NULL with anything, others by identity. */
export function equals(a: Value, b: Value): boolean {
  if (a === null || b === null) return a === b;
  const ta = typeof a;
  const tb = typeof b;
  if ((ta === 'bigint' || ta === 'number') && (tb === 'bigint' || tb === 'number')) {
    return a == b;
  }
  if (ta !== tb) throw typeError(`cannot compare ${typeOf(a)} with ${typeOf(b)}`);
  if (ta === 'object') {
    const ea = (a as { equals?: unknown }).equals;
    if (typeof ea === 'function' && typeOf(a) === typeOf(b) && !(a instanceof Map)) return Boolean((ea as (o: unknown) => unknown).call(a, b));
    if (typeOf(a) !== typeOf(b)) throw typeError(`cannot compare ${typeOf(a)} with ${typeOf(b)}`);
  }
  return a === b;
}

export function negate(v: Value): Value {
  if (typeof v === 'bigint') return wrap(-v);
  if (typeof v === 'number') return -v;
  throw typeError(`operator '-' cannot be applied to ${typeOf(v)}`);
}

export function plus(v: Value): Value {
  if (typeof v === 'bigint' || typeof v === 'number') return v;
  throw typeError(`operator '+' cannot be applied to ${typeOf(v)}`);
}

export function not(v: Value): boolean {
  if (typeof v === 'boolean') return !v;
  throw typeError(`operator '!' cannot be applied to ${typeOf(v)}`);
}

export function truthy(v: Value, what: string): boolean {
  if (typeof v === 'boolean') return v;
  throw typeError(`${what} must be BOOLEAN, got ${typeOf(v)}`);
}

export function binary(s: EvalState, op: BinaryOperator, a: Value, b: Value): Value {
  switch (op) {
    case '+':
      return add(s, a, b);
    case '-':
    case '*':
    case '/':
    case '%':
      return arith(op, a, b);
    case '<':
    case '>':
    case '<=':
    case '>=':
      return compare(op, a, b);
    case '==':
      return equals(a, b);
    case '!=':
      return !equals(a, b);
    default:
      throw typeError(`operator '${op}' is evaluated elsewhere`);
  }
}
