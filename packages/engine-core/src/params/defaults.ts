import { DateTime, IANAZone } from 'luxon';
import type { ParamMode, ParamType, ParamValue } from '../definition/model.js';

/**
 * Baton's default params: the same names, types, modes and meaning as Maestro's, computed in
 * TypeScript (no SEL) so they are cheap, exact and testable. The runtime calls these when it
 * creates an instance or a step attempt and merges the result as the lowest layers
 * (see `merge.ts`). When the start request gives one of the inputs of the derivation chain
 * (zones, `RUN_TS`, `TARGET_RUN_DATE`/`HOUR`, `DERIVED_RUN_TS` — e.g. a backfill), everything
 * derived from it is computed from the given value; other given values simply win in the merge.
 */

export interface DefaultParamSpec {
  type: ParamType;
  mode: ParamMode;
  /** Users cannot set reserved params; the engine always supplies them. */
  reserved?: boolean;
  meaning: string;
}

/** A computed param ready to merge: typed value plus how it may be changed. */
export interface EvaluatedParam {
  name: string;
  type: ParamType;
  value: ParamValue;
  mode: ParamMode;
}

const onStart = (type: ParamType, meaning: string): DefaultParamSpec => ({ type, mode: 'MUTABLE_ON_START', meaning });
const reserved = (type: ParamType, meaning: string): DefaultParamSpec => ({ type, mode: 'CONSTANT', reserved: true, meaning });

export const WORKFLOW_DEFAULT_PARAMS: Readonly<Record<string, DefaultParamSpec>> = {
  DSL_DEFAULT_TZ: onStart('STRING', "time zone of the workflow's first time trigger, else UTC"),
  WORKFLOW_CRON_TIMEZONE: onStart('STRING', 'time zone of the trigger that started the run, else DSL_DEFAULT_TZ'),
  RUN_TS: onStart('LONG', 'epoch ms: the scheduled fire time for time-triggered runs, else the start time'),
  TARGET_RUN_DATE: onStart('STRING', 'yyyyMMdd of RUN_TS in WORKFLOW_CRON_TIMEZONE'),
  TARGET_RUN_HOUR: onStart('STRING', 'HH of RUN_TS in WORKFLOW_CRON_TIMEZONE'),
  DERIVED_RUN_TS: onStart('LONG', 'epoch ms of TARGET_RUN_DATE TARGET_RUN_HOUR:00 in WORKFLOW_CRON_TIMEZONE'),
  DERIVED_RUN_DATE_US_PACIFIC: onStart('STRING', 'yyyyMMdd of DERIVED_RUN_TS in America/Los_Angeles'),
  DERIVED_RUN_DATE_US_PACIFIC_MINUS_ONE: onStart('STRING', 'the day before DERIVED_RUN_DATE_US_PACIFIC'),
  DERIVED_RUN_DATE_UTC: onStart('STRING', 'yyyyMMdd of DERIVED_RUN_TS in UTC'),
  DERIVED_RUN_DATE_UTC_MINUS_ONE: onStart('STRING', 'the day before DERIVED_RUN_DATE_UTC'),
  DERIVED_RUN_DATE_UTC_PLUS_ONE: onStart('STRING', 'the day after DERIVED_RUN_DATE_UTC'),
  DERIVED_RUN_DATE_UTC_MINUS_ONE_HOUR: onStart('STRING', 'yyyyMMdd (UTC) one hour before DERIVED_RUN_TS'),
  DERIVED_RUN_DATE_UTC_PLUS_ONE_HOUR: onStart('STRING', 'yyyyMMdd (UTC) one hour after DERIVED_RUN_TS'),
  DERIVED_RUN_HOUR_US_PACIFIC: onStart('STRING', 'HH of DERIVED_RUN_TS in America/Los_Angeles'),
  DERIVED_RUN_HOUR_UTC: onStart('STRING', 'HH of DERIVED_RUN_TS in UTC'),
  DERIVED_RUN_HOUR_UTC_MINUS_ONE_HOUR: onStart('STRING', 'HH (UTC) one hour before DERIVED_RUN_TS'),
  DERIVED_RUN_HOUR_UTC_PLUS_ONE_HOUR: onStart('STRING', 'HH (UTC) one hour after DERIVED_RUN_TS'),
  LOCAL_RUN_DATE: onStart('STRING', 'yyyyMMdd of RUN_TS in WORKFLOW_CRON_TIMEZONE'),
  RUN_DATE: onStart('STRING', 'yyyyMMdd of RUN_TS in UTC'),
  RUN_DATE_MINUS_1: onStart('STRING', 'yyyyMMdd (UTC) one day before RUN_TS'),
  RUN_DATE_MINUS_7: onStart('STRING', 'yyyyMMdd (UTC) seven days before RUN_TS'),
  owner: reserved('STRING', "the workflow's owner"),
  workflow_id: reserved('STRING', 'the workflow id'),
};

export const STEP_DEFAULT_PARAMS: Readonly<Record<string, DefaultParamSpec>> = {
  workflow_id: reserved('STRING', 'the workflow id'),
  workflow_instance_id: reserved('LONG', 'the instance id'),
  step_id: reserved('STRING', 'the step id'),
  step_instance_uuid: reserved('STRING', "the step instance's UUID"),
  step_attempt_id: reserved('LONG', 'the attempt number, from 1'),
};

export const FOREACH_DEFAULT_PARAMS: Readonly<Record<string, DefaultParamSpec>> = {
  loop_params: onStart('MAP', 'the loop variables; the iterations are the cartesian product of their arrays'),
  loop_index: reserved('LONG', 'the iteration number, from 0 (-1 outside an iteration)'),
};

export const WHILE_DEFAULT_PARAMS: Readonly<Record<string, DefaultParamSpec>> = {
  loop_params: onStart('MAP', 'the loop variables and their initial values'),
  loop_index: reserved('LONG', 'the iteration number, from 0 (-1 outside an iteration)'),
  condition: reserved('BOOLEAN', 'the value of the while condition for the current iteration'),
};

export const SUBWORKFLOW_DEFAULT_PARAMS: Readonly<Record<string, DefaultParamSpec>> = {
  subworkflow_id: onStart('STRING', 'the workflow to run (required)'),
  subworkflow_version: onStart('STRING', 'its version: "active" (default), "latest" or a number'),
};

/** Names users may not define or override anywhere (the engine owns them). */
export const RESERVED_PARAM_NAMES: ReadonlySet<string> = new Set(
  [WORKFLOW_DEFAULT_PARAMS, STEP_DEFAULT_PARAMS, FOREACH_DEFAULT_PARAMS, WHILE_DEFAULT_PARAMS]
    .flatMap((specs) => Object.entries(specs))
    .filter(([, spec]) => spec.reserved === true)
    .map(([name]) => name),
);

export interface WorkflowDefaultsContext {
  workflowId: string;
  owner?: string;
  /** Epoch ms: the scheduled fire time for time-triggered runs, otherwise the start time. */
  runTs: number;
  /** Time zone of the time trigger that started this run (Maestro INITIATOR_TIMEZONE). */
  initiatorTimezone?: string;
  /** Time zone of the workflow's first time trigger (Maestro FIRST_TIME_TRIGGER_TIMEZONE). */
  firstTimeTriggerTimezone?: string;
  /** Values the start request gives for MUTABLE_ON_START defaults; derived values follow them. */
  given?: Readonly<Record<string, ParamValue>>;
}

const PACIFIC = 'America/Los_Angeles';

function at(ms: number, zone: string): DateTime {
  return DateTime.fromMillis(ms, { zone });
}

function zoneOrNull(z: string | undefined): string | undefined {
  return z !== undefined && z.trim() !== '' ? z.trim() : undefined;
}

/** Reads a given value of the expected JS shape, refusing anything else with a clear message. */
function givenString(given: Readonly<Record<string, ParamValue>> | undefined, name: string): string | undefined {
  const v = given?.[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string') throw new Error(`param ${name} must be a STRING`);
  return v;
}

function givenLong(given: Readonly<Record<string, ParamValue>> | undefined, name: string): number | undefined {
  const v = given?.[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'bigint' && typeof v !== 'number') throw new Error(`param ${name} must be a LONG`);
  const n = Number(v);
  if (!Number.isSafeInteger(n)) throw new Error(`param ${name} is out of range for epoch milliseconds`);
  return n;
}

function checkZone(name: string, zone: string): string {
  if (!IANAZone.isValidZone(zone)) throw new Error(`param ${name}: unknown time zone "${zone}"`);
  return zone;
}

/**
 * The workflow-level default params of one run. Throws (with the param named) when a given value
 * cannot be used: an unknown zone, a TARGET_RUN_DATE that is not yyyyMMdd.
 */
export function defaultWorkflowParams(ctx: WorkflowDefaultsContext): Record<string, EvaluatedParam> {
  const g = ctx.given;
  const dslTz = checkZone('DSL_DEFAULT_TZ', givenString(g, 'DSL_DEFAULT_TZ') ?? zoneOrNull(ctx.firstTimeTriggerTimezone) ?? 'UTC');
  const cronTz = checkZone('WORKFLOW_CRON_TIMEZONE', givenString(g, 'WORKFLOW_CRON_TIMEZONE') ?? zoneOrNull(ctx.initiatorTimezone) ?? dslTz);
  const runTs = givenLong(g, 'RUN_TS') ?? ctx.runTs;
  if (!Number.isSafeInteger(runTs)) throw new Error('RUN_TS must be whole epoch milliseconds');
  const local = at(runTs, cronTz);
  const targetDate = givenString(g, 'TARGET_RUN_DATE') ?? local.toFormat('yyyyMMdd');
  const targetHour = givenString(g, 'TARGET_RUN_HOUR') ?? local.toFormat('HH');
  if (!/^\d{8}$/.test(targetDate)) throw new Error(`param TARGET_RUN_DATE must be yyyyMMdd, got "${targetDate}"`);
  if (!/^\d{2}$/.test(targetHour)) throw new Error(`param TARGET_RUN_HOUR must be HH, got "${targetHour}"`);

  let derivedTs = givenLong(g, 'DERIVED_RUN_TS');
  if (derivedTs === undefined) {
    // Wall-clock date and hour → instant; an hour that occurs twice (fall back) maps to its first
    // occurrence, as Joda's parser (Maestro) does.
    derivedTs = firstInstantOfWallHour(targetDate + targetHour, cronTz);
  }
  const utc = at(derivedTs, 'UTC');
  const pac = at(derivedTs, PACIFIC);
  const runUtc = at(runTs, 'UTC');

  const values: Record<string, ParamValue> = {
    DSL_DEFAULT_TZ: dslTz,
    WORKFLOW_CRON_TIMEZONE: cronTz,
    RUN_TS: BigInt(runTs),
    TARGET_RUN_DATE: targetDate,
    TARGET_RUN_HOUR: targetHour,
    DERIVED_RUN_TS: BigInt(derivedTs),
    DERIVED_RUN_DATE_US_PACIFIC: pac.toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_US_PACIFIC_MINUS_ONE: pac.minus({ days: 1 }).toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_UTC: utc.toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_UTC_MINUS_ONE: utc.minus({ days: 1 }).toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_UTC_PLUS_ONE: utc.plus({ days: 1 }).toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_UTC_MINUS_ONE_HOUR: utc.minus({ hours: 1 }).toFormat('yyyyMMdd'),
    DERIVED_RUN_DATE_UTC_PLUS_ONE_HOUR: utc.plus({ hours: 1 }).toFormat('yyyyMMdd'),
    DERIVED_RUN_HOUR_US_PACIFIC: pac.toFormat('HH'),
    DERIVED_RUN_HOUR_UTC: utc.toFormat('HH'),
    DERIVED_RUN_HOUR_UTC_MINUS_ONE_HOUR: utc.minus({ hours: 1 }).toFormat('HH'),
    DERIVED_RUN_HOUR_UTC_PLUS_ONE_HOUR: utc.plus({ hours: 1 }).toFormat('HH'),
    LOCAL_RUN_DATE: local.toFormat('yyyyMMdd'),
    RUN_DATE: runUtc.toFormat('yyyyMMdd'),
    RUN_DATE_MINUS_1: runUtc.minus({ days: 1 }).toFormat('yyyyMMdd'),
    RUN_DATE_MINUS_7: runUtc.minus({ days: 7 }).toFormat('yyyyMMdd'),
    workflow_id: ctx.workflowId,
  };
  if (ctx.owner !== undefined) values.owner = ctx.owner;
  return toEvaluated(values, WORKFLOW_DEFAULT_PARAMS);
}

/**
 * The earliest instant whose wall clock in `zone` reads `yyyyMMddHH`:00. Luxon resolves an hour
 * that occurs twice to the later one; the candidates around both neighbouring offsets are tried.
 */
function firstInstantOfWallHour(wall: string, zone: string): number {
  const asUtc = DateTime.fromFormat(wall, 'yyyyMMddHH', { zone: 'UTC' });
  if (!asUtc.isValid) throw new Error(`TARGET_RUN_DATE/TARGET_RUN_HOUR "${wall}" is not a valid date and hour`);
  const wallMs = asUtc.toMillis();
  const z = IANAZone.create(zone);
  const candidates = [wallMs - 86_400_000, wallMs, wallMs + 86_400_000]
    .map((probe) => wallMs - z.offset(probe) * 60_000)
    .filter((ms) => at(ms, zone).toFormat('yyyyMMddHH') === wall);
  if (candidates.length === 0) {
    // The hour does not exist (spring-forward gap): luxon shifts it forward by the gap, the rule the scheduler uses too.
    return DateTime.fromFormat(wall, 'yyyyMMddHH', { zone }).toMillis();
  }
  return Math.min(...candidates);
}

export interface StepDefaultsContext {
  workflowId: string;
  workflowInstanceId: number | bigint;
  stepId: string;
  stepInstanceUuid: string;
  stepAttemptId: number | bigint;
  kind: 'step' | 'foreach' | 'while' | 'subworkflow';
  /** Foreach/while: the current iteration, from 0; -1 (the default) outside an iteration. */
  loopIndex?: number;
}

/** The reserved step params plus the defaults of the step's kind. */
export function defaultStepParams(ctx: StepDefaultsContext): Record<string, EvaluatedParam> {
  const values: Record<string, ParamValue> = {
    workflow_id: ctx.workflowId,
    workflow_instance_id: BigInt(ctx.workflowInstanceId),
    step_id: ctx.stepId,
    step_instance_uuid: ctx.stepInstanceUuid,
    step_attempt_id: BigInt(ctx.stepAttemptId),
  };
  const specs: Record<string, DefaultParamSpec> = { ...STEP_DEFAULT_PARAMS };
  if (ctx.kind === 'foreach' || ctx.kind === 'while') {
    values.loop_index = BigInt(ctx.loopIndex ?? -1);
    specs.loop_index = FOREACH_DEFAULT_PARAMS.loop_index as DefaultParamSpec;
  }
  if (ctx.kind === 'subworkflow') {
    values.subworkflow_version = 'active';
    specs.subworkflow_version = SUBWORKFLOW_DEFAULT_PARAMS.subworkflow_version as DefaultParamSpec;
  }
  return toEvaluated(values, specs);
}

function toEvaluated(values: Record<string, ParamValue>, specs: Readonly<Record<string, DefaultParamSpec>>): Record<string, EvaluatedParam> {
  const out: Record<string, EvaluatedParam> = {};
  for (const [name, value] of Object.entries(values)) {
    const spec = specs[name];
    if (!spec) continue;
    out[name] = { name, type: spec.type, value, mode: spec.mode };
  }
  return out;
}
