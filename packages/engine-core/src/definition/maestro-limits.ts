import { fieldPath, type Issues } from './issues.js';
import type { ParamType, Step, WorkflowRequest } from './model.js';

/**
 * What Maestro refuses when a workflow is pushed, beyond the shape of the JSON (its model
 * constraints: `SignalTriggerConstraint`, `SignalDependenciesDefinitionConstraint`,
 * `SignalMatchParamDef`, `MaestroIdConstraint`, `MaestroReferenceIdConstraint`,
 * `MaestroNameSizeConstraint`, `TimeTriggerConstraint`, with the limits of its `Constants`).
 * Baton refuses the same definitions, each with a message naming the field and the limit.
 */

/** Most signals one signal trigger may join (Maestro's MAX_SIGNAL_NAMES_IN_A_TRIGGER). */
export const MAX_SIGNALS_IN_A_TRIGGER = 8;
/** Longest workflow or step name (Maestro's NAME_LENGTH_LIMIT). */
export const MAX_NAME_LENGTH = 256;
/** Ids starting with this (in any case) are Maestro's own (MAESTRO_PREFIX). */
export const RESERVED_ID_PREFIX = 'maestro_';
/** Workflow ids ending with this (in any case) are Maestro's own (MAESTRO_SUFFIX). */
export const RESERVED_ID_SUFFIX = '_maestro';
/** The types a signal match param may have: Maestro indexes signal params as LONG or STRING. */
const MATCH_PARAM_TYPES: readonly ParamType[] = ['LONG', 'STRING'];
/** Range operators: a dependency may bound at most one param with them. */
const RANGE_OPERATORS = new Set(['<', '<=', '>', '>=']);

export function maestroLimitIssues(r: WorkflowRequest, issues: Issues): void {
  const w = r.workflow;
  const wp = 'workflow';
  if (w.id !== '') {
    const lower = w.id.toLowerCase();
    if (lower.startsWith(RESERVED_ID_PREFIX)) issues.add(fieldPath(wp, 'id'), `workflow id "${w.id}" must not start with "${RESERVED_ID_PREFIX}" (reserved by Maestro)`);
    else if (lower.endsWith(RESERVED_ID_SUFFIX)) issues.add(fieldPath(wp, 'id'), `workflow id "${w.id}" must not end with "${RESERVED_ID_SUFFIX}" (reserved by Maestro)`);
  }
  nameLength(w.name, fieldPath(wp, 'name'), 'workflow name', issues);

  w.timeTriggers.forEach((t, i) => {
    if (t.type !== 'INTERVAL') return;
    issues.add(
      fieldPath(fieldPath(fieldPath(wp, 'time_triggers'), i), 'type'),
      `INTERVAL time triggers cannot fire: Maestro refuses them at push too (it computes fire times for CRON and PREDEFINED only); write the interval "${t.interval}" as a CRON trigger`,
    );
  });

  w.signalTriggers.forEach((t, i) => {
    const p = fieldPath(fieldPath(wp, 'signal_triggers'), i);
    const names = Object.keys(t.definitions);
    if (names.length > MAX_SIGNALS_IN_A_TRIGGER) {
      issues.add(fieldPath(p, 'definitions'), `names ${names.length} signals; a signal trigger may join at most ${MAX_SIGNALS_IN_A_TRIGGER} (Maestro's limit)`);
    }
    for (const [name, d] of Object.entries(t.definitions)) {
      const dp = fieldPath(fieldPath(p, 'definitions'), name);
      d.joinKeys.forEach((key, k) => {
        if (Object.hasOwn(d.matchParams, key)) {
          issues.add(fieldPath(fieldPath(dp, 'join_keys'), k), `join key "${key}" is also a match param of signal ${name}; a param is either joined on or matched, not both (Maestro)`);
        }
      });
      for (const [key, m] of Object.entries(d.matchParams)) {
        const v = m.value;
        const ok = typeof v === 'string' || typeof v === 'bigint' || (typeof v === 'number' && Number.isInteger(v));
        if (!ok) issues.add(fieldPath(fieldPath(fieldPath(dp, 'match_params'), key), 'value'), `must be a string or a whole number (signal params are LONG or STRING), got ${describe(v)}`);
      }
    }
  });

  stepsIssues(w.steps, fieldPath(wp, 'steps'), issues);
}

function stepsIssues(steps: readonly Step[], path: string, issues: Issues): void {
  steps.forEach((s, i) => {
    const p = fieldPath(path, i);
    stepIssues(s, p, issues);
    if (s.kind === 'foreach' || s.kind === 'while') stepsIssues(s.steps, fieldPath(p, 'steps'), issues);
  });
}

function stepIssues(s: Step, path: string, issues: Issues): void {
  if (s.id.toLowerCase().startsWith(RESERVED_ID_PREFIX)) issues.add(fieldPath(path, 'id'), `step id "${s.id}" must not start with "${RESERVED_ID_PREFIX}" (reserved by Maestro)`);
  nameLength(s.name, fieldPath(path, 'name'), 'step name', issues);
  s.signalDependencies.forEach((d, i) => {
    const dp = fieldPath(fieldPath(path, 'signal_dependencies'), i);
    let range: string | undefined;
    for (const [key, m] of Object.entries(d.matchParams)) {
      const mp = fieldPath(fieldPath(dp, 'match_params'), key);
      if (m.param.type !== undefined && !MATCH_PARAM_TYPES.includes(m.param.type)) {
        issues.add(fieldPath(fieldPath(mp, 'param'), 'type'), `a signal match param must be LONG or STRING (signal params are indexed as one or the other), got ${m.param.type}`);
      }
      if (!RANGE_OPERATORS.has(m.operator.trim())) continue;
      if (range !== undefined) {
        issues.add(fieldPath(mp, 'operator'), `signal dependency on ${d.name} has more than one range param: ${range} and ${key}; Maestro allows one range (<, <=, >, >=) per dependency`);
      } else range = key;
    }
  });
}

function nameLength(name: string | undefined, path: string, what: string, issues: Issues): void {
  if (name !== undefined && name.length > MAX_NAME_LENGTH) issues.add(path, `${what} is ${name.length} characters long; the limit is ${MAX_NAME_LENGTH} (Maestro's)`);
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'an array';
  if (typeof v === 'object') return 'an object';
  if (typeof v === 'number') return `the number ${v}`;
  return `${typeof v} ${String(v)}`;
}
