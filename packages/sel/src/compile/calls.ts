import { SelError } from '../errors.js';
import type { Expr } from '../syntax/ast.js';
import { HOST_DECLARED_TYPES, findIn, hasConstructor, regexLiteralError, staticClass } from '../runtime/library.js';
import { callMethod, callStatic, classRef, construct, invoke, paramsGet, readField, readIndex, type ClassRef } from '../runtime/members.js';
import { typeError } from '../runtime/operators.js';
import { UNSET } from '../runtime/state.js';
import { SelArray, defaultElement, elementTypeOf, newArray as makeArray, typeOf, type Value } from '../runtime/values.js';
import { asSelError, coerceElement, locate, type Ev } from './closures.js';
import type { CompileContext } from './context.js';

/**
 * Calls and members: `.field`, `.method(args)` (static calls on a known class bound once),
 * `params.get('literal')`, `[index]`, `new Class(...)` and `new T[...]`.
 */

export function field(c: CompileContext, e: Extract<Expr, { k: 'field' }>, base: number): Ev {
  const pos = e.pos;
  const name = e.name;
  const obj = c.expr(e.object, base);
  return (s) => {
    const o = obj(s);
    if (o instanceof SelArray && name === 'length') return BigInt(o.items.length);
    try {
      return readField(o, name);
    } catch (err) {
      throw locate(err, pos);
    }
  };
}

export function call(c: CompileContext, e: Extract<Expr, { k: 'call' }>, base: number): Ev {
  const pos = e.pos;
  const name = e.name;
  const argc = e.args.length;
  c.need(base + 1 + argc, pos);
  // `Class.method(...)` on a known class is bound once, unless a variable shadows the class.
  if (e.object.k === 'name' && !c.isAssigned(e.object.name) && e.object.name !== 'params') {
    const ref = classRef(e.object.name);
    if (ref) return staticCall(c, ref, e, base);
  }
  if (e.object.k === 'name' && e.object.name === 'params' && !c.isAssigned('params') && (name === 'get') && argc === 1 && e.args[0]!.k === 'lit' && typeof e.args[0]!.value === 'string') {
    c.readsParams = true;
    const key = e.args[0]!.value;
    c.addInput(key);
    c.need(base + 2, pos);
    return (s) => paramsGet(s, key);
  }
  const first = e.args[0];
  if (first?.k === 'lit' && typeof first.value === 'string') {
    const bad = regexLiteralError(name, argc, first.value);
    if (bad !== undefined) throw new SelError('syntax', bad, first.pos.line, first.pos.column);
  }
  const obj = c.expr(e.object, base);
  const args = c.exprs(e.args, base + 1);
  return (s) => {
    const o = obj(s);
    const vals: Value[] = new Array<Value>(argc);
    for (let i = 0; i < argc; i++) vals[i] = args[i]!(s);
    s.step();
    try {
      return callMethod(s, o, name, vals);
    } catch (err) {
      throw locate(asSelError(err), pos);
    }
  };
}

export function staticCall(c: CompileContext, ref: ClassRef, e: Extract<Expr, { k: 'call' }>, base: number): Ev {
  const pos = e.pos;
  const name = e.name;
  const argc = e.args.length;
  if (ref.name !== 'Util' && !(Object.hasOwn(ref.cls.methods, name))) {
    throw new SelError('name', `${ref.name} has no method '${name}'`, pos.line, pos.column);
  }
  const i = c.slot(ref.name);
  const args = c.exprs(e.args, base + 1);
  // Library methods are fixed: found once here. Without one, callStatic tries the host's Util
  // functions or names the error.
  const impl = findIn(ref.cls.methods, name, argc);
  return (s) => {
    const shadow = s.slots[i]!;
    const vals: Value[] = new Array<Value>(argc);
    for (let k = 0; k < argc; k++) vals[k] = args[k]!(s);
    s.step();
    try {
      if (shadow !== UNSET) return callMethod(s, shadow, name, vals);
      return impl !== undefined ? invoke(s, impl, undefined, vals) : callStatic(s, ref, name, vals);
    } catch (err) {
      throw locate(asSelError(err), pos);
    }
  };
}

export function newArray(c: CompileContext, e: Extract<Expr, { k: 'newArray' }>, base: number): Ev {
  const et = elementTypeOf(e.elemType);
  const pos = e.pos;
  if (et === undefined) {
    throw new SelError('type', `arrays can hold only String, long, double or boolean values, not ${e.elemType}`, pos.line, pos.column);
  }
  if (e.init) {
    const n = e.init.length;
    c.need(base + 1 + n, pos);
    const items = c.exprs(e.init, base + 1);
    return (s) => {
      s.step();
      try {
        s.checkArrayLength(n);
        s.chargeMemory(n);
        const out: Value[] = new Array<Value>(n);
        for (let i = 0; i < n; i++) out[i] = coerceElement(et, items[i]!(s));
        return makeArray(et, out);
      } catch (err) {
        throw locate(err, pos);
      }
    };
  }
  const size = c.expr(e.size!, base);
  c.need(base + 1, pos);
  return (s) => {
    const n = size(s);
    s.step();
    try {
      if (typeof n !== 'bigint') throw typeError(`array size must be LONG, got ${typeOf(n)}`);
      if (n < 0n) throw new SelError('runtime', `negative array size ${n}`);
      if (n >= BigInt(s.arrayLimit)) s.checkArrayLength(s.arrayLimit);
      const len = Number(n);
      s.checkArrayLength(len);
      s.chargeMemory(len);
      return makeArray(et, new Array<Value>(len).fill(defaultElement(et)));
    } catch (err) {
      throw locate(err, pos);
    }
  };
}

/** `object[index]`: an array element, else what `readIndex` makes of it. */
export function index(c: CompileContext, e: Extract<Expr, { k: 'index' }>, base: number): Ev {
  const obj = c.expr(e.object, base);
  const idx = c.expr(e.index, base + 1);
  const pos = e.pos;
  return (s) => {
    const o = obj(s);
    const i = idx(s);
    if (o instanceof SelArray && typeof i === 'bigint' && i >= 0n && i < o.items.length) return o.items[Number(i)] as Value;
    try {
      return readIndex(s, o, i);
    } catch (err) {
      throw locate(err, pos);
    }
  };
}

/** `new Class(args)`: only classes that may be constructed. */
export function construction(c: CompileContext, e: Extract<Expr, { k: 'new' }>, base: number): Ev {
  if (e.className !== 'Map' && e.className !== 'HashMap' && !hasConstructor(e.className)) {
    const known = staticClass(e.className) !== undefined || Object.hasOwn(HOST_DECLARED_TYPES, e.className);
    throw new SelError('name', known ? `class ${e.className} cannot be constructed with new` : `unknown class '${e.className}'`, e.pos.line, e.pos.column);
  }
  c.need(base + 1, e.pos);
  const args = c.exprs(e.args, base);
  const name = e.className;
  const pos = e.pos;
  return (s) => {
    const vals = args.map((a) => a(s));
    s.step();
    try {
      return construct(s, name, vals);
    } catch (err) {
      throw locate(err, pos);
    }
  };
}
