/**
 * SEL fuzzing at scale: a grammar-based generator of SEL programs (loops, string ops, maps,
 * arrays, dates, method calls on the wrong types, catastrophic-backtracking regexes over long
 * inputs) plus mutations of the conformance suite's security probes and the hostile catalogue, each evaluated under tight limits. A run fails on any JavaScript exception
 * escaping `evaluate`, a result slower than the wall bound, a global changed, or memory growing
 * without bound.
 *
 *   npm run test:fuzz-long                      (1,000,000 programs, progress lines, JSON summary)
 *   npx tsx test/hostile/sel-fuzz.ts [count] [seed]
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { SelArray, SelError, evaluate, type Limits } from '@baton/sel';
import { mulberry32 as rng } from '../support/rng.js';
import { HOSTILE_SEL } from './sel-catalogue.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** The brief's tight limits: small enough that every program ends in well under the wall bound. */
export const FUZZ_LIMITS: Partial<Limits> = { steps: 100_000, memoryBytes: 1_000_000, loopIterations: 1000, arrayLength: 1000, stringLength: 100_000 };
export const WALL_BOUND_MS = 250;
/** Heap growth allowed over a whole run (compile cache, V8 code caches and JIT state included). */
export const HEAP_GROWTH_BOUND_BYTES = 256 * 1024 * 1024;


const VARS = ['x', 'y', 'i', 's', 'm', 'a', 'd', 'params', 'constructor', '__proto__', 'prototype', 'toString', 'globalThis', 'process'];
const STRINGS = ["''", "'abc'", "'a,b,c'", "'20190101'", "'../etc/passwd'", "'%2e%2e/'", "'\\u0000'", "'__proto__'", "'constructor'", "'yyyy-MM-dd'", "'UTC'", "'Europe/Nowhere'", "'\\\\'", "'💥'"];
const NUMBERS = ['0', '1', '-1', '7', '1000', '9223372036854775807', '-9223372036854775808', '9223372036854775808', '1.5', '-0.0', '1e308', '0.1', '2147483647'];
const METHODS = [
  'length()', 'size()', 'isEmpty()', 'toUpperCase()', 'toLowerCase()', 'trim()', 'substring(1)', 'substring(2, 1)', 'charAt(99)', 'indexOf(\'a\')',
  "split(',')", "split('')", "replace('a', 'bb')", "replaceAll('.*', '$0$0')", "matches('(a+)+$')", "contains('b')", "startsWith('a')", 'concat(s)',
  "get('k')", "put('k', x)", "containsKey('k')", 'keySet()', 'values()', 'remove(0)', "getOrDefault('z', 1)", 'toString()', 'hashCode()', 'equals(x)',
  'getMillis()', 'plusDays(1)', 'minusHours(99999)', 'dayOfWeek()', "toString('yyyy')", 'getYear()', 'withZone(DateTimeZone.UTC)', 'constructor', '__proto__',
  'getClass()', 'valueOf()', 'compareTo(1)', 'repeat(3)',
];
const CALLS = [
  "Util.incrementDateInt('20190101', E)", 'Util.intsBetween(0, E, 1)', "Util.dateIntsBetween(20200226, E, 1)", "Util.dateIntToTs(E)", 'Util.dateIntHourToTs(20190101, 1, E, 1, 1)',
  'Math.max(E, E)', 'Math.min(E, E)', 'Math.pow(E, E)', 'Math.abs(E)', 'Math.floor(E)', 'String.valueOf(E)', "String.join(E, 'a', 'b')", 'Long.parseLong(E)', 'Integer.valueOf(E)',
  'Arrays.asList(E)', "new DateTime(E, DateTimeZone.UTC)", "new DateTime(E, DateTimeZone.forID('America/Los_Angeles'))", 'DateTimeZone.forID(E)',
  "DateTimeFormat.forPattern(E).withZone(DateTimeZone.UTC).parseMillis('2019')", 'new Map()', 'new HashMap()', 'new int[]{E, E}', 'new String[]{E}', 'new long[E]',
  'params.get(E)', "params.getFromSignal('s', E)", 'new FileReader(E)', "Runtime.getRuntime().exec(E)", 'System.exit(0)', 'Class.forName(E)',
];
/** Regex pieces whose combinations backtrack catastrophically in a backtracking engine. */
const REGEX_ATOMS = ['a', 'aa', '.', '\\w', '\\d', '[ab]', '[^b]', '\\s', 'b', '=', '!'];
const REGEX_QUANTIFIERS = ['*', '+', '?', '*', '+', '{20}', '{2,}', '{0,100}', '{1000}', '*?', '+?'];
/** Constructs that need backtracking: refused with a named error. */
const REGEX_REFUSED = ['\\1', '(?=a)', '(?!a)', '(?<=a)', '(?<!a)', 'a++', '(?>a)', '\\k<n>', 'a{2}+'];
/** Long inputs: runs of one character, optionally with a different last one. */
const REGEX_INPUTS = ["'a'", "'ab'", "'a!'", "'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa!'", "'x=y'"];

const BINOPS = ['+', '-', '*', '/', '%', '==', '!=', '<', '<=', '>', '>=', '&&', '||', '+', '+'];
const TYPES = ['int', 'long', 'String', 'boolean', 'double', 'Map', 'int[]', 'String[]', 'DateTime'];

/** Random SEL programs from the grammar: declarations, assignments, loops, branches, returns, throws. */
export class Generator {
  constructor(private readonly r: () => number) {}

  private pick<T>(xs: readonly T[]): T {
    return xs[Math.floor(this.r() * xs.length)]!;
  }

  expr(depth: number): string {
    const k = depth <= 0 ? Math.floor(this.r() * 3) : Math.floor(this.r() * 10);
    switch (k) {
      case 0:
        return this.pick(NUMBERS);
      case 1:
        return this.pick(STRINGS);
      case 2:
        return this.pick([...VARS, 'true', 'false', 'null']);
      case 3:
      case 4:
        return `(${this.expr(depth - 1)} ${this.pick(BINOPS)} ${this.expr(depth - 1)})`;
      case 5:
        return `${this.pick(['!', '-', '!', '+'])}(${this.expr(depth - 1)})`;
      case 6:
        return `(${this.expr(depth - 1)}).${this.pick(METHODS)}`;
      case 7:
        return this.pick(CALLS).replace(/E/g, () => this.expr(depth - 2));
      case 8:
        return `${this.expr(depth - 1)}[${this.expr(depth - 2)}]`;
      default:
        return `(${this.expr(depth - 1)} ? ${this.expr(depth - 1)} : ${this.expr(depth - 1)})`;
    }
  }

  /** A Java regex from the catastrophic families: nested and overlapping quantifiers, alternations, stacked wildcards, counted repetition of wildcards. */
  regex(depth: number): string {
    const k = depth <= 0 ? 0 : Math.floor(this.r() * 8);
    switch (k) {
      case 0:
        return this.pick(REGEX_ATOMS);
      case 1:
        return `(${this.regex(depth - 1)})${this.pick(REGEX_QUANTIFIERS)}`;
      case 2:
        return `(${this.regex(depth - 1)}|${this.regex(depth - 1)})${this.pick(REGEX_QUANTIFIERS)}`;
      case 3:
        return `${this.regex(depth - 1)}${this.pick(REGEX_QUANTIFIERS)}${this.regex(depth - 1)}${this.pick(REGEX_QUANTIFIERS)}`;
      case 4:
        return `${'.*'.repeat(1 + Math.floor(this.r() * 5))}${this.pick(['=', 'b', '$', ''])}`;
      case 5:
        return `(.*${this.pick(REGEX_ATOMS)}){${1 + Math.floor(this.r() * 30)}}${this.pick(['b', '$', '!'])}`;
      case 6:
        return `${this.regex(depth - 1)}${this.pick(['$', '^', '\\b', '\\z', ''])}`;
      default:
        return this.r() < 0.5 ? this.pick(REGEX_REFUSED) : `((${this.regex(depth - 1)})+)+${this.pick(['$', 'b', ''])}`;
    }
  }

  /** A regex call over a long input (doubled up to 2^16 characters), in a program of its own. */
  regexProgram(): string {
    const pattern = this.regex(3).replace(/\\/g, '\\\\');
    const build = `String s = ${this.pick(REGEX_INPUTS)}; for (int i = 0; i < ${this.pick(['4', '10', '14', '16'])}; i = i + 1) { s = s + s; } s = s + ${this.pick(["'!'", "'b'", "''", "'='"])};`;
    const call = this.pick([
      `s.replaceAll('${pattern}', 'x').length()`,
      `s.replaceAll('${pattern}', '$0$0').length()`,
      `s.split('${pattern}').length`,
      `s.split('${pattern}', ${this.pick(['-1', '2', '0'])}).length`,
    ]);
    // A pattern passed in a variable is checked when the call runs, not when the program is compiled.
    return this.r() < 0.3 ? `${build} String p = '${pattern}'; return ${call.replace(`'${pattern}'`, 'p')};` : `${build} return ${call};`;
  }

  stmt(depth: number): string {
    const k = depth <= 0 ? Math.floor(this.r() * 3) : Math.floor(this.r() * 12);
    const v = this.pick(VARS);
    switch (k) {
      case 0:
        return `${v} = ${this.expr(2)};`;
      case 1:
        return `${this.pick(TYPES)} ${v} = ${this.expr(2)};`;
      case 2:
        return `${v} ${this.pick(['+=', '-=', '*=', '/=', '='])} ${this.expr(1)};`;
      case 3:
        return `for (i = 0; i < ${this.pick(['10', '1000', '100000', 'x', 's.length()'])}; i += 1) { ${this.stmt(depth - 1)} }`;
      case 4:
        return `while (${this.expr(1)}) { ${this.stmt(depth - 1)} ${this.r() < 0.5 ? 'break;' : ''} }`;
      case 5:
        return `if (${this.expr(2)}) { ${this.stmt(depth - 1)} } else { ${this.stmt(depth - 1)} }`;
      case 6:
        return `return ${this.expr(3)};`;
      case 7:
        return this.r() < 0.5 ? `throw ${this.expr(1)};` : `${this.expr(3)};`;
      case 8:
        // Growth: string doubling, map and array filling.
        return this.pick([
          `s = 'ab'; while (true) { s = s + s; }`,
          `m = new HashMap(); for (i = 0; i < 1000; i += 1) m.put(String.valueOf(i), s);`,
          `a = new long[${this.pick(['10', '999', '1001', '-1', '100000000'])}];`,
          `s = ''; for (i = 0; i < 1000; i += 1) s = s.concat(String.valueOf(i)).concat(s);`,
          `while (true) {}`,
          `for (;;) { x = x + 1; }`,
        ]);
      case 9:
        return `{ ${this.stmt(depth - 1)} ${this.stmt(depth - 1)} }`;
      case 10:
        // Java's for-each is not SEL: a syntax error now and then, an index loop otherwise.
        return this.r() < 0.1 ? `for (${this.pick(TYPES)} e : ${this.expr(1)}) { ${this.stmt(depth - 1)} }` : `for (i = 0; i < ${this.expr(1)}.length; i += 1) { ${this.stmt(depth - 1)} }`;
      default:
        return `(${this.expr(2)}).${this.pick(METHODS)};`;
    }
  }

  program(): string {
    if (this.r() < 0.1) return this.regexProgram();
    const n = 1 + Math.floor(this.r() * 4);
    const parts: string[] = [];
    for (let i = 0; i < n; i++) parts.push(this.stmt(2));
    return parts.join(' ');
  }
}

const MUTATIONS: ((src: string, r: () => number) => string)[] = [
  (s, r) => s.slice(0, Math.floor(r() * s.length)),
  (s, r) => {
    const at = Math.floor(r() * s.length);
    return s.slice(0, at) + s.slice(at + 1);
  },
  (s, r) => {
    const at = Math.floor(r() * s.length);
    return s.slice(0, at) + '()[]{};.\'"\\ \n\u0000\u2028+-*/'.charAt(Math.floor(r() * 22)) + s.slice(at);
  },
  (s) => `${s} ${s}`,
  (s) => `while (true) { ${s} }`,
  (s) => `x = ${s.replace(/;\s*$/, '')}; return x.constructor;`,
  (s) => s.replace(/'[^']*'/, "'__proto__'"),
  (s) => s.replace(/\d+/, '9223372036854775808'),
];

/** The conformance suite's security probes (and a few more hostile ones), as seeds for mutation. */
export function loadProbeSeeds(): string[] {
  const file = path.resolve(repoRoot, '../shared/sel-conformance/cases.json');
  const cases = JSON.parse(readFileSync(file, 'utf8')) as Array<{ source: string; category: string }>;
  const seeds = cases.filter((c) => c.category === 'security-probe' || c.category === 'security' || c.category === 'limits').map((c) => c.source);
  if (seeds.length === 0) throw new Error(`no security probes found in ${file}`);
  return [...seeds, ...HOSTILE_SEL.map((h) => h.source)];
}

export function mutate(seed: string, r: () => number): string {
  let s = seed;
  const n = 1 + Math.floor(r() * 3);
  for (let i = 0; i < n; i++) s = MUTATIONS[Math.floor(r() * MUTATIONS.length)]!(s, r);
  return s;
}

export interface FuzzSummary {
  programs: number;
  seed: number;
  /** Results by outcome: `ok` or the SelError kind. */
  outcomes: Record<string, number>;
  maxMs: number;
  slowest: string;
  escapes: number;
  failures: string[];
  heapGrowthBytes: number;
  globalsChanged: string[];
  durationMs: number;
}

/** Own property names of the objects a sandbox escape would most likely touch. */
function globalsSnapshot(): Map<string, unknown[]> {
  const snap = new Map<string, unknown[]>();
  const roots: [string, object][] = [
    ['globalThis', globalThis],
    ['Object.prototype', Object.prototype],
    ['Array.prototype', Array.prototype],
    ['String.prototype', String.prototype],
    ['Function.prototype', Function.prototype],
    ['Map.prototype', Map.prototype],
    ['BigInt.prototype', BigInt.prototype],
  ];
  for (const [name, obj] of roots) {
    for (const key of Reflect.ownKeys(obj)) {
      const d = Object.getOwnPropertyDescriptor(obj, key)!;
      // Values of globalThis change legitimately (timers, test runner state); its keys and the prototypes' members must not.
      snap.set(`${name}.${String(key)}`, name === 'globalThis' ? [] : [d.value, d.get, d.set, d.writable]);
    }
  }
  return snap;
}

function diff(before: Map<string, unknown[]>, after: Map<string, unknown[]>): string[] {
  const out: string[] = [];
  for (const [k, v] of after) {
    const was = before.get(k);
    if (!was) out.push(`added ${k}`);
    else if (v.some((x, i) => !Object.is(x, was[i]))) out.push(`changed ${k}`);
  }
  for (const k of before.keys()) if (!after.has(k)) out.push(`removed ${k}`);
  return out;
}

export interface FuzzOptions {
  count: number;
  seed?: number;
  /** Called every `progressEvery` programs. */
  onProgress?: (done: number, summary: FuzzSummary) => void;
  progressEvery?: number;
}

/** Generates and evaluates `count` programs; never throws, reports everything in the summary. */
export function runFuzz(opts: FuzzOptions): FuzzSummary {
  const seed = opts.seed ?? 20261121;
  const r = rng(seed);
  const gen = new Generator(r);
  const seeds = loadProbeSeeds();
  const vars = { x: 3n, y: 'why', i: 0n, s: 'a,b', d: 20190101n, m: new Map([['k', 'v']]), a: new SelArray('LONG', [1n, 2n, 3n]) };
  const summary: FuzzSummary = { programs: 0, seed, outcomes: {}, maxMs: 0, slowest: '', escapes: 0, failures: [], heapGrowthBytes: 0, globalsChanged: [], durationMs: 0 };
  const before = globalsSnapshot();
  globalThis.gc?.();
  const heap0 = process.memoryUsage().heapUsed;
  const t0 = performance.now();
  for (let i = 0; i < opts.count; i++) {
    const source = r() < 0.7 ? gen.program() : mutate(seeds[Math.floor(r() * seeds.length)]!, r);
    const start = performance.now();
    let outcome: string;
    try {
      const res = evaluate(source, vars, { limits: FUZZ_LIMITS, nowMillis: 1_700_000_000_000, random: () => 0.5 });
      if (res.ok) outcome = 'ok';
      else if (res.error instanceof SelError) outcome = res.error.kind;
      else {
        outcome = 'escape';
        summary.failures.push(`non-SelError result for ${JSON.stringify(source)}: ${String(res.error)}`);
      }
    } catch (err) {
      outcome = 'escape';
      summary.failures.push(`exception escaped for ${JSON.stringify(source)}: ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`);
    }
    let ms = performance.now() - start;
    // A program over the bound is timed twice more and judged by its fastest run: on a loaded
    // machine one run can lose the CPU for longer than the bound; a slow program is slow every time.
    for (let retry = 0; retry < 2 && ms > WALL_BOUND_MS && outcome !== 'escape'; retry++) {
      const again = performance.now();
      evaluate(source, vars, { limits: FUZZ_LIMITS, nowMillis: 1_700_000_000_000, random: () => 0.5 });
      ms = Math.min(ms, performance.now() - again);
    }
    if (outcome === 'escape') summary.escapes++;
    if (ms > summary.maxMs) {
      summary.maxMs = ms;
      summary.slowest = source;
    }
    if (ms > WALL_BOUND_MS) summary.failures.push(`took ${ms.toFixed(0)} ms (bound ${WALL_BOUND_MS} ms): ${JSON.stringify(source)}`);
    summary.outcomes[outcome] = (summary.outcomes[outcome] ?? 0) + 1;
    summary.programs++;
    if (summary.failures.length > 50) break;
    if (opts.onProgress && (i + 1) % (opts.progressEvery ?? 50_000) === 0) opts.onProgress(i + 1, summary);
  }
  summary.durationMs = Math.round(performance.now() - t0);
  summary.maxMs = Math.round(summary.maxMs * 10) / 10;
  globalThis.gc?.();
  summary.heapGrowthBytes = process.memoryUsage().heapUsed - heap0;
  summary.globalsChanged = diff(before, globalsSnapshot());
  if (summary.heapGrowthBytes > HEAP_GROWTH_BOUND_BYTES) summary.failures.push(`heap grew by ${summary.heapGrowthBytes} bytes (bound ${HEAP_GROWTH_BOUND_BYTES})`);
  for (const g of summary.globalsChanged) summary.failures.push(`global ${g}`);
  return summary;
}

function main(): void {
  const count = Number(process.argv[2] ?? 1_000_000);
  const seed = Number(process.argv[3] ?? Date.now() % 2 ** 31);
  if (!Number.isInteger(count) || count < 1) throw new Error(`count must be a positive integer, got ${process.argv[2]}`);
  const summary = runFuzz({
    count,
    seed,
    progressEvery: Math.max(1000, Math.floor(count / 100)),
    onProgress: (done, s) => {
      const heap = Math.round(process.memoryUsage().heapUsed / 1e6);
      console.error(`[sel-fuzz] ${done}/${count} programs, escapes ${s.escapes}, max ${s.maxMs.toFixed(1)} ms, heap ${heap} MB, failures ${s.failures.length}`);
    },
  });
  console.log(JSON.stringify({ ...summary, slowest: summary.slowest.slice(0, 300) }, null, 2));
  if (summary.failures.length > 0 || summary.escapes > 0) process.exit(1);
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
