import { SelError } from '../errors.js';
import type { Expr } from '../syntax/ast.js';
import { classRef } from '../runtime/members.js';
import { add, arith, typeError } from '../runtime/operators.js';
import { UNSET } from '../runtime/state.js';
import { SelArray, typeOf, type Value } from '../runtime/values.js';
import { coerce, coerceElement, fallbackOf, locate, type Ev } from './closures.js';
import type { CompileContext } from './context.js';

/** Assignments: `name = v`, `name op= v` (LONG counters and sums fast) and `array[i] (op)= v`. */

const ASSIGN_OPS = { '+=': '+', '-=': '-', '*=': '*', '/=': '/', '%=': '%' } as const;

export function assign(c: CompileContext, e: Extract<Expr, { k: 'assign' }>, base: number): Ev {
  const pos = e.pos;
  const op = e.op === '=' ? null : ASSIGN_OPS[e.op];
  if (e.target.k === 'name') {
    const name = e.target.name;
    if (name === 'params') throw new SelError('name', "'params' is read-only", e.target.pos.line, e.target.pos.column);
    c.writesSlots = true;
    const i = c.slot(name);
    const value = c.expr(e.value, base + 1);
    const what = `'${name}'`;
    if (op === null) {
      return (s) => {
        const v = value(s);
        const t = s.slotTypes[i];
        let stored = v;
        if (t === undefined || t === 'NULL') s.slotTypes[i] = typeOf(v);
        else {
          try {
            stored = coerce(t, v, what);
          } catch (err) {
            throw locate(err, pos);
          }
        }
        s.slots[i] = stored;
        return stored;
      };
    }
    const cls = classRef(name);
    const fallback: Value = cls ? (cls as unknown as Value) : null;
    // `sum += x` with a variable: read it here rather than through its closure (loop bodies).
    const from = c.slotRead(e.value);
    const fromFallback = from < 0 ? null : fallbackOf((e.value as { name: string }).name);
    return (s) => {
      const slots = s.slots;
      const cur = slots[i]!;
      const a = cur === UNSET ? fallback : cur;
      let b: Value;
      if (from >= 0) {
        const x = slots[from]!;
        b = x === UNSET ? fromFallback : x;
      } else {
        b = value(s);
      }
      let v: Value;
      if ((op === '+' || op === '-') && typeof a === 'bigint' && typeof b === 'bigint') {
        v = BigInt.asIntN(64, op === '+' ? a + b : a - b);
        // Counters and sums in loops: a LONG variable stays LONG, nothing to check.
        if (s.slotTypes[i] === 'LONG') {
          s.slots[i] = v;
          return v;
        }
      } else {
        try {
          v = op === '+' ? add(s, a, b) : arith(op, a, b);
        } catch (err) {
          throw locate(err, pos);
        }
      }
      const t = s.slotTypes[i];
      if (t === undefined || t === 'NULL') s.slotTypes[i] = typeOf(v);
      else if (typeof v !== 'bigint' || t !== 'LONG') {
        try {
          v = coerce(t, v, what);
        } catch (err) {
          throw locate(err, pos);
        }
      }
      s.slots[i] = v;
      return v;
    };
  }
  if (e.target.k !== 'index') throw new SelError('syntax', 'invalid assignment target', pos.line, pos.column);
  const obj = c.expr(e.target.object, base);
  const idx = c.expr(e.target.index, base + 1);
  const value = c.expr(e.value, base + 2);
  return (s) => {
    const o = obj(s);
    const i = idx(s);
    const b = value(s);
    try {
      if (!(o instanceof SelArray)) {
        if (o === null) throw typeError('cannot assign to an element of NULL');
        throw typeError(`cannot assign to an element of ${typeOf(o)}${o instanceof Map ? ' (use put)' : ''}`);
      }
      if (typeof i !== 'bigint') throw typeError(`array index must be LONG, got ${typeOf(i)}`);
      if (i < 0n || i >= o.items.length) throw new SelError('runtime', `array index ${i} out of bounds for length ${o.items.length}`);
      const at = Number(i);
      const v = op === null ? b : op === '+' ? add(s, o.items[at] as Value, b) : arith(op, o.items[at] as Value, b);
      const stored = coerceElement(o.elementType, v);
      o.items[at] = stored;
      return stored;
    } catch (err) {
      throw locate(err, pos);
    }
  };
}
