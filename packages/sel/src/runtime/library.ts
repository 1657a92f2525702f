import * as java from '../java/index.js';
import type { MethodImpl, MethodTable, StaticClass } from '../java/index.js';

/**
 * The core's view of the Java library: lookups by own property only, so no SEL name can reach a
 * JavaScript prototype.
 */
export type { MethodImpl, MethodTable, StaticClass };

const { staticClasses, hostMethods, constructors } = java;

const own = <T>(table: Readonly<Record<string, T>>, name: string): T | undefined =>
  Object.hasOwn(table, name) ? table[name] : undefined;

export function findIn(table: MethodTable | undefined, name: string, arity: number): MethodImpl | undefined {
  if (!table) return undefined;
  return java.findMethod(table, name, arity);
}

/** True when the table has the method under some arity (for "wrong number of arguments" errors). */
export function hasName(table: MethodTable | undefined, name: string): boolean {
  return table !== undefined && Object.hasOwn(table, name);
}

export function staticClass(name: string): StaticClass | undefined {
  return own(staticClasses, name);
}

export function instanceMethods(typeName: string): MethodTable | undefined {
  return own(hostMethods, typeName);
}

export const stringMethods: MethodTable = java.stringMethods;

export function constructorFor(className: string, arity: number): MethodImpl | undefined {
  const byArity = own(constructors, className);
  if (!byArity || !Object.hasOwn(byArity, arity)) return undefined;
  return byArity[arity];
}

export function hasConstructor(className: string): boolean {
  return Object.hasOwn(constructors, className);
}

export function hostTypeName(v: unknown): string | undefined {
  return java.hostTypeName(v);
}

export const hostMethodsOf = java.hostMethodsOf;

/** Declared class names of host types, for declarations such as `DateTime d = ...`. */
export const HOST_DECLARED_TYPES: Record<string, string> = Object.assign(Object.create(null) as Record<string, string>, {
  DateTime: 'DATETIME',
  DateTimeZone: 'DATETIME_ZONE',
  DateTimeFormatter: 'DATETIME_FORMATTER',
  Property: 'DATETIME_PROPERTY',
  Days: 'DATETIME_DAYS',
  UUID: 'UUID',
});

export const javaDoubleToString = java.javaDoubleToString;

/** String methods whose first argument is a Java regex, by arity. */
const REGEX_METHODS: Readonly<Record<string, readonly number[]>> = { split: [1, 2], replaceAll: [2] };

/**
 * For a call `x.name(<string literal>, ...)` of a method that takes a regex: the error a bad or
 * backtracking-only pattern gets, found at check time rather than when the call runs.
 */
export function regexLiteralError(name: string, argc: number, pattern: string): string | undefined {
  if (!Object.hasOwn(REGEX_METHODS, name) || !REGEX_METHODS[name]!.includes(argc)) return undefined;
  try {
    java.javaRegex(pattern);
    return undefined;
  } catch (e) {
    return (e as Error).message;
  }
}
