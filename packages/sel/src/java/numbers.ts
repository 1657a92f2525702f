import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { javaDoubleToString } from './double-to-string.js';
import { argError, argLong, argNumber, methodTable, type MethodImpl, type MethodTable } from './types.js';

const LONG_MIN = -(2n ** 63n);
const LONG_MAX = 2n ** 63n - 1n;

/** Java's Long.parseLong: optional sign, ASCII digits, 64-bit range; anything else is a NumberFormatException. */
export function javaParseLong(s: string): bigint {
  if (!/^[+-]?\d{1,20}$/.test(s)) throw runtimeError(`NumberFormatException: For input string: "${s.length > 64 ? s.slice(0, 64) + '…' : s}"`);
  const v = BigInt(s);
  if (v < LONG_MIN || v > LONG_MAX) throw runtimeError(`NumberFormatException: For input string: "${s}"`);
  return v;
}

function javaTrimChars(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return s.slice(a, b);
}

// Unambiguous (`\d+(\.\d*)?`, not `\d+\.?\d*`): a long run of digits that fails to match must not
// make the check backtrack quadratically (20,000 digits and an 'x' took 16 s).
const DOUBLE_RE = /^[+-]?(NaN|Infinity|((\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?)[fFdD]?)$/;
const HEX_DOUBLE_RE = /^[+-]?0[xX]/;

/** Java's Double.parseDouble: surrounding whitespace (<= U+0020) ignored, f/d suffixes accepted. */
export function javaParseDouble(text: string): number {
  const s = javaTrimChars(text);
  if (HEX_DOUBLE_RE.test(s)) throw runtimeError(`NumberFormatException: hexadecimal floating-point "${s}" is not supported`);
  if (!DOUBLE_RE.test(s)) throw runtimeError(`NumberFormatException: For input string: "${s.length > 64 ? s.slice(0, 64) + '…' : s}"`);
  const body = s.replace(/[fFdD]$/, '');
  if (body.endsWith('NaN')) return NaN;
  return Number(body);
}

/** Java's (long) cast of a double: NaN → 0, saturating, truncating. */
export function doubleToLong(d: number): bigint {
  if (Number.isNaN(d)) return 0n;
  if (d >= 2 ** 63) return LONG_MAX;
  if (d <= -(2 ** 63)) return LONG_MIN;
  return BigInt(Math.trunc(d));
}

function stringOrNull(method: string, v: unknown): string {
  if (typeof v !== 'string') throw argError(method, 0, 'STRING', v);
  return v;
}

/** Methods on LONG values; also the `Long`/`Integer` statics, whose receiver is 0 as in the reference. */
export const longMethods: MethodTable = methodTable({
  toString: {
    0: (ctx: HostContext, self: bigint) => { const s = self.toString(); ctx.chargeMemory(s.length); return s; },
    1: (ctx: HostContext, _self: unknown, args: unknown[]) => { const s = argLong('Long.toString', args, 0).toString(); ctx.chargeMemory(s.length); return s; },
  },
  valueOf: {
    1: (_c: HostContext, _self: unknown, args: unknown[]) => {
      const v = args[0];
      if (typeof v === 'bigint') return v;
      if (typeof v === 'string') return javaParseLong(v);
      throw argError('Long.valueOf', 0, 'STRING or LONG', v);
    },
  },
  parseLong: { 1: (_c: HostContext, _self: unknown, args: unknown[]) => javaParseLong(stringOrNull('Long.parseLong', args[0])) },
  intValue: { 0: (_c: HostContext, self: bigint) => self },
});

/** Methods on DOUBLE values; also the `Double` statics, whose receiver is 0.0 as in the reference. */
export const doubleMethods: MethodTable = methodTable({
  toString: {
    0: (_c: HostContext, self: number) => javaDoubleToString(self),
    1: (_c: HostContext, _self: unknown, args: unknown[]) => {
      if (typeof args[0] !== 'number') throw argError('Double.toString', 0, 'DOUBLE', args[0]);
      return javaDoubleToString(args[0]);
    },
  },
  valueOf: {
    1: (_c: HostContext, _self: unknown, args: unknown[]) => {
      const v = args[0];
      if (typeof v === 'number') return v;
      if (typeof v === 'string') return javaParseDouble(v);
      throw argError('Double.valueOf', 0, 'STRING or DOUBLE', v);
    },
  },
  parseDouble: { 1: (_c: HostContext, _self: unknown, args: unknown[]) => javaParseDouble(stringOrNull('Double.parseDouble', args[0])) },
  intValue: { 0: (_c: HostContext, self: number) => doubleToLong(self) },
  longValue: { 0: (_c: HostContext, self: number) => doubleToLong(self) },
});

/** Binds a receiver table to a fixed receiver (the reference's static objects hold 0 / 0.0). */
export function withReceiver(table: MethodTable, receiver: unknown): MethodTable {
  const out = Object.create(null) as MethodTable;
  for (const name of Object.keys(table)) {
    const byArity = Object.create(null) as Record<number, MethodImpl>;
    for (const [arity, impl] of Object.entries(table[name]!)) {
      byArity[Number(arity)] = (ctx: HostContext, _self: unknown, args: unknown[]) => impl(ctx, receiver, args);
    }
    out[name] = byArity;
  }
  return out;
}

export const longConstructors = {
  1: (_c: HostContext, _self: unknown, args: unknown[]) => {
    const v = args[0];
    if (typeof v === 'bigint') return v;
    if (typeof v === 'string') return javaParseLong(v);
    throw argError('new Long', 0, 'STRING or LONG', v);
  },
};

export const doubleConstructors = {
  1: (_c: HostContext, _self: unknown, args: unknown[]) => {
    const v = args[0];
    if (typeof v === 'number') return v;
    if (typeof v === 'string') return javaParseDouble(v);
    throw argError('new Double', 0, 'STRING or DOUBLE', v);
  },
};

export const booleanConstructors = {
  1: (_c: HostContext, _self: unknown, args: unknown[]) => {
    const v = args[0];
    if (typeof v === 'boolean') return v;
    // Boolean.parseBoolean: true only for "true" in any case.
    if (typeof v === 'string') return v.toLowerCase() === 'true';
    throw argError('new Boolean', 0, 'STRING or BOOLEAN', v);
  },
};

/** java.lang.Math as the reference exposes it: min/max over LONGs, pow, random. */
export const mathMethods: MethodTable = methodTable({
  min: { 2: (_c: HostContext, _s: unknown, args: unknown[]) => { const a = argLong('Math.min', args, 0); const b = argLong('Math.min', args, 1); return a < b ? a : b; } },
  max: { 2: (_c: HostContext, _s: unknown, args: unknown[]) => { const a = argLong('Math.max', args, 0); const b = argLong('Math.max', args, 1); return a > b ? a : b; } },
  pow: { 2: (_c: HostContext, _s: unknown, args: unknown[]) => Math.pow(argNumber('Math.pow', args, 0), argNumber('Math.pow', args, 1)) },
  random: { 0: (ctx: HostContext) => ctx.random() },
});

/** The reference's one "misc" object behind System, Arrays and DateTimeConstants. */
export const miscMethods: MethodTable = methodTable({
  currentTimeMillis: { 0: (ctx: HostContext) => BigInt(Math.trunc(ctx.nowMillis())) },
  asList: { 1: (_c: HostContext, _s: unknown, args: unknown[]) => args[0] },
});

export const miscFields: Record<string, unknown> = Object.assign(Object.create(null) as Record<string, unknown>, { SUNDAY: 7n });

/** java.util.UUID built from two random longs, as the reference does (no version bits). */
export class JavaUUID {
  readonly selType = 'UUID';
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

function randomHex(ctx: HostContext, digits: number): string {
  let out = '';
  while (out.length < digits) {
    out += Math.floor(ctx.random() * 0x10000).toString(16).padStart(4, '0');
  }
  return out.slice(0, digits);
}

export const uuidStatics: MethodTable = methodTable({
  randomUUID: {
    0: (ctx: HostContext) => {
      const h = randomHex(ctx, 32);
      return new JavaUUID(`${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`);
    },
  },
});

export const uuidMethods: MethodTable = methodTable({
  ...uuidStatics,
  toString: { 0: (_c: HostContext, self: JavaUUID) => self.text },
});
