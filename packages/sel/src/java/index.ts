/**
 * SEL's Java library: the Java/Joda behaviour SEL programs call into. Pure, no I/O.
 *
 * Exported shape (the core binds to these; every table is a null-prototype object, look names up
 * with `findMethod(table, name, arity)` or `Object.hasOwn`):
 * - `javaDoubleToString(d: number): string`, `javaToString(v: unknown): string` (String.valueOf).
 * - `javaFormat(ctx, fmt: string, args: unknown[]): string` — String.format.
 * - `stringMethods: MethodTable` — methods on STRING values (self is the JS string).
 * - `staticClasses: Record<className, StaticClass>` — `{ methods: MethodTable, fields?: name → value }`
 *   for `String`, `Long`/`Integer`/`int`/`long`, `Double`/..., `Math`, `UUID`, `System`, `Arrays`,
 *   `DateTimeConstants`, `DateTime`, `DateTimeZone`, `DateTimeFormat`/`DateTimeFormatter`, `Days`,
 *   `Util`. Static impls ignore `self`.
 * - `hostMethods: Record<typeName, MethodTable>` — instance methods per SEL type name: `STRING`,
 *   `LONG`, `DOUBLE`, `DATETIME`, `DATETIME_ZONE`, `DATETIME_FORMATTER`, `DATETIME_PROPERTY`,
 *   `DATETIME_DAYS`, `UUID` (self is the value).
 * - `constructors: Record<className, Record<arity, MethodImpl>>` — `new X(...)` for String, Long
 *   (and int/long/Integer), Double (float/double/Float), Boolean (boolean) and DateTime. Map/HashMap
 *   are the core's.
 * - `hostTypeName(value): string | undefined` — SEL type name of a host object (`DATETIME`...).
 * - `hostMethodsOf(value): MethodTable | undefined` — its instance methods (`hostMethods` of that name).
 * - `MethodImpl = (ctx: HostContext, self: any, args: unknown[]) => unknown`; values are SEL values
 *   (bigint LONG, number DOUBLE, string, boolean, null, host objects). Lists come back as
 *   `TypedList { elementType, items }`; lists going in are recognised through `configureArrays`.
 * - Errors are `SelError`s of kind 'runtime' (or 'limit' from the HostContext checks).
 */
export type { MethodImpl, MethodTable, StaticClass, ArrayAdapter, ListElementType } from './types.js';
export { TypedList, configureArrays, findMethod, selTypeOf } from './types.js';
export { javaDoubleToString } from './double-to-string.js';
export { javaToString } from './java-string.js';
export { javaFormat } from './format.js';
export { javaRegex } from './java-regex.js';
export type { JavaPattern } from './java-regex.js';
export { javaSplit, javaReplaceAll, javaTrim, javaCompareTo, stringMethods } from './strings.js';
export { javaParseLong, javaParseDouble, JavaUUID } from './numbers.js';
export { DateTime, Days } from './datetime.js';
export { DateTimeZone, zoneForId } from './zone.js';
export { DateTimeFormatter } from './joda-format.js';
export { DateTimeProperty } from './joda-methods.js';
export { utilMethods } from './util-functions.js';
export { staticClasses, hostMethods, hostMethodsOf, constructors, hostTypeName } from './registry.js';
