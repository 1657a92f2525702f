import { compile } from '@baton/sel';
import { IANAZone } from 'luxon';
import { hasTemplate, secondsOf } from './duration.js';
import { fieldPath, Issues, type DefinitionIssue } from './issues.js';
import { maestroLimitIssues } from './maestro-limits.js';
import type { IntSpec, ParamDef, ParamDefMap, Properties, RetryPolicy, Step, Workflow, WorkflowRequest } from './model.js';
import { RESERVED_PARAM_NAMES } from '../params/defaults.js';
import { annotationValidatorProblem, isAnnotationValidator } from '../params/validators.js';

/** One diagnostic from the SEL compiler, positions relative to the expression source. */
export interface SelDiagnostic {
  kind?: string;
  message: string;
  line?: number;
  column?: number;
}

/**
 * The part of `@baton/sel` validation needs. `compile` may either return `{errors}` or throw an
 * error carrying `kind`, `line` and `column` (SelError); both are reported the same way.
 */
export interface SelCompiler {
  compile(source: string): unknown;
}

export interface ValidateOptions {
  /** Most steps a workflow may have, counting steps inside foreach/while. Default 300. */
  maxSteps?: number;
  /** Checks SEL syntax and types. Default: `@baton/sel` as the engine evaluates; false skips SEL. */
  sel?: SelCompiler | false;
  /**
   * The step types the process that will run the definition has a runtime for. When given, a
   * step of any other type is refused (naming the step and the type), so what cannot run is not
   * stored; without it (parsing a file, the compatibility suite) any type is accepted.
   */
  stepTypes?: { has(type: string): boolean; names(): string[] };
}

/** Maestro's leaf step types that need an outside platform (known, but run only with a registered runtime). */
export const MAESTRO_STEP_TYPES = ['NoOp', 'Sleep', 'Titus', 'Notebook', 'Kubernetes', 'Join', 'Template'];

/** `@baton/sel` compiling the way the engine evaluates params and conditions (final `;` optional). */
export const selCompiler: SelCompiler = { compile: (source) => compile(source, { maestro: true }) };

export const DEFAULT_MAX_STEPS = 300;
export const MAX_ID_LENGTH = 128;
export const MAX_RETRY_LIMIT = 99;
export const MAX_BACKOFF_SECONDS = 86_400;
const ID_SYNTAX = /^[A-Za-z0-9_][A-Za-z0-9_.-]*$/;
const PARAM_NAME_SYNTAX = /^[A-Za-z_][A-Za-z0-9_]*$/;
const PREDEFINED = ['@yearly', '@annually', '@monthly', '@weekly', '@daily', '@midnight', '@hourly'];
const OPERATORS = ['=', '==', '!=', '<', '<=', '>', '>='];
const SUBWORKFLOW_VERSIONS = /^(latest|active|default|[1-9]\d{0,17})$/i;

/**
 * Semantic checks of a parsed definition. Returns every problem found (empty when valid), each
 * naming the field at fault; SEL problems also carry the line and column inside the expression.
 */
export function validateWorkflow(input: Workflow | WorkflowRequest, opts: ValidateOptions = {}): DefinitionIssue[] {
  const issues = new Issues();
  const request: WorkflowRequest = 'workflow' in input ? input : { workflow: input };
  new Validator(issues, opts).request(request);
  maestroLimitIssues(request, issues);
  return issues.list;
}

export function collectSelDiagnostics(sel: SelCompiler, source: string): SelDiagnostic[] {
  try {
    const result = sel.compile(source);
    if (typeof result === 'object' && result !== null && 'errors' in result && Array.isArray(result.errors)) {
      return result.errors as SelDiagnostic[];
    }
    return [];
  } catch (e) {
    const err = e as { kind?: unknown; message?: unknown; line?: unknown; column?: unknown };
    const diag: SelDiagnostic = { message: typeof err.message === 'string' ? err.message : String(e) };
    if (typeof err.kind === 'string') diag.kind = err.kind;
    if (typeof err.line === 'number' && err.line > 0) diag.line = err.line;
    if (typeof err.column === 'number' && err.column > 0) diag.column = err.column;
    return [diag];
  }
}

class Validator {
  private readonly stepPaths = new Map<string, string>();
  private stepCount = 0;

  constructor(
    private readonly issues: Issues,
    private readonly opts: ValidateOptions,
  ) {}

  private err(field: string, message: string, pos?: { line: number; column: number }): void {
    this.issues.add(field, message, pos);
  }

  private noRuntime(stepId: string, type: string): string {
    const here = `types with a runtime here: ${this.opts.stepTypes!.names().join(', ')}`;
    if (type === '') return `step '${stepId}' has no type (${here})`;
    const maestro = MAESTRO_STEP_TYPES.find((t) => t.toLowerCase() === type.trim().toLowerCase());
    if (maestro) return `step '${stepId}' has type ${type.toUpperCase()}, for which no runtime is registered in this Baton process (${here})`;
    return `step '${stepId}' has type ${type}, which is not a step type Baton knows (${here}; Maestro's others, ${MAESTRO_STEP_TYPES.filter((t) => !this.opts.stepTypes!.has(t)).join(', ')}, need a registered runtime)`;
  }

  request(r: WorkflowRequest): void {
    if (r.properties) this.properties(r.properties, 'properties');
    this.workflow(r.workflow, 'workflow');
  }

  private properties(p: Properties, path: string): void {
    const rs = p.runStrategy;
    if (rs?.maxConcurrency !== undefined && rs.rule !== 'PARALLEL' && rs.maxConcurrency !== 1) {
      this.err(fieldPath(path, 'run_strategy.workflow_concurrency'), `must be 1 for run strategy ${rs.rule}; only PARALLEL runs several instances at once`);
    }
  }

  private workflow(w: Workflow, path: string): void {
    this.id(w.id, fieldPath(path, 'id'), 'workflow id');
    if (w.timeout && 'seconds' in w.timeout && w.timeout.seconds <= 0) this.err(fieldPath(path, 'timeout'), 'must be more than 0 seconds');
    this.params(w.params, fieldPath(path, 'params'), true);
    w.timeTriggers.forEach((t, i) => {
      const p = fieldPath(fieldPath(path, 'time_triggers'), i);
      if (t.type !== 'INTERVAL' && t.timezone !== undefined && !IANAZone.isValidZone(t.timezone)) {
        this.err(fieldPath(p, 'timezone'), `unknown time zone "${t.timezone}"`);
      }
      if (t.type === 'PREDEFINED' && !PREDEFINED.includes(t.expression.trim().toLowerCase())) {
        this.err(fieldPath(p, 'expression'), `must be one of ${PREDEFINED.join(', ')}, got "${t.expression}"`);
      }
      if (t.type === 'CRON' && t.cron.trim().split(/\s+/).length < 5) {
        this.err(fieldPath(p, 'cron'), `"${t.cron}" has too few fields: expected 5 (Unix) or 6-7 (Quartz with seconds)`);
      }
    });
    w.signalTriggers.forEach((t, i) => {
      const p = fieldPath(fieldPath(path, 'signal_triggers'), i);
      const joinLengths = new Set<number>();
      for (const [name, d] of Object.entries(t.definitions)) {
        const dp = fieldPath(fieldPath(p, 'definitions'), name);
        joinLengths.add(d.joinKeys.length);
        for (const [k, m] of Object.entries(d.matchParams)) this.operator(m.operator, fieldPath(fieldPath(fieldPath(dp, 'match_params'), k), 'operator'));
      }
      if (joinLengths.size > 1) this.err(fieldPath(p, 'definitions'), 'every signal must list the same number of join_keys (they join position by position)');
      if (t.condition !== undefined) this.sel(t.condition, fieldPath(p, 'condition'));
      if (t.dedupExpr !== undefined) this.sel(t.dedupExpr, fieldPath(p, 'dedup_expr'));
      this.params(t.params, fieldPath(p, 'params'), false);
    });
    if (w.steps.length === 0) this.err(fieldPath(path, 'steps'), 'must contain at least one step');
    this.collectIds(w.steps, fieldPath(path, 'steps'));
    this.steps(w.steps, fieldPath(path, 'steps'));
    const max = this.opts.maxSteps ?? DEFAULT_MAX_STEPS;
    if (this.stepCount > max) this.err(fieldPath(path, 'steps'), `has ${this.stepCount} steps (counting nested ones); the limit is ${max}`);
  }

  private id(id: string, path: string, what: string): void {
    if (id === '') return; // reported as missing by the parser
    if (id.length > MAX_ID_LENGTH) this.err(path, `${what} is ${id.length} characters long; the limit is ${MAX_ID_LENGTH}`);
    if (!ID_SYNTAX.test(id)) this.err(path, `${what} "${id}" may only contain letters, digits, '_', '.' and '-', and must not start with '.' or '-'`);
    else if (id.includes('__')) this.err(path, `${what} "${id}" must not contain "__" (it separates step id and param name in \${step__param})`);
  }

  /** Records every step id of the whole workflow first, so duplicates across scopes are found. */
  private collectIds(steps: readonly Step[], path: string): void {
    steps.forEach((s, i) => {
      const p = fieldPath(path, i);
      this.stepCount++;
      if (s.id !== '') {
        const first = this.stepPaths.get(s.id);
        if (first !== undefined) this.err(fieldPath(p, 'id'), `duplicate step id "${s.id}" (first used at ${first})`);
        else this.stepPaths.set(s.id, p);
      }
      if (s.kind === 'foreach' || s.kind === 'while') this.collectIds(s.steps, fieldPath(p, 'steps'));
    });
  }

  /** Checks one scope (the workflow's steps or a loop's inner steps): its graph and each step. */
  private steps(steps: readonly Step[], path: string): void {
    const index = new Map<string, number>();
    steps.forEach((s, i) => {
      if (!index.has(s.id)) index.set(s.id, i);
    });
    steps.forEach((s, i) => {
      const p = fieldPath(path, i);
      this.step(s, p);
      for (const [succ, cond] of Object.entries(s.transition.successors)) {
        const sp = fieldPath(fieldPath(p, 'transition.successors'), succ);
        if (succ === s.id) this.err(sp, `step "${s.id}" cannot be its own successor`);
        else if (!index.has(succ)) {
          const elsewhere = this.stepPaths.get(succ);
          this.err(sp, elsewhere ? `unknown step id: "${succ}" is at ${elsewhere}, outside this step's scope` : 'unknown step id');
        }
        this.sel(cond, sp);
      }
    });
    this.cycles(steps, path, index);
  }

  private cycles(steps: readonly Step[], path: string, index: Map<string, number>): void {
    const WHITE = 0;
    const GREY = 1;
    const BLACK = 2;
    const color = new Array<number>(steps.length).fill(WHITE);
    const reported = new Set<string>();
    for (let root = 0; root < steps.length; root++) {
      if (color[root] !== WHITE) continue;
      // Iterative DFS: definitions can be deep chains, recursion could overflow.
      const stack: { node: number; next: number; succ: number[] }[] = [];
      const push = (n: number): void => {
        color[n] = GREY;
        const succ = Object.keys((steps[n] as Step).transition.successors)
          .map((id) => index.get(id))
          .filter((x): x is number => x !== undefined && x !== n);
        stack.push({ node: n, next: 0, succ });
      };
      push(root);
      while (stack.length > 0) {
        const top = stack[stack.length - 1] as { node: number; next: number; succ: number[] };
        if (top.next >= top.succ.length) {
          color[top.node] = BLACK;
          stack.pop();
          continue;
        }
        const to = top.succ[top.next++] as number;
        if (color[to] === WHITE) push(to);
        else if (color[to] === GREY) {
          const from = stack.findIndex((f) => f.node === to);
          const members = stack.slice(from).map((f) => (steps[f.node] as Step).id);
          const key = [...members].sort().join('\u0000');
          if (reported.has(key)) continue;
          reported.add(key);
          const at = fieldPath(fieldPath(fieldPath(path, top.node), 'transition.successors'), (steps[to] as Step).id);
          this.err(at, `cycle: ${[...members, (steps[to] as Step).id].join(' → ')}`);
        }
      }
    }
  }

  private step(s: Step, path: string): void {
    this.id(s.id, fieldPath(path, 'id'), 'step id');
    if (s.timeout && 'seconds' in s.timeout && s.timeout.seconds <= 0) this.err(fieldPath(path, 'timeout'), 'must be more than 0 seconds');
    this.params(s.params, fieldPath(path, 'params'), true);
    s.signalDependencies.forEach((d, i) => {
      const dp = fieldPath(fieldPath(path, 'signal_dependencies'), i);
      if (d.name.trim() === '') this.err(fieldPath(dp, 'name'), 'must not be empty');
      for (const [k, m] of Object.entries(d.matchParams)) {
        const mp = fieldPath(fieldPath(dp, 'match_params'), k);
        this.operator(m.operator, fieldPath(mp, 'operator'));
        this.param(m.param, fieldPath(mp, 'param'));
      }
    });
    s.signalOutputs.forEach((o, i) => {
      const op = fieldPath(fieldPath(path, 'signal_outputs'), i);
      if (o.name.trim() === '') this.err(fieldPath(op, 'name'), 'must not be empty');
      this.params(o.params, fieldPath(op, 'params'), false);
    });
    switch (s.kind) {
      case 'step':
        if (s.type.trim() === '' && s.type !== '') this.err(fieldPath(path, 'type'), 'must not be blank');
        else if (this.opts.stepTypes && !this.opts.stepTypes.has(s.type)) this.err(fieldPath(path, 'type'), this.noRuntime(s.id, s.type));
        if (s.retryPolicy) this.retryPolicy(s.retryPolicy, fieldPath(path, 'retry_policy'));
        break;
      case 'foreach': {
        const lp = fieldPath(path, 'params.loop_params');
        if (Object.keys(s.loopParams).length === 0) this.err(lp, 'must define at least one loop variable');
        for (const [name, def] of Object.entries(s.loopParams)) {
          if (def.type !== undefined && !def.type.endsWith('_ARRAY')) {
            this.err(fieldPath(fieldPath(lp, name), 'type'), `a foreach loop variable must be an array type (STRING_ARRAY, LONG_ARRAY, DOUBLE_ARRAY, BOOLEAN_ARRAY), got ${def.type}`);
          }
          this.param(def, fieldPath(lp, name));
        }
        this.steps(s.steps, fieldPath(path, 'steps'));
        if (s.steps.length === 0) this.err(fieldPath(path, 'steps'), 'must contain at least one step');
        break;
      }
      case 'while': {
        if (s.condition.trim() !== '') this.sel(s.condition, fieldPath(path, 'condition'));
        const lp = fieldPath(path, 'params.loop_params');
        for (const [name, def] of Object.entries(s.loopParams)) this.param(def, fieldPath(lp, name));
        this.steps(s.steps, fieldPath(path, 'steps'));
        if (s.steps.length === 0) this.err(fieldPath(path, 'steps'), 'must contain at least one step');
        break;
      }
      case 'subworkflow': {
        const idp = fieldPath(path, 'params.subworkflow_id');
        if (s.subworkflowId.type !== undefined && s.subworkflowId.type !== 'STRING') this.err(fieldPath(idp, 'type'), `must be STRING, got ${s.subworkflowId.type}`);
        if (typeof s.subworkflowId.value === 'string' && !hasTemplate(s.subworkflowId.value)) this.id(s.subworkflowId.value, fieldPath(idp, 'value'), 'subworkflow id');
        this.param(s.subworkflowId, idp);
        if (s.subworkflowVersion) {
          const vp = fieldPath(path, 'params.subworkflow_version');
          const v = s.subworkflowVersion.value;
          if (typeof v === 'string' && !SUBWORKFLOW_VERSIONS.test(v.trim())) this.err(fieldPath(vp, 'value'), `must be "latest", "active", "default" or a version number, got "${v}"`);
          this.param(s.subworkflowVersion, vp);
        }
        break;
      }
    }
  }

  private retryPolicy(rp: RetryPolicy, path: string): void {
    const check = (v: IntSpec | undefined, key: string, min: number, max: number): void => {
      // A duration text ("1 min 40 s") without `${...}` is checked as the seconds it reads as.
      const n = typeof v === 'object' && !hasTemplate(v.template) ? secondsOf(v.template) : v;
      if (typeof n === 'number' && (n < min || n > max)) this.err(fieldPath(path, key), `must be between ${min} and ${max}, got ${typeof v === 'number' ? v : `"${String((v as { template: string }).template)}" (${n} seconds)`}`);
    };
    check(rp.errorRetryLimit, 'error_retry_limit', 0, MAX_RETRY_LIMIT);
    check(rp.platformRetryLimit, 'platform_retry_limit', 0, MAX_RETRY_LIMIT);
    check(rp.timeoutRetryLimit, 'timeout_retry_limit', 0, MAX_RETRY_LIMIT);
    const b = rp.backoff;
    if (!b) return;
    for (const kind of ['error', 'platform', 'timeout'] as const) {
      check(b[`${kind}RetryBackoffInSecs`], `backoff.${kind}_retry_backoff_in_secs`, 1, MAX_BACKOFF_SECONDS);
      check(b[`${kind}RetryLimitInSecs`], `backoff.${kind}_retry_limit_in_secs`, 1, MAX_BACKOFF_SECONDS);
      const exp = b[`${kind}RetryExponent`];
      if (b.type === 'FIXED_BACKOFF' && exp !== undefined) this.err(fieldPath(path, `backoff.${kind}_retry_exponent`), 'is only used by EXPONENTIAL_BACKOFF');
      else check(exp, `backoff.${kind}_retry_exponent`, 1, 10);
    }
  }

  private operator(op: string, path: string): void {
    if (!OPERATORS.includes(op.trim())) this.err(path, `unknown operator "${op}"; use one of ${OPERATORS.join(' ')}`);
  }

  private params(params: ParamDefMap, path: string, userDefined: boolean): void {
    for (const [name, def] of Object.entries(params)) {
      const p = fieldPath(path, name);
      if (userDefined) {
        if (RESERVED_PARAM_NAMES.has(name)) this.err(p, `"${name}" is reserved: Baton sets it for every run`);
        else if (!PARAM_NAME_SYNTAX.test(name)) this.err(p, `param name "${name}" must start with a letter or '_' and contain only letters, digits and '_'`);
      }
      this.param(def, p);
    }
  }

  private param(def: ParamDef, path: string): void {
    if (def.expression !== undefined) {
      if (def.expression.trim() === '') this.err(fieldPath(path, 'expression'), 'must not be empty');
      else this.sel(def.expression, fieldPath(path, 'expression'));
    }
    if (def.validator !== undefined) {
      const at = fieldPath(path, 'validator');
      if (!isAnnotationValidator(def.validator)) this.sel(def.validator, at, true);
      else {
        const problem = annotationValidatorProblem(def.validator, def.type);
        if (problem) this.err(at, problem);
      }
    }
    if (def.type === 'MAP' && def.value !== undefined) {
      for (const [k, nested] of Object.entries(def.value as ParamDefMap)) this.param(nested, fieldPath(fieldPath(path, 'value'), k));
    }
  }

  /** Compiles one SEL source; `syntaxOnly` for validators, whose `param` variable the checker cannot type. */
  private sel(source: string, path: string, syntaxOnly = false): void {
    const sel = this.opts.sel === undefined ? selCompiler : this.opts.sel;
    if (sel === false) return;
    for (const d of collectSelDiagnostics(sel, source)) {
      if (syntaxOnly && d.kind !== undefined && d.kind !== 'syntax') continue;
      const kind = d.kind ? `SEL ${d.kind} error` : 'SEL error';
      const where = d.line !== undefined ? ` at line ${d.line}, column ${d.column ?? 0}` : '';
      this.err(path, `${kind}${where}: ${d.message}`, d.line !== undefined ? { line: d.line, column: d.column ?? 0 } : undefined);
    }
  }
}
