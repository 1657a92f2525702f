import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { fixedHalfUp, roundHalfUp, shortestDigits, toPlain } from './decimal-digits.js';
import { javaToString } from './java-string.js';
import { selTypeOf } from './types.js';

/** One parsed `%[index$][flags][width][.precision]conversion` specifier. */
interface Spec {
  index: number | 'prev' | 'next';
  flags: string;
  width: number;
  precision: number;
  conversion: string;
  upper: boolean;
}

type Part = string | Spec;

const SPEC_RE = /%(\d+\$)?([-#+ 0,(<]*)?(\d+)?(\.\d+)?([tT])?([a-zA-Z%])?/y;
const compiled = new Map<string, Part[]>();
const MAX_CACHED = 512;

function fail(kind: string, detail: string): never {
  throw runtimeError(`String.format: ${kind}: ${detail}`);
}

function parseFormat(fmt: string): Part[] {
  const hit = compiled.get(fmt);
  if (hit) return hit;
  const parts: Part[] = [];
  let i = 0;
  let lit = '';
  while (i < fmt.length) {
    const c = fmt[i]!;
    if (c !== '%') {
      lit += c;
      i++;
      continue;
    }
    SPEC_RE.lastIndex = i;
    const m = SPEC_RE.exec(fmt)!;
    const conv = m[6];
    if (conv === undefined) fail('UnknownFormatConversionException', `Conversion = '${fmt[i + 1 + (m[0].length - 1)] ?? '%'}'`);
    if (m[5] !== undefined) fail('UnsupportedFormatConversion', `date/time conversion %${m[5]}${conv} is not supported`);
    const flags = m[2] ?? '';
    for (let k = 0; k < flags.length; k++) {
      if (flags.indexOf(flags[k]!, k + 1) >= 0) fail('DuplicateFormatFlagsException', `Flags = '${flags[k]}'`);
    }
    const widthText = m[3];
    const width = widthText === undefined ? -1 : Number(widthText);
    if (!Number.isSafeInteger(width)) fail('IllegalFormatWidthException', widthText ?? '');
    const precision = m[4] === undefined ? -1 : Number(m[4].slice(1));
    if (!Number.isSafeInteger(precision)) fail('IllegalFormatPrecisionException', m[4] ?? '');
    const spec: Spec = {
      index: m[1] !== undefined ? Number(m[1].slice(0, -1)) : flags.includes('<') ? 'prev' : 'next',
      flags: flags.replace('<', ''),
      width,
      precision,
      conversion: conv.toLowerCase(),
      upper: conv !== conv.toLowerCase(),
    };
    checkSpec(spec, conv);
    if (lit) parts.push(lit);
    lit = '';
    parts.push(spec);
    i += m[0].length;
  }
  if (lit) parts.push(lit);
  if (compiled.size >= MAX_CACHED) compiled.clear();
  compiled.set(fmt, parts);
  return parts;
}

const ALLOWED_FLAGS: Record<string, string> = {
  b: '-#', h: '-#', s: '-#', c: '-', d: '-+ 0,(', o: '-#0', x: '-#0', e: '-#+ 0(', f: '-#+ 0,(', g: '-+ 0,(', '%': '-', n: '',
};

function checkSpec(s: Spec, conv: string): void {
  const allowed = ALLOWED_FLAGS[s.conversion];
  if (allowed === undefined || (s.upper && (s.conversion === 'd' || s.conversion === 'o' || s.conversion === 'f' || s.conversion === 'n'))) {
    fail('UnknownFormatConversionException', `Conversion = '${conv}'`);
  }
  for (const f of s.flags) {
    if (!allowed.includes(f)) fail('FormatFlagsConversionMismatchException', `Conversion = ${conv}, Flags = ${f}`);
  }
  if (s.conversion === 'n') {
    if (s.width >= 0) fail('IllegalFormatWidthException', String(s.width));
    if (s.precision >= 0) fail('IllegalFormatPrecisionException', String(s.precision));
    return;
  }
  if ((s.flags.includes('-') || s.flags.includes('0')) && s.width < 0) {
    fail('MissingFormatWidthException', `%${s.flags}${conv}`);
  }
  if (s.flags.includes('-') && s.flags.includes('0')) fail('IllegalFormatFlagsException', `Flags = '${s.flags}'`);
  if (s.flags.includes('+') && s.flags.includes(' ')) fail('IllegalFormatFlagsException', `Flags = '${s.flags}'`);
  if (s.precision >= 0 && 'cdox%'.includes(s.conversion)) fail('IllegalFormatPrecisionException', String(s.precision));
}

/**
 * Java's String.format(fmt, args...) over SEL values (Locale US). Supports %s %S %b %h %c %d %o
 * %x %e %f %g %n %%, flags `-#+ 0,(`, width, precision and `n$` / `<` argument indexes.
 */
export function javaFormat(ctx: HostContext, fmt: string, args: readonly unknown[]): string {
  const parts = parseFormat(fmt);
  let out = '';
  let ordinary = 0;
  let last = -1;
  for (const p of parts) {
    if (typeof p === 'string') {
      out += p;
      continue;
    }
    if (p.conversion === 'n') {
      out += '\n';
      continue;
    }
    if (p.conversion === '%') {
      out += pad(ctx, '%', p, false);
      continue;
    }
    let idx: number;
    if (p.index === 'next') idx = ordinary++;
    else if (p.index === 'prev') {
      if (last < 0) fail('MissingFormatArgumentException', `Format specifier '%<${p.conversion}'`);
      idx = last;
    } else idx = p.index - 1;
    if (idx < 0 || idx >= args.length) fail('MissingFormatArgumentException', `Format specifier '%${p.conversion}'`);
    last = idx;
    const piece = convert(ctx, p, args[idx]);
    out += piece;
    ctx.checkStringLength(out.length);
  }
  ctx.chargeMemory(out.length);
  return out;
}

function pad(ctx: HostContext, text: string, s: Spec, zeroAllowed: boolean): string {
  if (s.width <= text.length) return text;
  ctx.checkStringLength(s.width);
  ctx.chargeMemory(s.width);
  const fill = s.width - text.length;
  if (s.flags.includes('-')) return text + ' '.repeat(fill);
  if (zeroAllowed && s.flags.includes('0')) {
    const signLen = /^[-+ (]/.test(text) ? 1 : 0;
    const prefix = text.slice(0, signLen);
    const rest = text.slice(signLen);
    const hexPrefix = /^0[xX]/.test(rest) ? 2 : 0;
    return prefix + rest.slice(0, hexPrefix) + '0'.repeat(fill) + rest.slice(hexPrefix);
  }
  return ' '.repeat(fill) + text;
}

function mismatch(s: Spec, v: unknown): never {
  fail('IllegalFormatConversionException', `${s.upper ? s.conversion.toUpperCase() : s.conversion} != ${javaClassOf(v)}`);
}

function javaClassOf(v: unknown): string {
  switch (typeof v) {
    case 'string':
      return 'java.lang.String';
    case 'bigint':
      return isIntRange(v) ? 'java.lang.Integer' : 'java.lang.Long';
    case 'number':
      return 'java.lang.Double';
    case 'boolean':
      return 'java.lang.Boolean';
    default:
      return selTypeOf(v);
  }
}

function isIntRange(v: bigint): boolean {
  return v >= -2147483648n && v <= 2147483647n;
}

function caseOf(s: Spec, text: string): string {
  return s.upper ? text.toUpperCase() : text;
}

function convert(ctx: HostContext, s: Spec, v: unknown): string {
  switch (s.conversion) {
    case 's': {
      if (s.flags.includes('#')) fail('FormatFlagsConversionMismatchException', 'Conversion = s, Flags = #');
      let t = javaToString(v);
      if (s.precision >= 0) t = t.slice(0, s.precision);
      return pad(ctx, caseOf(s, t), s, false);
    }
    case 'b': {
      let t = v === null || v === undefined ? 'false' : typeof v === 'boolean' ? String(v) : 'true';
      if (s.precision >= 0) t = t.slice(0, s.precision);
      return pad(ctx, caseOf(s, t), s, false);
    }
    case 'h': {
      let t = v === null || v === undefined ? 'null' : (javaHashCode(s, v) >>> 0).toString(16);
      if (s.precision >= 0) t = t.slice(0, s.precision);
      return pad(ctx, caseOf(s, t), s, false);
    }
    case 'c': {
      if (v === null || v === undefined) return pad(ctx, 'null', s, false);
      if (typeof v !== 'bigint' || !isIntRange(v)) mismatch(s, v);
      const cp = Number(v);
      if (cp < 0 || cp > 0x10ffff) fail('IllegalFormatCodePointException', `Code point = 0x${(cp >>> 0).toString(16)}`);
      return pad(ctx, caseOf(s, String.fromCodePoint(cp)), s, false);
    }
    case 'd':
    case 'o':
    case 'x':
      if (v === null || v === undefined) return pad(ctx, 'null', s, false);
      if (typeof v !== 'bigint') mismatch(s, v);
      return integral(ctx, s, v);
    case 'e':
    case 'f':
    case 'g':
      if (v === null || v === undefined) return pad(ctx, 'null', s, false);
      if (typeof v !== 'number') mismatch(s, v);
      return floating(ctx, s, v);
    default:
      return fail('UnknownFormatConversionException', `Conversion = '${s.conversion}'`);
  }
}

function javaHashCode(s: Spec, v: unknown): number {
  switch (typeof v) {
    case 'string': {
      let h = 0;
      for (let i = 0; i < v.length; i++) h = (Math.imul(h, 31) + v.charCodeAt(i)) | 0;
      return h;
    }
    case 'bigint':
      return isIntRange(v) ? Number(v) : Number(BigInt.asIntN(32, v ^ (BigInt.asUintN(64, v) >> 32n)));
    case 'boolean':
      return v ? 1231 : 1237;
    case 'number': {
      const buf = new DataView(new ArrayBuffer(8));
      buf.setFloat64(0, Number.isNaN(v) ? NaN : v);
      return (buf.getInt32(0) ^ buf.getInt32(4)) | 0;
    }
    default:
      return fail('IllegalFormatConversionException', `h != ${javaClassOf(v)}`);
  }
}

function group(intText: string): string {
  let out = '';
  for (let i = 0; i < intText.length; i++) {
    if (i > 0 && (intText.length - i) % 3 === 0) out += ',';
    out += intText[i];
  }
  return out;
}

function signed(s: Spec, negative: boolean, body: string): string {
  if (negative) return s.flags.includes('(') ? `(${body})` : `-${body}`;
  if (s.flags.includes('+')) return `+${body}`;
  if (s.flags.includes(' ')) return ` ${body}`;
  return body;
}

function integral(ctx: HostContext, s: Spec, v: bigint): string {
  if (s.conversion === 'd') {
    const neg = v < 0n;
    let body = (neg ? -v : v).toString();
    if (s.flags.includes(',')) body = group(body);
    return padSigned(ctx, s, signed(s, neg, body));
  }
  // Java prints Integer and Long in two's complement of their own width.
  const unsigned = v >= 0n ? v : isIntRange(v) ? BigInt.asUintN(32, v) : BigInt.asUintN(64, v);
  let body = unsigned.toString(s.conversion === 'x' ? 16 : 8);
  if (s.flags.includes('#')) body = (s.conversion === 'x' ? '0x' : '0') + body;
  return pad(ctx, caseOf(s, body), s, true);
}

/** Zero padding goes between the sign (or parenthesis) and the digits. */
function padSigned(ctx: HostContext, s: Spec, text: string): string {
  if (s.flags.includes('0') && text.startsWith('(') && s.width > text.length) {
    ctx.checkStringLength(s.width);
    return '(' + '0'.repeat(s.width - text.length) + text.slice(1);
  }
  return pad(ctx, text, s, true);
}

/** Most digits `%e`, `%f` and `%g` may print after the point (a double has 17 significant digits). */
export const MAX_FORMAT_PRECISION = 10_000;

function floating(ctx: HostContext, s: Spec, v: number): string {
  if (s.precision > MAX_FORMAT_PRECISION) {
    throw runtimeError(`format precision ${s.precision} exceeds the limit ${MAX_FORMAT_PRECISION}`);
  }
  ctx.chargeWork(Math.max(0, s.precision));
  if (!Number.isFinite(v)) {
    const neg = v < 0;
    const body = Number.isNaN(v) ? 'NaN' : 'Infinity';
    const text = Number.isNaN(v) ? body : signed(s, neg, body);
    return pad(ctx, caseOf(s, text), s, false);
  }
  const neg = v < 0 || Object.is(v, -0);
  const abs = Math.abs(v);
  let body: string;
  if (s.conversion === 'f') {
    const prec = s.precision < 0 ? 6 : s.precision;
    body = fixedHalfUp(abs, prec);
    if (s.flags.includes(',')) body = groupDecimal(body);
    if (s.flags.includes('#') && prec === 0) body += '.';
  } else if (s.conversion === 'e') {
    const prec = s.precision < 0 ? 6 : s.precision;
    body = scientific(abs, prec);
    if (s.flags.includes('#') && prec === 0) body = body.replace('e', '.e');
  } else {
    let prec = s.precision < 0 ? 6 : s.precision;
    if (prec === 0) prec = 1;
    if (abs === 0) body = toPlain({ digits: '0', exp: 0 }, prec - 1);
    else {
      const r = roundHalfUp(shortestDigits(abs), prec);
      if (r.exp >= -4 && r.exp < prec) {
        body = toPlain(r, prec - (r.exp + 1));
        if (s.flags.includes(',')) body = groupDecimal(body);
      } else body = scientific(abs, prec - 1);
    }
  }
  return padSigned(ctx, s, caseOf(s, signed(s, neg, body)));
}

function groupDecimal(text: string): string {
  const dot = text.indexOf('.');
  return dot < 0 ? group(text) : group(text.slice(0, dot)) + text.slice(dot);
}

function scientific(abs: number, prec: number): string {
  let digits = '0';
  let exp = 0;
  if (abs !== 0) {
    const r = roundHalfUp(shortestDigits(abs), prec + 1);
    digits = r.digits;
    exp = r.exp;
  }
  const all = digits.length < prec + 1 ? digits + '0'.repeat(prec + 1 - digits.length) : digits;
  const mant = prec > 0 ? `${all[0]}.${all.slice(1, prec + 1)}` : all[0]!;
  const e = Math.abs(exp);
  return `${mant}e${exp < 0 ? '-' : '+'}${e < 10 ? '0' : ''}${e}`;
}
