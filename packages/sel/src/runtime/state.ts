import { SelError, limitError } from '../errors.js';
import type { HostContext } from '../host-context.js';
import { CHAR_BYTES, DEFAULT_LIMITS, ELEMENT_BYTES, OBJECT_BYTES, WORK_UNITS_PER_STEP, type Limits } from '../limits.js';
import type { HostExtensions } from '../extensions.js';
import type { Value } from './values.js';

export const UNSET: unique symbol = Symbol('unset');
const NO_VARS: InputVars = Object.freeze({});
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
  /**
   * Variable slots and their types. The types (constant strings, almost always) live in an array
   * of the state, reused; so do the slots of a program that never stores into one after its
   * inputs. A program that does (declarations, assignments, loop counters) gets fresh slots for
   * each evaluation, so that what it stores goes into a young array, not into a long-lived one
   * where every store of a new value costs a write barrier.
   */
  slots: Slot[];
  readonly slotTypes: (string | undefined)[];
  private readonly ownSlots: Slot[];
  steps = 0;
  memory = 0;
  last: Value | undefined = undefined;
  returned: Value | undefined = undefined;
  maxSteps: number;
  loopLimit: number;
  arrayLimit: number;
  stringLimit: number;
  memoryLimit: number;
  private deadline = 0;
  limits: Limits;
  vars: InputVars = NO_VARS;
  extensions: HostExtensions | undefined = undefined;
  context: unknown = undefined;
  private clock: () => number = Date.now;
  private rng: () => number = Math.random;
  /** Copies of input values read through `params`, so a program never changes the caller's data. */
  paramsCache: Map<string, Value> | undefined = undefined;

  /**
   * One state serves one evaluation at a time, from `begin` to `end`, and may then serve the
   * next: a program keeps an idle one, so an evaluation allocates no state object of its own.
   */
  constructor(slotCount: number, limits: Limits) {
    const slots: Slot[] = [];
    const types: (string | undefined)[] = [];
    for (let i = 0; i < slotCount; i++) {
      slots.push(UNSET);
      types.push(undefined);
    }
    this.ownSlots = this.slots = slots;
    this.slotTypes = types;
    this.limits = limits;
    this.maxSteps = limits.steps;
    this.loopLimit = limits.loopIterations;
    this.arrayLimit = limits.arrayLength;
    this.stringLimit = limits.stringLength;
    this.memoryLimit = limits.memoryBytes;
  }

  /**
   * Starts an evaluation: every slot UNSET and every type unknown (as `end` leaves them),
   * counters at zero. `freshSlots`, if given, is used instead of the state's own slots.
   */
  begin(freshSlots: Slot[] | undefined, limits: Limits, vars: InputVars, extensions: HostExtensions | undefined, context: unknown, clock: () => number, rng: () => number): void {
    if (limits !== this.limits) {
      this.limits = limits;
      this.maxSteps = limits.steps;
      this.loopLimit = limits.loopIterations;
      this.arrayLimit = limits.arrayLength;
      this.stringLimit = limits.stringLength;
      this.memoryLimit = limits.memoryBytes;
    }
    this.slots = freshSlots ?? this.ownSlots;
    this.steps = 0;
    this.memory = 0;
    this.deadline = limits.timeoutMs > 0 ? Date.now() + limits.timeoutMs : 0;
    this.vars = vars;
    this.extensions = extensions;
    this.context = context;
    this.clock = clock;
    this.rng = rng;
  }

  /**
   * `begin` with the default limits, clock and random source, into the state's own slots (the
   * lean path of a program that stores into none, see Program).
   */
  beginDefault(vars: InputVars, extensions: HostExtensions | undefined): void {
    const limits = DEFAULT_LIMITS;
    if (limits !== this.limits) this.begin(undefined, limits, vars, extensions, undefined, Date.now, Math.random);
    this.steps = 0;
    this.memory = 0;
    this.deadline = limits.timeoutMs > 0 ? Date.now() + limits.timeoutMs : 0;
    this.vars = vars;
    this.extensions = extensions;
  }

  /** `end` after `beginDefault`: no type was recorded, clock and random source are the defaults. */
  endLean(): void {
    const own = this.slots;
    for (let i = 0; i < own.length; i++) own[i] = UNSET;
    this.last = undefined;
    this.returned = undefined;
    this.paramsCache = undefined;
    this.vars = NO_VARS;
    this.extensions = undefined;
  }

  /** Ends an evaluation: drops every value and host object it held, so none outlives it. */
  end(): void {
    const own = this.ownSlots;
    const types = this.slotTypes;
    const reset = this.slots === own;
    for (let i = 0; i < types.length; i++) {
      types[i] = undefined;
      if (reset) own[i] = UNSET;
    }
    this.slots = own;
    this.last = undefined;
    this.returned = undefined;
    this.paramsCache = undefined;
    this.vars = NO_VARS;
    this.extensions = undefined;
    this.context = undefined;
    this.clock = Date.now;
    this.rng = Math.random;
  }

  /** One evaluation step; the wall clock is only read every 1024 steps. */
  step(): void {
    const s = ++this.steps;
    if (s > this.maxSteps) throw limitError('steps', this.maxSteps);
    if ((s & 1023) === 0 && this.deadline !== 0 && Date.now() > this.deadline) {
      throw this.timeError();
    }
  }

  /** Work of a library call: whole steps of it count at once, the wall clock is read after large ones. */
  chargeWork(units: number): void {
    if (units < WORK_UNITS_PER_STEP) return;
    const s = (this.steps += Math.floor(units / WORK_UNITS_PER_STEP));
    if (s > this.maxSteps) throw limitError('steps', this.maxSteps, 'counting the work done inside library calls');
    if (units >= 1024 * WORK_UNITS_PER_STEP && this.deadline !== 0 && Date.now() > this.deadline) {
      throw this.timeError();
    }
  }

  private timeError(): SelError {
    return new SelError('limit', `time limit of ${this.limits.timeoutMs} ms exceeded`);
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
