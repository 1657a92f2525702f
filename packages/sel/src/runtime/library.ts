import * as java from '../java/index.js';
import type { MethodImpl, MethodTable, StaticClass } from '../java/index.js';

/**
 * The core's view of the Java library: lookups by own property only, so no SEL name can reach a
 * JavaScript prototype.
 */
export type { MethodImpl, MethodTable, StaticClass };

/** The tables the Java library exports (see its index.ts). */
interface LibraryTables {
  staticClasses: Readonly<Record<string, StaticClass>>;
  hostMethods: Readonly<Record<string, MethodTable>>;
  stringMethods: MethodTable;
  constructors: Readonly<Record<string, Record<number, MethodImpl>>>;
  hostTypeName(v: unknown): string | undefined;
}
const lib = java as unknown as Partial<LibraryTables>;
const EMPTY = Object.freeze(Object.create(null) as Record<string, never>);
const staticClasses = lib.staticClasses ?? EMPTY;
const hostMethods = lib.hostMethods ?? EMPTY;
const constructors = lib.constructors ?? EMPTY;

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

export const stringMethods: MethodTable = lib.stringMethods ?? EMPTY;

export function constructorFor(className: string, arity: number): MethodImpl | undefined {
  const byArity = own(constructors, className);
  if (!byArity || !Object.hasOwn(byArity, arity)) return undefined;
  return byArity[arity];
}

export function hasConstructor(className: string): boolean {
  return Object.hasOwn(constructors, className);
}

export function hostTypeName(v: unknown): string | undefined {
  if (lib.hostTypeName) return lib.hostTypeName(v);
  return typeof v === 'object' && v !== null && typeof (v as { selType?: unknown }).selType === 'string' ? (v as { selType: string }).selType : undefined;
}

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
