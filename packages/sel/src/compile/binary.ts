import type { SelError } from '../errors.js';
import type { Expr } from '../syntax/ast.js';
import { add, arith, compare, equals, typeError } from '../runtime/operators.js';
import { typeOf, type Value } from '../runtime/values.js';
import { locate, type Ev } from './closures.js';
import type { CompileContext } from './context.js';

/**
 * Binary operators: `&&` and `||` (short-circuit, BOOLEAN operands), arithmetic, comparisons and
 * equality, with the common LONG (and STRING equality) cases done in the closure itself.
 */

function logicOperandError(op: string, v: Value): SelError {
  return typeError(`operator '${op}' needs BOOLEAN operands, got ${typeOf(v)}`);
}

export function binary(c: CompileContext, e: Extract<Expr, { k: 'binary' }>, base: number): Ev {
  const l = c.expr(e.left, base);
  const r = c.expr(e.right, base + 1);
  const pos = e.pos;
  switch (e.op) {
    case '&&':
    case '||': {
      const op = e.op;
      if (op === '&&') {
        return (s) => {
          const a = l(s);
          if (a === false) return false;
          if (a !== true) throw locate(logicOperandError(op, a), pos);
          const b = r(s);
          if (typeof b === 'boolean') return b;
          throw locate(logicOperandError(op, b), pos);
        };
      }
      return (s) => {
        const a = l(s);
        if (a === true) return true;
        if (a !== false) throw locate(logicOperandError(op, a), pos);
        const b = r(s);
        if (typeof b === 'boolean') return b;
        throw locate(logicOperandError(op, b), pos);
      };
    }
    case '+':
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (typeof a === 'bigint' && typeof b === 'bigint') return BigInt.asIntN(64, a + b);
        if (typeof a === 'string') {
          // Concatenation of a STRING and a STRING or LONG, as `add` does it (same charge).
          const sb = typeof b === 'string' ? b : typeof b === 'bigint' ? b.toString() : undefined;
          if (sb !== undefined) {
            s.chargeString(a.length + sb.length);
            return a + sb;
          }
        }
        try {
          return add(s, a, b);
        } catch (err) {
          throw locate(err, pos);
        }
      };
    case '-':
    case '*':
    case '/':
    case '%': {
      const op = e.op;
      if (op === '-') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          if (typeof a === 'bigint' && typeof b === 'bigint') return BigInt.asIntN(64, a - b);
          try {
            return arith(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      if (op === '*') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          if (typeof a === 'bigint' && typeof b === 'bigint') return BigInt.asIntN(64, a * b);
          try {
            return arith(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      if (op === '/') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          if (typeof a === 'bigint' && typeof b === 'bigint' && b !== 0n) return BigInt.asIntN(64, a / b);
          try {
            return arith(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      return (s) => {
        const a = l(s);
        const b = r(s);
        try {
          return arith(op, a, b);
        } catch (err) {
          throw locate(err, pos);
        }
      };
    }
    case '<':
    case '>':
    case '<=':
    case '>=': {
      const op = e.op;
      // Two LONGs are compared here; anything else (DOUBLEs, mixed, errors) by `compare`.
      const slow = (a: Value, b: Value): boolean => {
        try {
          return compare(op, a, b);
        } catch (err) {
          throw locate(err, pos);
        }
      };
      if (op === '<') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          return typeof a === 'bigint' && typeof b === 'bigint' ? a < b : slow(a, b);
        };
      }
      if (op === '>') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          return typeof a === 'bigint' && typeof b === 'bigint' ? a > b : slow(a, b);
        };
      }
      if (op === '<=') {
        return (s) => {
          const a = l(s);
          const b = r(s);
          return typeof a === 'bigint' && typeof b === 'bigint' ? a <= b : slow(a, b);
        };
      }
      return (s) => {
        const a = l(s);
        const b = r(s);
        return typeof a === 'bigint' && typeof b === 'bigint' ? a >= b : slow(a, b);
      };
    }
    case '==':
    case '!=': {
      const neg = e.op === '!=';
      return (s) => {
        const a = l(s);
        const b = r(s);
        if (typeof a === 'string' && typeof b === 'string') return (a === b) !== neg;
        try {
          return equals(a, b) !== neg;
        } catch (err) {
          throw locate(err, pos);
        }
      };
    }
  }
}
