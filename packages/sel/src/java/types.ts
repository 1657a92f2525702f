import type { HostContext } from '../host-context.js';
import { runtimeError, type SelError } from '../errors.js';

/** One library method: `self` is the receiver (undefined for static calls), args are SEL values. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- each table knows its receiver type
export type MethodImpl = (ctx: HostContext, self: any, args: unknown[]) => unknown;

/** name → arity → implementation; built on null-prototype objects so no name reaches a prototype. */
export type MethodTable = Record<string, Record<number, MethodImpl>>;

export interface StaticClass {
  readonly methods: MethodTable;
  readonly fields?: Record<string, unknown>;
}

/** Element type of a list the library returns; the core wraps it into its own array type. */
export type ListElementType = 'STRING' | 'LONG' | 'DOUBLE' | 'BOOLEAN';

/** A list built by the library (split, dateIntsBetween...), tagged so empty lists keep their type. */
export class TypedList {
  constructor(
    readonly elementType: ListElementType,
    readonly items: unknown[],
  ) {}
}

/**
 * How the library recognises SEL arrays passed in as arguments (String.join, String.format).
 * Plain JS arrays and TypedList work out of the box; the core registers its own array type here.
 */
export interface ArrayAdapter {
  isArray(value: unknown): boolean;
  toList(value: unknown): readonly unknown[];
}

let arrayAdapter: ArrayAdapter = {
  isArray: (v) => Array.isArray(v) || v instanceof TypedList,
  toList: (v) => (v instanceof TypedList ? v.items : (v as unknown[])),
};

export function configureArrays(adapter: ArrayAdapter): void {
  arrayAdapter = adapter;
}

export function isSelArray(value: unknown): boolean {
  return arrayAdapter.isArray(value);
}

export function selArrayItems(value: unknown): readonly unknown[] {
  return arrayAdapter.toList(value);
}

/** Builds a method table from a plain literal, copying it onto a null-prototype object. */
export function methodTable(spec: Record<string, Record<number, MethodImpl>>): MethodTable {
  const out = Object.create(null) as MethodTable;
  for (const name of Object.keys(spec)) {
    const byArity = Object.create(null) as Record<number, MethodImpl>;
    const src = spec[name]!;
    for (const arity of Object.keys(src)) byArity[Number(arity)] = src[Number(arity)]!;
    out[name] = byArity;
  }
  return out;
}

export function nullProto<T>(spec: Record<string, T>): Record<string, T> {
  return Object.assign(Object.create(null) as Record<string, T>, spec);
}

/** Own-property lookup of a method by name and arity. */
export function findMethod(table: MethodTable, name: string, arity: number): MethodImpl | undefined {
  if (!Object.hasOwn(table, name)) return undefined;
  const byArity = table[name]!;
  return Object.hasOwn(byArity, arity) ? byArity[arity] : undefined;
}

/** Names a SEL value's type for error messages. */
export function selTypeOf(v: unknown): string {
  if (v === null || v === undefined) return 'NULL';
  switch (typeof v) {
    case 'string':
      return 'STRING';
    case 'bigint':
      return 'LONG';
    case 'number':
      return 'DOUBLE';
    case 'boolean':
      return 'BOOLEAN';
    default:
      if (v instanceof TypedList) return `${v.elementType}_ARRAY`;
      if (isSelArray(v)) return 'ARRAY';
      if (v instanceof Map) return 'MAP';
      if (typeof v === 'object' && typeof (v as { selType?: unknown }).selType === 'string') {
        return (v as { selType: string }).selType;
      }
      return 'OBJECT';
  }
}

export function argError(method: string, index: number, expected: string, got: unknown): SelError {
  return runtimeError(`${method}: argument ${index + 1} must be ${expected}, got ${selTypeOf(got)}`);
}

export function argLong(method: string, args: unknown[], i: number): bigint {
  const v = args[i];
  if (typeof v !== 'bigint') throw argError(method, i, 'LONG', v);
  return v;
}

export function argString(method: string, args: unknown[], i: number): string {
  const v = args[i];
  if (typeof v !== 'string') throw argError(method, i, 'STRING', v);
  return v;
}

export function argDouble(method: string, args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v !== 'number') throw argError(method, i, 'DOUBLE', v);
  return v;
}

/** A LONG or DOUBLE as a JS number (Java's Number.doubleValue()). */
export function argNumber(method: string, args: unknown[], i: number): number {
  const v = args[i];
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'number') return v;
  throw argError(method, i, 'LONG or DOUBLE', v);
}

const INT_MAX = 2147483647n;

/**
 * A LONG passed where Java takes an `int`. The reference hands LONGs above Integer.MAX_VALUE over
 * as `long` (refused by int methods) and narrows the rest with Java's (int) cast.
 */
export function argInt(method: string, args: unknown[], i: number): number {
  const v = argLong(method, args, i);
  if (v > INT_MAX) throw runtimeError(`${method}: argument ${i + 1} (${v}) does not fit in an int`);
  return Number(BigInt.asIntN(32, v));
}

/** Java's (int) narrowing of a long. */
export function toInt32(v: bigint): number {
  return Number(BigInt.asIntN(32, v));
}

/** The instance of a host class, or an error naming the expected type. */
export function argOf<T>(method: string, args: unknown[], i: number, cls: { prototype: T }, name: string): T {
  const v = args[i];
  if (!(v instanceof (cls as unknown as new () => T))) throw argError(method, i, name, v);
  return v as T;
}
