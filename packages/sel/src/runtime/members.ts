import { SelError, runtimeError } from '../errors.js';
import { findExtension } from '../extensions.js';
import { importValue } from '../convert.js';
import { constructorFor, findIn, hasName, hostMethodsOf, hostTypeName, instanceMethods, staticClass, stringMethods, type MethodImpl, type MethodTable, type StaticClass } from './library.js';
import { getInput, hasInput, type EvalState } from './state.js';
import { SelArray, isHostObject, typeOf, type Value } from './values.js';

/** A known class used as a value (`Math`, `DateTimeZone`...): its static methods and fields. */
export class ClassRef {
  readonly selType = 'CLASS';
  constructor(
    readonly name: string,
    readonly cls: StaticClass,
  ) {}
  toString(): string {
    return this.name;
  }
}

/** The read-only `params` map. */
export class ParamsRef {
  readonly selType = 'PARAMS';
  toString(): string {
    return 'params';
  }
}
export const PARAMS = new ParamsRef();

const classRefs = new Map<string, ClassRef>();
export function classRef(name: string): ClassRef | undefined {
  let ref = classRefs.get(name);
  if (!ref) {
    const cls = staticClass(name);
    if (!cls) return undefined;
    ref = new ClassRef(name, cls);
    classRefs.set(name, ref);
  }
  return ref;
}

/** Wraps whatever the library returned into a SEL value (plain lists become typed arrays). */
export function fromLibrary(v: unknown): Value {
  if (v === undefined) return null;
  if (Array.isArray(v)) return importValue(v);
  return v as Value;
}

export function invoke(s: EvalState, impl: MethodImpl, self: unknown, args: Value[]): Value {
  return fromLibrary(impl(s, self, args));
}

function noMethod(what: string, name: string, argc: number, table: MethodTable | undefined): SelError {
  if (hasName(table, name)) return new SelError('name', `${what} method '${name}' does not take ${argc} argument${argc === 1 ? '' : 's'}`);
  return new SelError('name', `${what} has no method '${name}'`);
}

export function callStatic(s: EvalState, ref: ClassRef, name: string, args: Value[]): Value {
  const impl = findIn(ref.cls.methods, name, args.length);
  if (impl) return invoke(s, impl, undefined, args);
  if (ref.name === 'Util') {
    const ext = findExtension(s.extensions?.utilFunctions, name);
    if (ext) return importValue(ext(args, { context: s.context, host: s, name }), { wholeNumbersAreLong: false, host: s });
  }
  throw noMethod(ref.name, name, args.length, ref.cls.methods);
}

export function callMethod(s: EvalState, recv: Value, name: string, args: Value[]): Value {
  switch (typeof recv) {
    case 'string': {
      const impl = findIn(stringMethods, name, args.length);
      if (impl) return invoke(s, impl, recv, args);
      // Static String methods may be called through an instance (Java ignores the receiver).
      const str = classRef('String');
      const st = str && findIn(str.cls.methods, name, args.length);
      if (st) return invoke(s, st, undefined, args);
      throw noMethod('STRING', name, args.length, stringMethods);
    }
    case 'bigint':
    case 'number':
    case 'boolean': {
      const t = typeOf(recv);
      const table = instanceMethods(t);
      const impl = findIn(table, name, args.length);
      if (impl) return invoke(s, impl, recv, args);
      throw noMethod(t, name, args.length, table);
    }
    default:
      break;
  }
  if (recv === null) throw runtimeError(`cannot call method '${name}' on NULL`);
  if (recv instanceof Map) return callMapMethod(s, recv, name, args);
  if (recv instanceof SelArray) throw new SelError('name', `${typeOf(recv)} has no method '${name}' (arrays have only the field 'length')`);
  if (recv instanceof ParamsRef) return callParams(s, name, args);
  if (recv instanceof ClassRef) return callStatic(s, recv, name, args);
  const table = hostMethodsOf(recv);
  const impl = findIn(table, name, args.length);
  if (impl) return invoke(s, impl, recv, args);
  throw noMethod(hostTypeName(recv) ?? typeOf(recv), name, args.length, table);
}

function mapKey(name: string, k: Value): string {
  if (typeof k !== 'string') throw new SelError('type', `map ${name}: keys must be STRING, got ${typeOf(k)}`);
  return k;
}

const MAP_METHODS: Record<string, number> = Object.assign(Object.create(null) as Record<string, number>, {
  put: 2, get: 1, getOrDefault: 2, containsKey: 1, size: 0, isEmpty: 0, remove: 1,
});

function callMapMethod(s: EvalState, m: Map<string, Value>, name: string, args: Value[]): Value {
  const arity = Object.hasOwn(MAP_METHODS, name) ? MAP_METHODS[name] : undefined;
  if (arity === undefined) throw new SelError('name', `MAP has no method '${name}'`);
  if (arity !== args.length) throw new SelError('name', `MAP method '${name}' does not take ${args.length} argument${args.length === 1 ? '' : 's'}`);
  switch (name) {
    case 'put': {
      const k = mapKey(name, args[0]!);
      const prev = m.get(k);
      if (prev === undefined) s.chargeMemory(1);
      m.set(k, args[1]!);
      return prev ?? null;
    }
    case 'get':
      return m.get(mapKey(name, args[0]!)) ?? null;
    case 'getOrDefault': {
      const v = m.get(mapKey(name, args[0]!));
      return v === undefined ? args[1]! : v;
    }
    case 'containsKey':
      return m.has(mapKey(name, args[0]!));
    case 'size':
      return BigInt(m.size);
    case 'isEmpty':
      return m.size === 0;
    default: {
      const k = mapKey(name, args[0]!);
      const prev = m.get(k);
      m.delete(k);
      return prev ?? null;
    }
  }
}

/** `params.get(k)` / `params[k]`: a copy of the input, made once per evaluation. */
export function paramsGet(s: EvalState, k: Value): Value {
  if (typeof k !== 'string') throw new SelError('type', `params keys must be STRING, got ${typeOf(k)}`);
  const cache = (s.paramsCache ??= new Map());
  const hit = cache.get(k);
  if (hit !== undefined) return hit;
  if (!hasInput(s.vars, k)) return null;
  const v = importValue(getInput(s.vars, k), { wholeNumbersAreLong: false, host: s });
  cache.set(k, v);
  return v;
}

const MAX_PARAM_EXTENSION_ARGS = 3;

function callParams(s: EvalState, name: string, args: Value[]): Value {
  if (name === 'get' && args.length === 1) return paramsGet(s, args[0]!);
  if (name === 'containsKey' && args.length === 1) {
    const k = args[0]!;
    if (typeof k !== 'string') throw new SelError('type', `params keys must be STRING, got ${typeOf(k)}`);
    return hasInput(s.vars, k);
  }
  const ext = findExtension(s.extensions?.paramMethods, name);
  if (!ext) {
    throw new SelError('name', `params has no method '${name}' with ${args.length} argument${args.length === 1 ? '' : 's'} (params is read-only: get, containsKey, [])`);
  }
  if (args.length > MAX_PARAM_EXTENSION_ARGS || args.some((a) => typeof a !== 'string')) {
    throw new SelError('type', `params.${name} takes up to ${MAX_PARAM_EXTENSION_ARGS} STRING arguments, got (${args.map(typeOf).join(', ')})`);
  }
  let out: unknown;
  try {
    out = ext(args, { context: s.context, host: s, name });
  } catch (e) {
    if (e instanceof SelError) throw e;
    throw runtimeError(`params.${name} failed: ${e instanceof Error ? e.message : String(e)}`);
  }
  const v = importValue(out, { wholeNumbersAreLong: false, host: s });
  if (name === 'getFromForeach' && !(v instanceof SelArray)) {
    throw runtimeError(`params.getFromForeach must return an array, got ${typeOf(v)}`);
  }
  return v;
}

export function readField(recv: Value, name: string): Value {
  if (recv instanceof SelArray) {
    if (name === 'length') return BigInt(recv.items.length);
    throw new SelError('name', `${typeOf(recv)} has no field '${name}' (arrays have only 'length')`);
  }
  if (recv instanceof ClassRef) {
    const fields = recv.cls.fields;
    if (fields && Object.hasOwn(fields, name)) return fromLibrary(fields[name]);
    throw new SelError('name', `${recv.name} has no field '${name}'`);
  }
  if (recv === null) throw runtimeError(`cannot read field '${name}' of NULL`);
  throw new SelError('name', `${isHostObject(recv) ? hostTypeName(recv) ?? typeOf(recv) : typeOf(recv)} has no field '${name}'`);
}

export function readIndex(s: EvalState, recv: Value, idx: Value): Value {
  if (recv instanceof SelArray) {
    if (typeof idx !== 'bigint') throw new SelError('type', `array index must be LONG, got ${typeOf(idx)}`);
    const items = recv.items;
    if (idx < 0n || idx >= BigInt(items.length)) throw runtimeError(`array index ${idx} out of bounds for length ${items.length}`);
    return items[Number(idx)] as Value;
  }
  if (recv instanceof Map) {
    if (typeof idx !== 'string') throw new SelError('type', `map keys must be STRING, got ${typeOf(idx)}`);
    return recv.get(idx) ?? null;
  }
  if (recv instanceof ParamsRef) return paramsGet(s, idx);
  if (recv === null) throw runtimeError('cannot index NULL');
  throw new SelError('type', `${typeOf(recv)} cannot be indexed`);
}

export function construct(s: EvalState, className: string, args: Value[]): Value {
  if (className === 'Map' || className === 'HashMap') {
    if (args.length !== 0) throw new SelError('name', `new ${className}() takes no arguments`);
    s.chargeMemory(0);
    return new Map<string, Value>();
  }
  const impl = constructorFor(className, args.length);
  if (!impl) throw new SelError('name', `${className} has no constructor taking ${args.length} argument${args.length === 1 ? '' : 's'}`);
  return invoke(s, impl, undefined, args);
}
