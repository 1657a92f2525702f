import path from 'node:path';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  SelArray, SelError, compile, parseJsonPreservingLongs, toJsonExtension, typeOf,
  type EvalResult, type HostExtensions, type Limits, type Value,
} from '../../src/index.js';

export interface ConformanceCase {
  id: string;
  source: string;
  params: Record<string, unknown>;
  expect?: unknown;
  expectError?: boolean;
  note: string;
  category: string;
  origin: string;
  env?: {
    limits?: { stack?: bigint; loop?: bigint; array?: bigint; length?: bigint; visit?: bigint; memory?: bigint };
    nowMillis?: bigint;
    maestro?: boolean;
    extFunctions?: string[];
    paramExtension?: string;
  };
}

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../..');
export const CASES_PATH = path.resolve(repoRoot, '../shared/sel-conformance/cases.json');

/** Cases read with exact whole numbers (bigint), so LONGs beyond 2^53 compare exactly. */
export function loadCases(): ConformanceCase[] {
  return parseJsonPreservingLongs(readFileSync(CASES_PATH, 'utf8')) as ConformanceCase[];
}

function limitsOf(env: ConformanceCase['env']): Partial<Limits> {
  const l = env?.limits;
  const out: Partial<Limits> = {};
  if (!l) return out;
  if (l.stack !== undefined) out.stack = Number(l.stack);
  if (l.loop !== undefined) out.loopIterations = Number(l.loop);
  if (l.array !== undefined) out.arrayLength = Number(l.array);
  if (l.length !== undefined) out.sourceLength = Number(l.length);
  if (l.visit !== undefined) out.steps = Number(l.visit);
  if (l.memory !== undefined) out.memoryBytes = Number(l.memory);
  return out;
}

/** The host functions the reference's tests register (SelUtilFuncTest, ParamExtensionTest...). */
const UTIL_FUNCTIONS: HostExtensions['utilFunctions'] = {
  toJson: toJsonExtension,
  testExtFunc: (args) => `Hello ${String(args[0])}`,
};

function arity(name: string, args: readonly unknown[], n: number): void {
  if (args.length !== n) throw new SelError('runtime', `${name} expects ${n} arguments, got ${args.length}`);
}

const PARAM_EXTENSIONS: Record<string, HostExtensions['paramMethods']> = {
  TestParamExtension: {
    getFromStep: (args) => (arity('getFromStep', args, 2), 'hello'),
    getFromSignal: (args) => (arity('getFromSignal', args, 2), 'world'),
    getFromForeach: (args) => (arity('getFromForeach', args, 3), new SelArray('LONG', [123n])),
    nextUniqueId: (args) => (arity('nextUniqueId', args, 0), 12345n),
    getFromInstance: (args) => (arity('getFromInstance', args, 1), 'foo'),
  },
  BadParamExtension: {
    getFromForeach: () => 'not an array',
  },
  UncastParamExtension: {
    getFromForeach: () => new Uint16Array([104, 105]),
  },
};

export function runCase(c: ConformanceCase): EvalResult {
  const env = c.env ?? {};
  const extensions: HostExtensions = {
    utilFunctions: env.extFunctions ? Object.fromEntries(env.extFunctions.map((n) => [n, UTIL_FUNCTIONS![n]!])) : undefined,
    paramMethods: env.paramExtension ? PARAM_EXTENSIONS[env.paramExtension] : undefined,
  };
  const limits = limitsOf(env);
  let program;
  try {
    program = compile(c.source, { maestro: env.maestro === true, limits });
  } catch (e) {
    if (e instanceof SelError) return { ok: false, error: e };
    throw e;
  }
  // Params go in as parsed (bigint whole numbers, null-prototype objects); evaluate copies them.
  return program.evaluate(c.params, {
    limits,
    extensions,
    nowMillis: env.nowMillis !== undefined ? Number(env.nowMillis) : undefined,
  });
}

/** Why a result differs from the case's expectation, or undefined when it matches. */
export function mismatch(c: ConformanceCase, r: EvalResult): string | undefined {
  if (c.expectError) return r.ok ? `expected an error, got ${r.type} ${show(r.value)}` : undefined;
  if (!r.ok) return `expected ${show(c.expect)}, got ${r.error.kind} error: ${r.error.message}`;
  const type = /^type=([A-Z_]+)/.exec(c.note)?.[1];
  if (type === 'VOID' && r.value !== undefined) return `expected VOID, got ${r.type}`;
  if (type === 'NULL' && r.value !== null) return `expected NULL, got ${r.type}`;
  if (type && c.expect !== null && !sameType(type, r.value)) return `expected type ${type}, got ${r.type}`;
  return same(c.expect, r.value) ? undefined : `expected ${show(c.expect)}, got ${show(r.value)}`;
}

function sameType(expected: string, v: Value | undefined): boolean {
  const t = typeOf(v);
  return t === expected || (expected === 'MAP' && v === null);
}

function same(expect: unknown, v: Value | undefined): boolean {
  if (expect === null) return v === null || v === undefined;
  if (typeof expect === 'bigint') return typeof v === 'bigint' ? v === expect : typeof v === 'number' && v === Number(expect);
  if (typeof expect === 'number') return typeof v === 'number' && (v === expect || (Number.isNaN(v) && Number.isNaN(expect)));
  if (typeof expect === 'boolean') return v === expect;
  if (typeof expect === 'string') {
    if (typeof v === 'string') return v === expect;
    return typeof v === 'object' && v !== null && !(v instanceof Map) && !(v instanceof SelArray) && String(v) === expect;
  }
  if (Array.isArray(expect)) {
    return v instanceof SelArray && v.items.length === expect.length && expect.every((x, i) => same(x, v.items[i] as Value));
  }
  if (typeof expect === 'object') {
    if (!(v instanceof Map)) return false;
    const keys = Object.keys(expect);
    return keys.length === v.size && keys.every((k) => v.has(k) && same((expect as Record<string, unknown>)[k], v.get(k)));
  }
  return false;
}

export function show(v: unknown): string {
  if (v instanceof SelArray) return `[${v.items.map(show).join(', ')}]`;
  if (v instanceof Map) return `{${[...v].map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
  if (typeof v === 'bigint') return `${v}L`;
  if (typeof v === 'object' && v !== null && !Array.isArray(v)) {
    const proto = Object.getPrototypeOf(v) as unknown;
    if (proto === null || proto === Object.prototype) return `{${Object.entries(v).map(([k, x]) => `${k}: ${show(x)}`).join(', ')}}`;
    return String(v);
  }
  if (Array.isArray(v)) return `[${v.map(show).join(', ')}]`;
  return JSON.stringify(v) ?? String(v);
}
