import { limitError, type SelError } from '../errors.js';
import type { HostContext } from '../host-context.js';
import { CHAR_BYTES, ELEMENT_BYTES, OBJECT_BYTES, WORK_UNITS_PER_STEP, type Limits } from '../limits.js';
import type { HostExtensions } from '../extensions.js';
import type { Value } from './values.js';

export const UNSET: unique symbol = Symbol('unset');
export type Slot = Value | typeof UNSET;

/** Where the current statement's step was counted; limits name it in their error. */
export interface Located {
  line: number;
  column: number;
}

/**
 * Everything one evaluation owns: variable slots, counters for every limit, the result, and the
 * host's per-evaluation context. A fresh state per evaluation means nothing leaks between them.
 */
export class EvalState implements HostContext {
  readonly slots: Slot[];
  readonly slotTypes: (string | undefined)[];
  steps = 0;
  memory = 0;
  last: Value | undefined = undefined;
  returned: Value | undefined = undefined;
  readonly maxSteps: number;
  readonly loopLimit: number;
  readonly arrayLimit: number;
  readonly stringLimit: number;
  readonly memoryLimit: number;
  private readonly deadline: number;
  /** Copies of input values read through `params`, so a program never changes the caller's data. */
  paramsCache: Map<string, Value> | undefined;

  /**
   * `slots` and `slotTypes` become this evaluation's own: pass fresh arrays (a copy of a
   * program's all-UNSET template is the cheapest way to get them).
   */
  constructor(
    slots: Slot[],
    slotTypes: (string | undefined)[],
    readonly limits: Limits,
    readonly vars: InputVars,
    readonly extensions: HostExtensions | undefined,
    readonly context: unknown,
    private readonly clock: () => number,
    private readonly rng: () => number,
  ) {
    this.slots = slots;
    this.slotTypes = slotTypes;
    this.maxSteps = limits.steps;
    this.loopLimit = limits.loopIterations;
    this.arrayLimit = limits.arrayLength;
    this.stringLimit = limits.stringLength;
    this.memoryLimit = limits.memoryBytes;
    this.deadline = limits.timeoutMs > 0 ? Date.now() + limits.timeoutMs : 0;
  }

  /** One evaluation step; the wall clock is only read every 1024 steps. */
  step(): void {
    const s = ++this.steps;
    if (s > this.maxSteps) throw limitError('steps', this.maxSteps);
    if ((s & 1023) === 0 && this.deadline !== 0 && Date.now() > this.deadline) {
      throw limitError('time', this.limits.timeoutMs, 'milliseconds');
    }
  }

  /** Work of a library call: whole steps of it count at once, the wall clock is read after large ones. */
  chargeWork(units: number): void {
    if (units < WORK_UNITS_PER_STEP) return;
    const s = (this.steps += Math.floor(units / WORK_UNITS_PER_STEP));
    if (s > this.maxSteps) throw limitError('steps', this.maxSteps, 'counting the work done inside library calls');
    if (units >= 1024 * WORK_UNITS_PER_STEP && this.deadline !== 0 && Date.now() > this.deadline) {
      throw limitError('time', this.limits.timeoutMs, 'milliseconds');
    }
  }

  workLeft(): number {
    return Math.max(0, this.maxSteps - this.steps) * WORK_UNITS_PER_STEP;
  }

  chargeMemory(units: number): void {
    this.memory += OBJECT_BYTES + units * ELEMENT_BYTES;
    if (this.memory > this.memoryLimit) throw this.memoryError();
  }

  chargeString(length: number): void {
    if (length > this.stringLimit) throw limitError('string length', this.stringLimit, `a string of ${length} characters`);
    this.memory += OBJECT_BYTES + length * CHAR_BYTES;
    if (this.memory > this.memoryLimit) throw this.memoryError();
  }

  private memoryError(): SelError {
    return limitError('memory', this.memoryLimit, 'bytes of values built by this evaluation');
  }

  checkArrayLength(length: number): void {
    if (length >= this.arrayLimit) throw limitError('array length', this.arrayLimit, `an array of ${length} elements`);
  }

  checkStringLength(length: number): void {
    if (length > this.stringLimit) throw limitError('string length', this.stringLimit, `a string of ${length} characters`);
  }

  nowMillis(): number {
    return this.clock();
  }

  random(): number {
    return this.rng();
  }
}

/** Input variables as the host passes them: SEL values by name. */
export type InputVars = Readonly<Record<string, unknown>> | ReadonlyMap<string, unknown>;

export function hasInput(vars: InputVars, name: string): boolean {
  return vars instanceof Map ? vars.has(name) : Object.hasOwn(vars, name);
}

export function getInput(vars: InputVars, name: string): unknown {
  if (vars instanceof Map) return vars.get(name);
  return Object.hasOwn(vars, name) ? (vars as Record<string, unknown>)[name] : undefined;
}
