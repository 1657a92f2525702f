import type { ParamDef, ParamDefMap, ParamType, ParamValue } from '../definition/model.js';
import { interpolate, templateRefs } from '../params/interpolate.js';
import { inferParamType, jsonToParamValue } from '../params/typed-value.js';
import { validatorFailure } from '../params/validators.js';
import { SelWallClockError } from '../sel-pool/protocol.js';
import type { ExpressionPort, ParamsHost } from './expressions.js';

export interface TypedValue {
  type: ParamType;
  value: ParamValue;
}
export type EvaluatedParams = Record<string, TypedValue>;

/** A param that could not be evaluated: names the param and says why. */
export class ParamEvaluationError extends Error {
  constructor(
    readonly param: string,
    message: string,
    cause?: unknown,
  ) {
    super(cause instanceof SelWallClockError ? `evaluation of param ${param} exceeded the wall-clock limit of ${cause.limitMs} ms` : `param ${param}: ${message}`, { cause });
    this.name = 'ParamEvaluationError';
  }
}

/** Plain values by name, as SEL sees them. */
export function plainValues(params: EvaluatedParams | undefined): Record<string, ParamValue> {
  const out: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
  if (params) for (const [k, v] of Object.entries(params)) out[k] = v.value;
  return out;
}

/**
 * Storage form: JSON with LONG values (also inside arrays and maps) as decimal strings, so 64-bit
 * values survive drivers that parse jsonb with JSON.parse.
 */
export function encodeParams(params: EvaluatedParams): string {
  return JSON.stringify(params, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v));
}

export function decodeParams(stored: unknown): EvaluatedParams {
  const out: EvaluatedParams = {};
  if (!stored || typeof stored !== 'object') return out;
  for (const [k, tv] of Object.entries(stored as Record<string, { type: ParamType; value: unknown }>)) {
    Object.defineProperty(out, k, { value: { type: tv.type, value: jsonToParamValue(tv.type, tv.value) }, enumerable: true, writable: true, configurable: true });
  }
  return out;
}

/** Coerces a run-time value (SEL result, run param, runtime output) to its declared or inferred type. */
export function toTypedValue(name: string, type: ParamType | undefined, raw: unknown): TypedValue {
  const plain = toPlain(raw);
  if (plain === null || plain === undefined) throw new ParamEvaluationError(name, 'evaluated to null');
  try {
    const t = type ?? inferParamType(plain);
    return { type: t, value: jsonToParamValue(t, plain) };
  } catch (e) {
    throw new ParamEvaluationError(name, (e as Error).message);
  }
}

// SEL arrays and maps arrive as objects with `items` (typed lists) or as Map; params hold plain data.
function toPlain(v: unknown): unknown {
  if (v instanceof Map) {
    const o: Record<string, unknown> = {};
    for (const [k, x] of v) Object.defineProperty(o, String(k), { value: toPlain(x), enumerable: true, writable: true, configurable: true });
    return o;
  }
  if (Array.isArray(v)) return v.map(toPlain);
  if (v && typeof v === 'object' && Array.isArray((v as { items?: unknown }).items)) return (v as { items: unknown[] }).items.map(toPlain);
  return v;
}

export interface ParamEvaluation {
  defs: ParamDefMap;
  /** Values visible by bare name underneath the params being evaluated (later wins over earlier). */
  base: EvaluatedParams;
  /** Values that override definitions (run params for workflow params). */
  overrides?: EvaluatedParams;
  /** `params.*` for the programs; `get` is answered from the params evaluated so far, then `base`. */
  host: Omit<ParamsHost, 'get' | 'containsKey'>;
  /** Resolves `stepId__param` names. */
  crossStep?: (name: string) => ParamValue | undefined;
  /** The step whose params these are: `<selfId>__<param>` reads a param of this map (as Maestro). */
  selfId?: string;
  /** Resolves `signal__param` names that are neither params nor step references (Maestro's signal form). */
  signalRef?: (name: string) => ParamValue | undefined;
  /** False leaves `validator`s unevaluated (the engine's `ignore` mode). */
  validate?: boolean;
  /**
   * Set for the entries of a MAP param: names resolve in the enclosing scope (the map's own
   * level first, as Maestro's ParamEvaluator does), never against sibling entries.
   */
  parent?: ScopeLookup;
}

/** How names resolve in a scope: `lookup` evaluates pending params first, `known` does not. */
interface ScopeLookup {
  lookup(name: string): Promise<ParamValue | undefined>;
  known(name: string): ParamValue | undefined;
  /** Every value known now (for programs that read `params` as a whole). */
  all(): Record<string, ParamValue>;
}

/**
 * Evaluates a map of param definitions: literals as given (strings interpolated), expressions in
 * SEL in dependency order (a param may use another param of the same map, whatever the order they
 * are written in). Overrides replace definitions of the same name. A cycle is an error.
 */
export async function evaluateParams(sel: ExpressionPort, ev: ParamEvaluation): Promise<EvaluatedParams> {
  const out: EvaluatedParams = {};
  const state = new Map<string, 'busy' | 'done'>();
  const defs = ev.defs;

  const owns = (name: string): boolean => Object.hasOwn(defs, name) || (!!ev.overrides && Object.hasOwn(ev.overrides, name));
  /** A value known now, without evaluating pending params. */
  const known = (name: string): ParamValue | undefined => {
    if (ev.parent) return ev.parent.known(name);
    if (owns(name)) return out[name]?.value;
    if (Object.hasOwn(ev.base, name)) return ev.base[name]!.value;
    return ev.crossStep?.(name);
  };
  const all = (): Record<string, ParamValue> => {
    if (ev.parent) return ev.parent.all();
    const vars: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
    for (const [k, tv] of Object.entries(ev.base)) vars[k] = tv.value;
    for (const [k, tv] of Object.entries(out)) vars[k] = tv.value;
    return vars;
  };
  const lookup = async (name: string): Promise<ParamValue | undefined> => {
    if (ev.parent) return ev.parent.lookup(name);
    if (owns(name)) await evalOne(name);
    return known(name);
  };

  const ownRef = async (name: string): Promise<ParamValue | undefined> => {
    const prefix = ev.selfId === undefined ? undefined : `${ev.selfId}__`;
    return prefix && name.startsWith(prefix) && Object.hasOwn(defs, name.slice(prefix.length)) ? await lookup(name.slice(prefix.length)) : undefined;
  };

  const host: ParamsHost = {
    ...ev.host,
    get: (name) => known(name),
    containsKey: (name) => known(name) !== undefined,
  };

  const evalOne = async (name: string): Promise<void> => {
    const st = state.get(name);
    if (st === 'done') return;
    if (st === 'busy') throw new ParamEvaluationError(name, 'depends on itself (a cycle between params)');
    state.set(name, 'busy');
    const override = ev.overrides?.[name];
    const def: ParamDef | undefined = defs[name];
    if (override) {
      out[name] = def?.type && def.type !== override.type ? toTypedValue(name, def.type, override.value) : override;
    } else if (def) {
      out[name] = await evalDef(name, def);
    }
    const value = out[name]?.value;
    if (ev.validate !== false && def?.validator !== undefined && value !== undefined) {
      const why = await validatorFailure(sel, def.validator, value, host, lookup);
      if (why) throw new ParamEvaluationError(name, why);
    }
    state.set(name, 'done');
  };

  /** A string literal with `${...}` / `$name` references replaced by their values. */
  const text = async (template: string): Promise<string> => {
    if (!template.includes('$')) return template;
    // Every reference resolved first (params may wait for a SEL worker), then one sync pass.
    const refs = new Map<string, ParamValue | undefined>();
    for (const ref of templateRefs(template)) {
      if (ref.stepId === undefined || ref.stepId === ev.selfId) refs.set(`${ref.stepId ?? ''}\u0000${ref.name}`, await lookup(ref.name));
    }
    return interpolate(template, (ref) =>
      ref.stepId !== undefined && ref.stepId !== ev.selfId
        ? (ev.host.getFromStep(ref.stepId, ref.name) ?? ev.signalRef?.(`${ref.stepId}__${ref.name}`))
        : refs.get(`${ref.stepId ?? ''}\u0000${ref.name}`),
    );
  };

  const evalDef = async (name: string, def: ParamDef): Promise<TypedValue> => {
    if (def.expression !== undefined) {
      let compiled;
      try {
        compiled = sel.compile(def.expression);
      } catch (e) {
        throw new ParamEvaluationError(name, (e as Error).message);
      }
      const vars: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
      // Dynamic `params` use: offer what is known without forcing pending params (no false cycles).
      if (compiled.readsParams) Object.assign(vars, all());
      for (const n of compiled.names) {
        if (n === name && !ev.parent) {
          // `i: i + 1` reads the value underneath (a workflow param, a loop variable) it replaces.
          if (Object.hasOwn(ev.base, name)) vars[n] = ev.base[name]!.value;
          continue;
        }
        let v: ParamValue | undefined;
        try {
          v = (await lookup(n)) ?? (await ownRef(n)) ?? ev.signalRef?.(n);
        } catch (e) {
          throw new ParamEvaluationError(name, (e as Error).message);
        }
        if (v !== undefined) vars[n] = v;
      }
      let result: unknown;
      try {
        result = await compiled.evaluate(vars, host);
      } catch (e) {
        throw new ParamEvaluationError(name, (e as Error).message, e);
      }
      return toTypedValue(name, def.type, result);
    }
    let value: unknown = def.value;
    try {
      if (typeof value === 'string') value = await text(value);
      else if (def.type === 'STRING_ARRAY' && Array.isArray(value)) value = await Promise.all(value.map((v) => (typeof v === 'string' ? text(v) : v)));
      else if (def.type === 'STRING_MAP' && value && typeof value === 'object' && !Array.isArray(value)) {
        // As Maestro's LiteralEvaluator: keys and values of a STRING_MAP are interpolated.
        const m: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(value)) Object.defineProperty(m, await text(k), { value: typeof v === 'string' ? await text(v) : v, enumerable: true, writable: true, configurable: true });
        value = m;
      }
    } catch (e) {
      throw new ParamEvaluationError(name, (e as Error).message, e);
    }
    if (def.type === 'MAP' && value && typeof value === 'object' && !Array.isArray(value)) {
      // A MAP literal holds nested param definitions; their names resolve in this map's scope.
      let nested: EvaluatedParams;
      try {
        nested = await evaluateParams(sel, { ...ev, defs: value as ParamDefMap, overrides: undefined, parent: { lookup, known, all } });
      } catch (e) {
        throw new ParamEvaluationError(name, (e as Error).message, e);
      }
      const m: Record<string, ParamValue> = {};
      for (const [k, tv] of Object.entries(nested)) Object.defineProperty(m, k, { value: tv.value, enumerable: true, writable: true, configurable: true });
      return { type: 'MAP', value: m };
    }
    return toTypedValue(name, def.type, value);
  };

  for (const name of Object.keys(defs)) await evalOne(name);
  if (ev.overrides) for (const name of Object.keys(ev.overrides)) await evalOne(name);
  return out;
}
