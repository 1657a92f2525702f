import { SelError } from '../errors.js';
import type { Expr } from '../syntax/ast.js';
import { LONG_LITERAL_LIMIT } from '../syntax/ast-build.js';
import { classRef, PARAMS } from '../runtime/members.js';
import { negate, plus, typeError } from '../runtime/operators.js';
import { UNSET, type EvalState } from '../runtime/state.js';
import { typeOf, type Value } from '../runtime/values.js';
import { assign } from './assignment.js';
import { binary } from './binary.js';
import { call, construction, field, index, newArray } from './calls.js';
import { fallbackOf, locate, type Ev } from './closures.js';
import type { CompileContext } from './context.js';

/**
 * Expressions: literals, names, unary operators and `?:` here; binary operators, assignments,
 * and calls and members in their own modules. `compileExpression` is what the compile context
 * runs for every expression (after its nesting check).
 */

export function compileExpression(c: CompileContext, e: Expr, base: number): Ev {
  switch (e.k) {
    case 'lit': {
      c.need(base + 1, e.pos);
      if (e.value === LONG_LITERAL_LIMIT) {
        throw new SelError('syntax', 'integer literal out of range: 9223372036854775808 is larger than the largest LONG, 9223372036854775807 (only -9223372036854775808 may be written)', e.pos.line, e.pos.column);
      }
      const v = e.value as Value;
      return () => v;
    }
    case 'name':
      c.need(base + 1, e.pos);
      return nameRead(c, e.name);
    case 'unary': {
      const arg = c.expr(e.arg, base);
      const pos = e.pos;
      if (e.op === '!') {
        return (s) => {
          const v = arg(s);
          if (typeof v === 'boolean') return !v;
          throw locate(typeError(`operator '!' cannot be applied to ${typeOf(v)}`), pos);
        };
      }
      const f = e.op === '-' ? negate : plus;
      return (s) => {
        try {
          return f(arg(s));
        } catch (err) {
          throw locate(err, pos);
        }
      };
    }
    case 'binary':
      return binary(c, e, base);
    case 'cond': {
      const test = cond(c, e.test, 'condition of ?:');
      const a = c.expr(e.then, base);
      const b = c.expr(e.otherwise, base);
      return (s) => (test(s) ? a(s) : b(s));
    }
    case 'assign':
      return assign(c, e, base);
    case 'field':
      return field(c, e, base);
    case 'call':
      return call(c, e, base);
    case 'index':
      return index(c, e, base);
    case 'new':
      return construction(c, e, base);
    case 'newArray':
      return newArray(c, e, base);
  }
}

export function nameRead(c: CompileContext, name: string): Ev {
  if (name === 'params' && !c.isAssigned('params')) {
    c.readsParams = true;
    return () => PARAMS;
  }
  const i = c.slot(name);
  const cls = classRef(name);
  if (!cls) c.addInput(name);
  const fallback = fallbackOf(name);
  return (s) => {
    const v = s.slots[i]!;
    return v === UNSET ? fallback : v;
  };
}

export function cond(c: CompileContext, e: Expr, what: string): (s: EvalState) => boolean {
  const ev = c.expr(e, 0);
  const pos = e.pos;
  return (s) => {
    const v = ev(s);
    if (v === true) return true;
    if (v === false) return false;
    throw locate(typeError(`${what} must be BOOLEAN, got ${typeOf(v)}`), pos);
  };
}
