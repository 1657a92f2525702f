/**
 * The normalized model of a workflow definition: what the parsers (Maestro JSON, YAML DSL) produce,
 * what validation checks, what the versions store keeps and what the runtime executes.
 *
 * Conventions:
 * - Names are camelCase here; `serialize.ts` turns a model back into Maestro's snake_case JSON.
 * - Enum-like strings are upper-cased on input (`"parallel"` → `'PARALLEL'`, `"long"` → `'LONG'`).
 * - Fields the model does not know are kept in `extra` (raw JSON) so a definition round-trips.
 * - LONG values are `bigint` so 64-bit numbers stay exact; other JSON numbers are `number`.
 * - A field that may hold a `${param}` template (timeouts, retry limits) keeps the template text;
 *   the runtime interpolates it with the instance's params (see `params/interpolate.ts`).
 */

/** A JSON value as parsed by Baton: integers outside the safe range arrive as bigint. */
export type JsonValue = null | boolean | number | bigint | string | JsonValue[] | JsonObject;
export interface JsonObject {
  [key: string]: JsonValue;
}

export const PARAM_TYPES = [
  'STRING',
  'LONG',
  'DOUBLE',
  'BOOLEAN',
  'STRING_MAP',
  'STRING_ARRAY',
  'LONG_ARRAY',
  'DOUBLE_ARRAY',
  'BOOLEAN_ARRAY',
  'MAP',
] as const;
export type ParamType = (typeof PARAM_TYPES)[number];

/** Who may change a param and when (Maestro's modes; default MUTABLE). */
export const PARAM_MODES = ['CONSTANT', 'IMMUTABLE', 'MUTABLE_ON_START', 'MUTABLE_ON_START_RESTART', 'MUTABLE'] as const;
export type ParamMode = (typeof PARAM_MODES)[number];

/**
 * An evaluated, typed param value. STRING_MAP is string → string; MAP holds typed values of any
 * param type (the evaluated form of a MAP definition whose value is nested param definitions).
 */
export type ParamValue =
  | string
  | bigint
  | number
  | boolean
  | string[]
  | bigint[]
  | number[]
  | boolean[]
  | ParamValueMap;
export interface ParamValueMap {
  [key: string]: ParamValue;
}

/** The literal a definition gives: as ParamValue, except MAP, whose value is nested definitions. */
export type ParamLiteral = Exclude<ParamValue, ParamValueMap> | Record<string, string> | ParamDefMap;

export interface ParamDef {
  name: string;
  /**
   * Always set for literals and in JSON definitions. Absent only for a YAML `'!name': <SEL>`
   * without a type hint: the param then takes the type of the SEL result.
   */
  type?: ParamType;
  /** Exactly one of `value` and `expression` is set (validation reports otherwise). */
  value?: ParamLiteral;
  /** SEL source computing the value. */
  expression?: string;
  mode?: ParamMode;
  /** Maestro's validator text (`@NotNull`, `param != null && ...`); kept, checked by the runtime. */
  validator?: string;
  tags?: Tag[];
  extra?: JsonObject;
}
export type ParamDefMap = Record<string, ParamDef>;

export interface Tag {
  name: string;
  namespace?: string;
  extra?: JsonObject;
}

/** A timeout or a delay: either known seconds or a template resolved at run time. */
export type DurationSpec = { seconds: number } | { template: string };

/** A whole number that may be given as a `${param}` template (retry limits, backoffs). */
export type IntSpec = number | { template: string };

export const RUN_STRATEGY_RULES = ['SEQUENTIAL', 'STRICT_SEQUENTIAL', 'FIRST_ONLY', 'LAST_ONLY', 'PARALLEL', 'SERIAL_LATEST_ONLY'] as const;
export type RunStrategyRule = (typeof RUN_STRATEGY_RULES)[number];

export interface RunStrategy {
  rule: RunStrategyRule;
  /** PARALLEL's limit on concurrently running instances (Maestro `workflow_concurrency`). */
  maxConcurrency?: number;
  extra?: JsonObject;
}

export const DEFAULT_STEP_CONCURRENCY = 20;

/** Workflow-level settings kept across versions (Maestro `properties`). */
export interface Properties {
  /** The owner's name (`owner` as a string, or the `name` of an owner object). */
  owner?: string;
  /** `owner` given as an object (Maestro's `User`: `{name, …}`), kept and returned as given. */
  ownerDetails?: JsonObject;
  runStrategy?: RunStrategy;
  stepConcurrency?: number;
  signalTriggerDisabled?: boolean;
  timeTriggerDisabled?: boolean;
  tags?: Tag[];
  extra?: JsonObject;
}

export const FAILURE_MODES = ['FAIL_AFTER_RUNNING', 'FAIL_IMMEDIATELY', 'IGNORE_FAILURE'] as const;
export type FailureMode = (typeof FAILURE_MODES)[number];

export const BACKOFF_TYPES = ['FIXED_BACKOFF', 'EXPONENTIAL_BACKOFF'] as const;
export type BackoffType = (typeof BACKOFF_TYPES)[number];

/** Per error class (user error, platform error, timeout): base delay, exponent, delay cap. */
export interface Backoff {
  type: BackoffType;
  errorRetryBackoffInSecs?: IntSpec;
  errorRetryExponent?: IntSpec;
  errorRetryLimitInSecs?: IntSpec;
  platformRetryBackoffInSecs?: IntSpec;
  platformRetryExponent?: IntSpec;
  platformRetryLimitInSecs?: IntSpec;
  timeoutRetryBackoffInSecs?: IntSpec;
  timeoutRetryExponent?: IntSpec;
  timeoutRetryLimitInSecs?: IntSpec;
  extra?: JsonObject;
}

export interface RetryPolicy {
  errorRetryLimit?: IntSpec;
  platformRetryLimit?: IntSpec;
  timeoutRetryLimit?: IntSpec;
  backoff?: Backoff;
  extra?: JsonObject;
}

/** Outgoing edges: successor step id → SEL condition source (`"true"` for unconditional). */
export interface Transition {
  successors: Record<string, string>;
  extra?: JsonObject;
}

export interface SignalMatchParam {
  param: ParamDef;
  /** `=`, `<`, `<=`, `>`, `>=` ... as Maestro writes them. */
  operator: string;
  extra?: JsonObject;
}

/** A step waits until a signal matching these params has arrived. */
export interface SignalDependency {
  name: string;
  matchParams: Record<string, SignalMatchParam>;
  extra?: JsonObject;
}

/** A signal the step publishes when it succeeds. */
export interface SignalOutput {
  name: string;
  params: ParamDefMap;
  /** Free-form payload as given. */
  payload?: JsonValue;
  extra?: JsonObject;
}

interface StepBase {
  id: string;
  name?: string;
  description?: string;
  tags: Tag[];
  /** The step's own params (without the ones the step kind lifts into dedicated fields). */
  params: ParamDefMap;
  transition: Transition;
  failureMode?: FailureMode;
  timeout?: DurationSpec;
  signalDependencies: SignalDependency[];
  signalOutputs: SignalOutput[];
  extra?: JsonObject;
}

/** A leaf step run by a step runtime chosen by `type` (NoOp, Sleep, Http, Shell, Notebook, ...). */
export interface TypedStep extends StepBase {
  kind: 'step';
  /** As written; runtimes match it case-insensitively. */
  type: string;
  /** Step runtime sub-type (Maestro `sub_type`), when given. */
  subType?: string;
  retryPolicy?: RetryPolicy;
}

/** Runs `steps` once per element of the cartesian product of the array-valued loop params. */
export interface ForeachStep extends StepBase {
  kind: 'foreach';
  /** `params.loop_params` of the definition: loop variable → definition of an array. */
  loopParams: ParamDefMap;
  concurrency?: number;
  strictOrdering?: boolean;
  steps: Step[];
}

/** Runs `steps` again and again while `condition` (SEL) holds. */
export interface WhileStep extends StepBase {
  kind: 'while';
  condition: string;
  /** Loop variables with their initial values (`params.loop_params` of the definition). */
  loopParams: ParamDefMap;
  steps: Step[];
}

/** Runs another workflow. Id and version come from the `subworkflow_id` / `subworkflow_version` params. */
export interface SubworkflowStep extends StepBase {
  kind: 'subworkflow';
  subworkflowId: ParamDef;
  /** Absent means Maestro's default, the active version. */
  subworkflowVersion?: ParamDef;
  /** Wait for the child to finish (default true). */
  sync?: boolean;
  /** Pass only the step's own params down (default false: pass the parent's params too). */
  explicitParams?: boolean;
}

export type Step = TypedStep | ForeachStep | WhileStep | SubworkflowStep;
export type StepKind = Step['kind'];

export interface CronTimeTrigger {
  type: 'CRON';
  cron: string;
  timezone?: string;
  fuzzyMaxDelay?: DurationSpec;
  extra?: JsonObject;
}
export interface PredefinedTimeTrigger {
  type: 'PREDEFINED';
  /** `@hourly`, `@daily`, `@weekly`, `@monthly`, `@yearly` */
  expression: string;
  timezone?: string;
  fuzzyMaxDelay?: DurationSpec;
  extra?: JsonObject;
}
export interface IntervalTimeTrigger {
  type: 'INTERVAL';
  interval: string;
  start?: string;
  extra?: JsonObject;
}
export type TimeTrigger = CronTimeTrigger | PredefinedTimeTrigger | IntervalTimeTrigger;

export interface SignalTriggerMatchParam {
  value: JsonValue;
  operator: string;
  extra?: JsonObject;
}
export interface SignalTriggerDefinition {
  matchParams: Record<string, SignalTriggerMatchParam>;
  joinKeys: string[];
  extra?: JsonObject;
}
/** Starts the workflow when one signal of each named definition has arrived (joined on keys). */
export interface SignalTrigger {
  definitions: Record<string, SignalTriggerDefinition>;
  /** SEL, evaluated over the matched signals before starting. */
  condition?: string;
  /** SEL computing a dedupe key. */
  dedupExpr?: string;
  params: ParamDefMap;
  extra?: JsonObject;
}

export interface Workflow {
  id: string;
  name?: string;
  description?: string;
  tags: Tag[];
  timeout?: DurationSpec;
  params: ParamDefMap;
  timeTriggers: TimeTrigger[];
  signalTriggers: SignalTrigger[];
  steps: Step[];
  extra?: JsonObject;
}

/** A create request as pushed by a user. */
export interface WorkflowRequest {
  /** Absent when the request carried no `properties` (keep the stored ones). */
  properties?: Properties;
  workflow: Workflow;
  /** Absent means true: the pushed version becomes active. */
  isActive?: boolean;
  extra?: JsonObject;
}

/** Calls `fn` on every step, depth first, with its path of enclosing foreach/while steps. */
export function walkSteps(steps: readonly Step[], fn: (step: Step, parents: readonly Step[]) => void, parents: readonly Step[] = []): void {
  for (const step of steps) {
    fn(step, parents);
    if (step.kind === 'foreach' || step.kind === 'while') walkSteps(step.steps, fn, [...parents, step]);
  }
}
