import { TypedList, type ListElementType } from '../java/types.js';
import { javaDoubleToString } from '../java/double-to-string.js';

/**
 * SEL values as the interpreter holds them: LONG = bigint (64-bit), DOUBLE = number,
 * STRING = string, BOOLEAN = boolean, NULL = null, arrays = SelArray, MAP = Map<string, Value>,
 * host objects (DateTime...) = classes of the Java library; VOID (no result) = undefined.
 */
export type Value = bigint | number | string | boolean | null | SelArray | SelMap | HostObject;
export type SelMap = Map<string, Value>;
export type HostObject = { readonly selType: string };
export type ElementType = ListElementType;

/** A typed one-dimensional SEL array; the Java library's list type, so both sides share it. */
export const SelArray = TypedList;
export type SelArray = TypedList;

export type SelTypeName =
  | 'LONG' | 'DOUBLE' | 'STRING' | 'BOOLEAN' | 'NULL' | 'VOID' | 'MAP'
  | 'LONG_ARRAY' | 'DOUBLE_ARRAY' | 'STRING_ARRAY' | 'BOOLEAN_ARRAY'
  | (string & {});

export function isHostObject(v: unknown): v is HostObject {
  return typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof TypedList) &&
    typeof (v as { selType?: unknown }).selType === 'string';
}

export function typeOf(v: Value | undefined): SelTypeName {
  switch (typeof v) {
    case 'bigint':
      return 'LONG';
    case 'number':
      return 'DOUBLE';
    case 'string':
      return 'STRING';
    case 'boolean':
      return 'BOOLEAN';
    case 'undefined':
      return 'VOID';
    default:
      if (v === null) return 'NULL';
      if (v instanceof TypedList) return `${v.elementType}_ARRAY`;
      if (v instanceof Map) return 'MAP';
      return (v as HostObject).selType;
  }
}

/** Java's String.valueOf for a SEL value, as `+` concatenation and `throw` use it. */
export function javaString(v: Value | undefined): string {
  switch (typeof v) {
    case 'string':
      return v;
    case 'bigint':
      return v.toString();
    case 'number':
      return javaDoubleToString(v);
    case 'boolean':
      return v ? 'true' : 'false';
    case 'undefined':
      return 'null';
    default:
      if (v === null) return 'null';
      if (v instanceof TypedList) return `[${v.items.map((x) => javaString(x as Value)).join(', ')}]`;
      if (v instanceof Map) return `{${[...v].map(([k, x]) => `${k}=${javaString(x)}`).join(', ')}}`;
      return String(v);
  }
}

export function newArray(elementType: ElementType, items: Value[]): SelArray {
  return new TypedList(elementType, items);
}

export function defaultElement(t: ElementType): Value {
  switch (t) {
    case 'LONG':
      return 0n;
    case 'DOUBLE':
      return 0;
    case 'BOOLEAN':
      return false;
    default:
      return null;
  }
}

/** Declared type names of SEL (Java spellings) to SEL types. */
const DECLARED: Record<string, SelTypeName> = Object.assign(Object.create(null) as Record<string, SelTypeName>, {
  int: 'LONG', Integer: 'LONG', long: 'LONG', Long: 'LONG', short: 'LONG', Short: 'LONG', byte: 'LONG', Byte: 'LONG',
  float: 'DOUBLE', Float: 'DOUBLE', double: 'DOUBLE', Double: 'DOUBLE',
  boolean: 'BOOLEAN', Boolean: 'BOOLEAN',
  String: 'STRING',
  Map: 'MAP', HashMap: 'MAP',
});

const ELEMENT_TYPES = new Set<string>(['LONG', 'DOUBLE', 'BOOLEAN', 'STRING']);

/** The SEL type a declaration names, or undefined for an unknown class. */
export function declaredType(typeName: string, isArray: boolean, hostTypes: Record<string, string>): SelTypeName | undefined {
  const base = Object.hasOwn(DECLARED, typeName) ? DECLARED[typeName] : Object.hasOwn(hostTypes, typeName) ? hostTypes[typeName] : undefined;
  if (base === undefined) return undefined;
  if (!isArray) return base;
  return ELEMENT_TYPES.has(base) ? `${base}_ARRAY` : undefined;
}

export function elementTypeOf(typeName: string): ElementType | undefined {
  const t = Object.hasOwn(DECLARED, typeName) ? DECLARED[typeName] : undefined;
  return t !== undefined && ELEMENT_TYPES.has(t) ? (t as ElementType) : undefined;
}
