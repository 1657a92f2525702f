import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { javaFormat } from './format.js';
import { javaRegex, type JavaPattern } from './java-regex.js';
import { CountingInput, regexFind } from './regex-search.js';
import { javaToString } from './java-string.js';
import {
  TypedList, argError, argInt, argString, isSelArray, methodTable, selArrayItems, type MethodTable,
} from './types.js';

/** Java's String.split(regex, limit): leading zero-width match skipped, trailing empties dropped when limit == 0. */
export function javaSplit(ctx: HostContext, s: string, regex: string, limit = 0): string[] {
  const re = javaRegex(regex, ctx);
  const input = new CountingInput(s);
  const parts: string[] = [];
  let index = 0;
  let from = 0;
  const limited = limit > 0;
  while ((!limited || parts.length < limit - 1) && from <= s.length) {
    const m = regexFind(ctx, re, input, from);
    if (!m) break;
    const start = m[0]!;
    const end = m[1]!;
    from = end;
    if (end === start) {
      from = end + (codePointWidth(s, end) || 1);
      if (start === 0) continue;
      if (start >= s.length) break;
    }
    parts.push(s.slice(index, start));
    ctx.checkArrayLength(parts.length + 1);
    index = end;
  }
  if (parts.length === 0 && index === 0) {
    ctx.chargeMemory(s.length + 1);
    return [s];
  }
  parts.push(s.slice(index));
  if (limit === 0) {
    let n = parts.length;
    while (n > 0 && parts[n - 1] === '') n--;
    parts.length = n;
  }
  ctx.checkArrayLength(parts.length);
  ctx.chargeMemory(parts.length + s.length);
  ctx.chargeWork(s.length);
  return parts;
}

function codePointWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (Number.isNaN(c)) return 0;
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

interface ReplacementPart {
  text?: string;
  group?: number;
}

const replacementCache = new Map<string, ReplacementPart[]>();

/** Parses a Java Matcher replacement: `$n` (longest valid group number), `${name}`, `\x` escapes. */
function parseReplacement(rep: string, re: JavaPattern): ReplacementPart[] {
  const groups = re.groupCount;
  const key = `${re.pattern}\u0000${rep}`;
  const hit = replacementCache.get(key);
  if (hit) return hit;
  const parts: ReplacementPart[] = [];
  let text = '';
  for (let i = 0; i < rep.length; i++) {
    const c = rep[i]!;
    if (c === '\\') {
      i++;
      if (i >= rep.length) throw runtimeError('replaceAll: character to be escaped is missing');
      text += rep[i];
    } else if (c === '$') {
      i++;
      if (i >= rep.length) throw runtimeError("replaceAll: illegal group reference: group index is missing");
      if (rep[i] === '{') {
        const end = rep.indexOf('}', i);
        const name = end < 0 ? '' : rep.slice(i + 1, end);
        if (!/^[A-Za-z][A-Za-z0-9]*$/.test(name)) throw runtimeError('replaceAll: named capturing group is missing trailing }');
        const index = re.groupNames.get(name);
        if (index === undefined) throw runtimeError(`replaceAll: no group with name {${name}}`);
        if (text) parts.push({ text });
        text = '';
        parts.push({ group: index });
        i = end;
      } else {
        let d = rep.charCodeAt(i) - 48;
        if (d < 0 || d > 9) throw runtimeError('replaceAll: illegal group reference');
        let ref = d;
        while (i + 1 < rep.length) {
          d = rep.charCodeAt(i + 1) - 48;
          if (d < 0 || d > 9) break;
          const next = ref * 10 + d;
          if (next > groups) break;
          ref = next;
          i++;
        }
        if (ref > groups) throw runtimeError(`replaceAll: no group ${ref}`);
        if (text) parts.push({ text });
        text = '';
        parts.push({ group: ref });
      }
    } else {
      text += c;
    }
  }
  if (text) parts.push({ text });
  if (replacementCache.size >= 512) replacementCache.clear();
  replacementCache.set(key, parts);
  return parts;
}

/** Java's String.replaceAll / replaceFirst with Matcher replacement syntax. */
export function javaReplaceAll(ctx: HostContext, s: string, regex: string, replacement: string, firstOnly = false): string {
  const re = javaRegex(regex, ctx);
  const rep = parseReplacement(replacement, re);
  const input = new CountingInput(s);
  let out = '';
  let last = 0;
  let from = 0;
  while (from <= s.length) {
    const m = regexFind(ctx, re, input, from);
    if (!m) break;
    const start = m[0]!;
    const end = m[1]!;
    out += s.slice(last, start);
    for (const p of rep) {
      if (p.text !== undefined) out += p.text;
      else {
        const g = p.group! * 2;
        if (m[g]! >= 0) out += s.slice(m[g], m[g + 1]);
      }
    }
    ctx.checkStringLength(out.length);
    last = end;
    from = end;
    if (end === start) {
      const w = codePointWidth(s, end);
      if (w === 0) break;
      out += s.slice(end, end + w);
      last = from = end + w;
    }
    if (firstOnly) break;
  }
  out += s.slice(last);
  ctx.checkStringLength(out.length);
  ctx.chargeMemory(out.length);
  ctx.chargeWork(out.length);
  return out;
}

/** Java's String.trim: strips every char <= U+0020 at both ends. */
export function javaTrim(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && s.charCodeAt(a) <= 32) a++;
  while (b > a && s.charCodeAt(b - 1) <= 32) b--;
  return a === 0 && b === s.length ? s : s.slice(a, b);
}

/** Java's String.compareTo: first differing UTF-16 unit, else the length difference. */
export function javaCompareTo(a: string, b: string): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a.charCodeAt(i) - b.charCodeAt(i);
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/** SEL's String.escape: Java-escapes backslash, \t \b \n \r \f and double quote. */
export function selEscape(s: string): string {
  return s
    .replaceAll('\\', '\\\\')
    .replaceAll('\t', '\\t')
    .replaceAll('\b', '\\b')
    .replaceAll('\n', '\\n')
    .replaceAll('\r', '\\r')
    .replaceAll('\f', '\\f')
    .replaceAll('"', '\\"');
}

function substring(ctx: HostContext, s: string, begin: number, end: number): string {
  if (begin < 0 || end > s.length || begin > end) {
    throw runtimeError(`substring: begin ${begin}, end ${end}, length ${s.length} (StringIndexOutOfBoundsException)`);
  }
  ctx.chargeMemory(end - begin);
  ctx.chargeWork(end - begin);
  return s.slice(begin, end);
}

function stringArg(method: string, args: unknown[], i: number): string {
  const v = args[i];
  if (v === null || v === undefined) throw runtimeError(`${method}: argument ${i + 1} is NULL`);
  return argString(method, args, i);
}

/** String.format(fmt, args...) / String.format(fmt, array). */
function formatCall(ctx: HostContext, args: unknown[]): string {
  if (args.length === 0) throw runtimeError('String.format needs a format string');
  const fmt = argString('String.format', args, 0);
  const rest = args.length === 2 && isSelArray(args[1]) ? selArrayItems(args[1]) : args.slice(1);
  const out = javaFormat(ctx, fmt, rest);
  ctx.chargeWork(fmt.length + out.length);
  return out;
}

/** String.join(sep, s1, s2...) / String.join(sep, STRING_ARRAY). */
function joinCall(ctx: HostContext, args: unknown[]): string {
  if (args.length === 0) throw runtimeError('String.join needs a delimiter');
  const sep = argString('String.join', args, 0);
  let items: readonly unknown[];
  if (args.length === 2 && isSelArray(args[1])) {
    items = selArrayItems(args[1]);
    if (args[1] instanceof TypedList && args[1].elementType !== 'STRING') {
      throw argError('String.join', 1, 'STRING_ARRAY', args[1]);
    }
  } else items = args.slice(1);
  let len = Math.max(0, items.length - 1) * sep.length;
  for (let i = 0; i < items.length; i++) {
    const v = items[i];
    if (typeof v !== 'string') throw argError('String.join', args.length === 2 && isSelArray(args[1]) ? 1 : i + 1, 'STRING', v);
    len += v.length;
  }
  ctx.checkStringLength(len);
  ctx.chargeMemory(len);
  ctx.chargeWork(len);
  return (items as string[]).join(sep);
}

function escapeCall(ctx: HostContext, self: string | undefined, args: unknown[]): string {
  if (args.length === 0) {
    if (self === undefined) throw runtimeError('String.escape() needs a string to escape');
    ctx.chargeWork(self.length * 7);
    return selEscape(self);
  }
  if (args.length === 1 && typeof args[0] === 'string') {
    ctx.chargeWork(args[0].length * 7);
    return selEscape(args[0]);
  }
  throw runtimeError('String.escape takes no argument or one STRING');
}

const VARARGS = 16;

function varargs(impl: (ctx: HostContext, self: string | undefined, args: unknown[]) => unknown): Record<number, (ctx: HostContext, self: string | undefined, args: unknown[]) => unknown> {
  const byArity: Record<number, (ctx: HostContext, self: string | undefined, args: unknown[]) => unknown> = {};
  for (let n = 0; n <= VARARGS; n++) byArity[n] = impl;
  return byArity;
}

/** Static-style String methods, callable as `String.x(...)` and, as in the reference, on any string. */
const shared = {
  format: varargs((ctx, _self, args) => formatCall(ctx, args)),
  join: varargs((ctx, _self, args) => joinCall(ctx, args)),
  valueOf: { 1: (ctx: HostContext, _self: unknown, args: unknown[]) => { const s = javaToString(args[0]); ctx.chargeMemory(s.length); return s; } },
};

/** Methods on STRING values (self is the JS string); the reference's exact method set. */
export const stringMethods: MethodTable = methodTable({
  ...shared,
  escape: { 0: (ctx, self: string, args) => escapeCall(ctx, self, args), 1: (ctx, self: string, args) => escapeCall(ctx, self, args) },
  split: {
    1: (ctx, self: string, args) => new TypedList('STRING', javaSplit(ctx, self, stringArg('split', args, 0))),
    2: (ctx, self: string, args) => new TypedList('STRING', javaSplit(ctx, self, stringArg('split', args, 0), argInt('split', args, 1))),
  },
  toUpperCase: { 0: (ctx, self: string) => { ctx.chargeWork(self.length); const r = self.toUpperCase(); ctx.chargeMemory(r.length); return r; } },
  toLowerCase: { 0: (ctx, self: string) => { ctx.chargeWork(self.length); const r = self.toLowerCase(); ctx.chargeMemory(r.length); return r; } },
  replaceAll: { 2: (ctx, self: string, args) => javaReplaceAll(ctx, self, stringArg('replaceAll', args, 0), stringArg('replaceAll', args, 1)) },
  replace: {
    2: (ctx, self: string, args) => {
      const target = stringArg('replace', args, 0);
      const rep = stringArg('replace', args, 1);
      const count = target === '' ? self.length + 1 : self.split(target).length - 1;
      const len = self.length + count * (rep.length - target.length);
      ctx.chargeWork(self.length + len);
      ctx.checkStringLength(len);
      ctx.chargeMemory(len);
      return self.replaceAll(target, () => rep);
    },
  },
  startsWith: { 1: (ctx, self: string, args) => { const t = stringArg('startsWith', args, 0); ctx.chargeWork(t.length); return self.startsWith(t); } },
  endsWith: { 1: (ctx, self: string, args) => { const t = stringArg('endsWith', args, 0); ctx.chargeWork(t.length); return self.endsWith(t); } },
  contains: {
    1: (ctx, self: string, args) => {
      const t = stringArg('contains', args, 0);
      const at = self.indexOf(t);
      ctx.chargeWork(at < 0 ? self.length : at + t.length);
      return at >= 0;
    },
  },
  substring: {
    1: (ctx, self: string, args) => substring(ctx, self, argInt('substring', args, 0), self.length),
    2: (ctx, self: string, args) => substring(ctx, self, argInt('substring', args, 0), argInt('substring', args, 1)),
  },
  lastIndexOf: {
    1: (ctx, self: string, args) => {
      const at = self.lastIndexOf(stringArg('lastIndexOf', args, 0));
      ctx.chargeWork(self.length - Math.max(0, at));
      return BigInt(at);
    },
  },
  length: { 0: (_c, self: string) => BigInt(self.length) },
  isEmpty: { 0: (_c, self: string) => self.length === 0 },
  equals: { 1: (ctx, self: string, args) => { ctx.chargeWork(self.length); return typeof args[0] === 'string' && args[0] === self; } },
  compareTo: { 1: (ctx, self: string, args) => { ctx.chargeWork(self.length); return BigInt(javaCompareTo(self, stringArg('compareTo', args, 0))); } },
  trim: { 0: (ctx, self: string) => { ctx.chargeWork(self.length); return javaTrim(self); } },
});

/** `String.x(...)`: the reference's static String object has no value, so only these work on it. */
export const stringStatics: MethodTable = methodTable({
  ...shared,
  escape: { 1: (ctx, _self, args) => escapeCall(ctx, undefined, args) },
});

/** `new String()`, `new String(STRING|LONG)`. */
export const stringConstructors = {
  0: () => '',
  1: (ctx: HostContext, _self: unknown, args: unknown[]) => {
    const v = args[0];
    if (typeof v === 'string') return v;
    if (typeof v === 'bigint') {
      const s = v.toString();
      ctx.chargeMemory(s.length);
      return s;
    }
    throw argError('new String', 0, 'STRING or LONG', v);
  },
};
