import { isObject } from './from-json.js';
import type { JsonObject, JsonValue } from './model.js';
import { defineEntry } from '../params/typed-value.js';
import type { DslErr } from './yaml-dsl-params.js';
import type { DslWhere } from './yaml-dsl-where.js';

/**
 * Transitions and `dag:` of Maestro's YAML DSL (its `TransitionParser` and `WorkflowParser`):
 * - a transition is a list of lines: `job.2` (always), `IF <SEL> THEN job.4` and, last,
 *   `OTHERWISE job.6`, taken when none of the IFs before it holds: `!((c1) || (c2))`. Keywords
 *   are case-insensitive; empty lines are skipped. Baton also takes one line as a plain string,
 *   Maestro's JSON `{successors: {...}}`, and joins several IFs naming one job with `||`
 *   (Maestro keeps the last).
 * - `dag:` is `sequential` (each job without a transition goes on to the next in the list),
 *   `parallel` (nothing added) or a map job id → transition lines (a line or a list), given to
 *   the jobs that have no transition of their own.
 */

const JOB_ID = String.raw`([_a-zA-Z][.\-_a-zA-Z0-9]*)`;
const SIMPLE = new RegExp(String.raw`^\s*${JOB_ID}\s*$`);
const CONDITIONAL = new RegExp(String.raw`^\s*IF\s+(.+?)\s+THEN\s+${JOB_ID}\s*$`, 'is');
const OTHERWISE = new RegExp(String.raw`^\s*OTHERWISE\s+${JOB_ID}\s*$`, 'i');

/** Transition lines as given (a list, or one line), or undefined when there are none. */
export function transitionLines(v: JsonValue | undefined, where: DslWhere, err: DslErr): string[] | undefined {
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v.trim() === '' ? undefined : [v];
  if (!Array.isArray(v)) {
    err(where, 'must be a list of job ids, "IF <condition> THEN <job>" or "OTHERWISE <job>"');
    return undefined;
  }
  const lines: string[] = [];
  v.forEach((line, i) => {
    if (line === null) return;
    if (typeof line !== 'string') err(where.index(i), `must be a string, got ${Array.isArray(line) ? 'a list' : typeof line === 'object' ? 'a map' : String(line)}`);
    else lines.push(line);
  });
  return lines.some((l) => l.trim() !== '') ? lines : undefined;
}

/** Transition lines → Maestro's `{successors: {job: condition}}`. */
export function parseTransition(lines: readonly string[], where: DslWhere, err: DslErr): JsonObject {
  const conds = new Map<string, string[]>();
  const ifs: string[] = [];
  const add = (target: string, cond: string) => conds.set(target, [...(conds.get(target) ?? []), cond]);
  lines.forEach((line, i) => {
    const at = where.index(i);
    if (line.trim() === '') return;
    const simple = SIMPLE.exec(line);
    const cond = CONDITIONAL.exec(line);
    const otherwise = OTHERWISE.exec(line);
    if (otherwise) {
      if (lines.slice(i + 1).some((l) => l.trim() !== '')) err(at, `"${line.trim()}" must be the last line of the transition`);
      add(otherwise[1] as string, ifs.length === 0 ? 'true' : `!((${ifs.join(') || (')}))`);
    } else if (simple) add(simple[1] as string, 'true');
    else if (cond) {
      ifs.push(cond[1] as string);
      add(cond[2] as string, cond[1] as string);
    } else err(at, `cannot read "${line}": expected a job id, "IF <condition> THEN <job>" or "OTHERWISE <job>"`);
  });
  const successors: JsonObject = {};
  for (const [target, cs] of conds) defineEntry(successors, target, cs.length === 1 ? (cs[0] as string) : cs.map((c) => `(${c})`).join(' || '));
  return { successors };
}

/** A job's transition as written (lines, or Maestro's JSON object), or undefined. */
export type JobTransition = { lines: string[] } | { json: JsonObject };

/**
 * The transitions `dag:` gives the jobs of one list, by position. `ids` are the job ids in list
 * order; `own` says which jobs already have a transition (those keep it).
 */
export function dagTransitions(dag: JsonValue | undefined, ids: readonly (string | undefined)[], own: readonly boolean[], where: DslWhere, err: DslErr): Map<number, string[]> {
  const out = new Map<number, string[]>();
  if (dag === undefined || dag === null) return out;
  if (typeof dag === 'string') {
    const order = dag.trim().toUpperCase();
    if (order === 'SEQUENTIAL') {
      for (let i = 0; i + 1 < ids.length; i++) {
        const next = ids[i + 1];
        if (!own[i] && next !== undefined) out.set(i, [next]);
      }
    } else if (order !== 'PARALLEL') err(where, `must be "sequential", "parallel" or a map of job id → transition, got "${dag}"`);
    return out;
  }
  if (!isObject(dag)) {
    err(where, 'must be "sequential", "parallel" or a map of job id → transition');
    return out;
  }
  for (const [id, v] of Object.entries(dag)) {
    const i = ids.indexOf(id);
    if (i < 0) {
      err(where.key(id), `names job ${id}, which is not a job of this list (jobs: ${ids.filter((x) => x !== undefined).join(', ')})`);
      continue;
    }
    const lines = transitionLines(v, where.key(id), err);
    if (lines && !own[i]) out.set(i, lines);
  }
  return out;
}
