import type { HostContext } from '../host-context.js';
import { runtimeError } from '../errors.js';
import { javaFormat } from './format.js';
import { javaRegex, groupCountOf } from './java-regex.js';
import { javaToString } from './java-string.js';
import {
  TypedList, argError, argInt, argString, isSelArray, methodTable, selArrayItems, type MethodTable,
} from './types.js';

/** Java's String.split(regex, limit): leading zero-width match skipped, trailing empties dropped when limit == 0. */
export function javaSplit(ctx: HostContext, s: string, regex: string, limit = 0): string[] {
  const re = javaRegex(regex);
  const parts: string[] = [];
  let index = 0;
  re.lastIndex = 0;
  const limited = limit > 0;
  while (!limited || parts.length < limit - 1) {
    const m = re.exec(s);
    if (!m) break;
    const start = m.index;
    const end = start + m[0].length;
    if (end === start) {
      re.lastIndex = end + (codePointWidth(s, end) || 1);
      if (start === 0 || start >= s.length) {
        if (start >= s.length) break;
        continue;
      }
    }
    parts.push(s.slice(index, start));
    ctx.checkArrayLength(parts.length + 1);
    index = end;
    if (re.lastIndex > s.length) break;
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
  return parts;
}

function codePointWidth(s: string, i: number): number {
  const c = s.charCodeAt(i);
  if (Number.isNaN(c)) return 0;
  return c >= 0xd800 && c <= 0xdbff && i + 1 < s.length ? 2 : 1;
}

interface ReplacementPart {
  text?: string;
  group?: number | string;
}

const replacementCache = new Map<string, ReplacementPart[]>();

/** Parses a Java Matcher replacement: `$n` (longest valid group number), `${name}`, `\x` escapes. */
function parseReplacement(rep: string, groups: number, names: ReadonlySet<string>): ReplacementPart[] {
  const key = `${groups}\u0000${[...names].join(',')}\u0000${rep}`;
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
        if (!names.has(name)) throw runtimeError(`replaceAll: no group with name {${name}}`);
        if (text) parts.push({ text });
        text = '';
        parts.push({ group: name });
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
  const re = javaRegex(regex);
  const groups = groupCountOf(re);
  const names = new Set<string>();
  for (const m of re.source.matchAll(/\(\?<([A-Za-z][A-Za-z0-9]*)>/g)) names.add(m[1]!);
  const rep = parseReplacement(replacement, groups, names);
  let out = '';
  let last = 0;
  re.lastIndex = 0;
  while (true) {
    const m = re.exec(s);
    if (!m) break;
    out += s.slice(last, m.index);
    for (const p of rep) {
      if (p.text !== undefined) out += p.text;
      else if (typeof p.group === 'number') out += m[p.group] ?? '';
      else out += m.groups?.[p.group!] ?? '';
    }
    ctx.checkStringLength(out.length);
    last = m.index + m[0].length;
    if (m[0].length === 0) {
      const w = codePointWidth(s, last);
      if (w === 0) break;
      out += s.slice(last, last + w);
      last += w;
      re.lastIndex = last;
    }
    if (firstOnly) break;
  }
  out += s.slice(last);
  ctx.checkStringLength(out.length);
  ctx.chargeMemory(out.length);
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
  return javaFormat(ctx, fmt, rest);
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
  return (items as string[]).join(sep);
}

function escapeCall(self: string | undefined, args: unknown[]): string {
  if (args.length === 0) {
    if (self === undefined) throw runtimeError('String.escape() needs a string to escape');
    return selEscape(self);
  }
  if (args.length === 1 && typeof args[0] === 'string') return selEscape(args[0]);
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
  escape: { 0: (_c, self: string, args) => escapeCall(self, args), 1: (_c, self: string, args) => escapeCall(self, args) },
  split: {
    1: (ctx, self: string, args) => new TypedList('STRING', javaSplit(ctx, self, stringArg('split', args, 0))),
    2: (ctx, self: string, args) => new TypedList('STRING', javaSplit(ctx, self, stringArg('split', args, 0), argInt('split', args, 1))),
  },
  toUpperCase: { 0: (ctx, self: string) => { const r = self.toUpperCase(); ctx.chargeMemory(r.length); return r; } },
  toLowerCase: { 0: (ctx, self: string) => { const r = self.toLowerCase(); ctx.chargeMemory(r.length); return r; } },
  replaceAll: { 2: (ctx, self: string, args) => javaReplaceAll(ctx, self, stringArg('replaceAll', args, 0), stringArg('replaceAll', args, 1)) },
  replace: {
    2: (ctx, self: string, args) => {
      const target = stringArg('replace', args, 0);
      const rep = stringArg('replace', args, 1);
      const count = target === '' ? self.length + 1 : self.split(target).length - 1;
      const len = self.length + count * (rep.length - target.length);
      ctx.checkStringLength(len);
      ctx.chargeMemory(len);
      return self.replaceAll(target, () => rep);
    },
  },
  startsWith: { 1: (_c, self: string, args) => self.startsWith(stringArg('startsWith', args, 0)) },
  endsWith: { 1: (_c, self: string, args) => self.endsWith(stringArg('endsWith', args, 0)) },
  contains: { 1: (_c, self: string, args) => self.includes(stringArg('contains', args, 0)) },
  substring: {
    1: (ctx, self: string, args) => substring(ctx, self, argInt('substring', args, 0), self.length),
    2: (ctx, self: string, args) => substring(ctx, self, argInt('substring', args, 0), argInt('substring', args, 1)),
  },
  lastIndexOf: { 1: (_c, self: string, args) => BigInt(self.lastIndexOf(stringArg('lastIndexOf', args, 0))) },
  length: { 0: (_c, self: string) => BigInt(self.length) },
  isEmpty: { 0: (_c, self: string) => self.length === 0 },
  equals: { 1: (_c, self: string, args) => typeof args[0] === 'string' && args[0] === self },
  compareTo: { 1: (_c, self: string, args) => BigInt(javaCompareTo(self, stringArg('compareTo', args, 0))) },
  trim: { 0: (_c, self: string) => javaTrim(self) },
});

/** `String.x(...)`: the reference's static String object has no value, so only these work on it. */
export const stringStatics: MethodTable = methodTable({
  ...shared,
  escape: { 1: (_c, _self, args) => escapeCall(undefined, args) },
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
