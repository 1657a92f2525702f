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
