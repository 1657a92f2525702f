import { DateTime, Days } from './datetime.js';
import { DateTimeFormatter } from './joda-format.js';
import {
  DateTimeProperty, dateTimeConstructors, dateTimeMethods, dateTimeStatics, daysMethods, daysStatics, formatterMethods,
  formatterStatics, propertyMethods, zoneFields, zoneMethods, zoneStatics,
} from './joda-methods.js';
import {
  JavaUUID, booleanConstructors, doubleConstructors, doubleMethods, longConstructors, longMethods, mathMethods, miscFields,
  miscMethods, uuidMethods, uuidStatics, withReceiver,
} from './numbers.js';
import { stringConstructors, stringMethods, stringStatics } from './strings.js';
import { nullProto, type MethodImpl, type MethodTable, type StaticClass } from './types.js';
import { utilMethods } from './util-functions.js';
import { DateTimeZone } from './zone.js';

const empty: MethodTable = Object.create(null) as MethodTable;
const longStatic: StaticClass = { methods: withReceiver(longMethods, 0n) };
const doubleStatic: StaticClass = { methods: withReceiver(doubleMethods, 0) };
const booleanStatic: StaticClass = { methods: empty };
const misc: StaticClass = { methods: miscMethods, fields: miscFields };
const formatterStatic: StaticClass = { methods: formatterStatics };

/** The class names SEL resolves (as the reference's STATIC_OBJECTS), minus Map/HashMap (the core's). */
export const staticClasses: Record<string, StaticClass> = nullProto<StaticClass>({
  String: { methods: stringStatics },
  int: longStatic, long: longStatic, Integer: longStatic, Long: longStatic,
  float: doubleStatic, double: doubleStatic, Float: doubleStatic, Double: doubleStatic,
  boolean: booleanStatic, Boolean: booleanStatic,
  DateTime: { methods: dateTimeStatics },
  DateTimeZone: { methods: zoneStatics, fields: zoneFields },
  DateTimeFormat: formatterStatic, DateTimeFormatter: formatterStatic,
  Property: { methods: empty },
  Days: { methods: daysStatics },
  UUID: { methods: uuidStatics },
  Math: { methods: mathMethods },
  System: misc, Arrays: misc, DateTimeConstants: misc,
  Util: { methods: utilMethods },
});

/** Instance methods per SEL type name. */
export const hostMethods: Record<string, MethodTable> = nullProto<MethodTable>({
  STRING: stringMethods,
  LONG: longMethods,
  DOUBLE: doubleMethods,
  BOOLEAN: empty,
  DATETIME: dateTimeMethods,
  DATETIME_ZONE: zoneMethods,
  DATETIME_FORMATTER: formatterMethods,
  DATETIME_PROPERTY: propertyMethods,
  DATETIME_DAYS: daysMethods,
  UUID: uuidMethods,
});

/** `new X(...)` by class name → arity. */
export const constructors: Record<string, Record<number, MethodImpl>> = nullProto<Record<number, MethodImpl>>({
  String: nullProto<MethodImpl>(stringConstructors),
  int: nullProto<MethodImpl>(longConstructors), long: nullProto<MethodImpl>(longConstructors),
  Integer: nullProto<MethodImpl>(longConstructors), Long: nullProto<MethodImpl>(longConstructors),
  float: nullProto<MethodImpl>(doubleConstructors), double: nullProto<MethodImpl>(doubleConstructors),
  Float: nullProto<MethodImpl>(doubleConstructors), Double: nullProto<MethodImpl>(doubleConstructors),
  boolean: nullProto<MethodImpl>(booleanConstructors), Boolean: nullProto<MethodImpl>(booleanConstructors),
  DateTime: dateTimeConstructors,
});

/** SEL type name of a host object, or undefined for anything else. */
export function hostTypeName(v: unknown): string | undefined {
  if (v instanceof DateTime) return 'DATETIME';
  if (v instanceof DateTimeZone) return 'DATETIME_ZONE';
  if (v instanceof DateTimeFormatter) return 'DATETIME_FORMATTER';
  if (v instanceof DateTimeProperty) return 'DATETIME_PROPERTY';
  if (v instanceof Days) return 'DATETIME_DAYS';
  if (v instanceof JavaUUID) return 'UUID';
  return undefined;
}

/** Instance methods of a host object, by its class: the dispatch of every method call on one. */
export function hostMethodsOf(v: unknown): MethodTable | undefined {
  if (v instanceof DateTime) return dateTimeMethods;
  if (v instanceof DateTimeFormatter) return formatterMethods;
  if (v instanceof DateTimeZone) return zoneMethods;
  if (v instanceof DateTimeProperty) return propertyMethods;
  if (v instanceof Days) return daysMethods;
  if (v instanceof JavaUUID) return uuidMethods;
  return undefined;
}
