import type { ParamDefMap, ParamType, ParamValue } from '../definition/model.js';
import type { ExpressionPort, ParamsHost } from '../runtime/expressions.js';
import { selExpressionPort } from '../runtime/sel-port.js';
import { javaRegex, type JavaPattern } from '@baton/sel';

/**
 * Param validators (Maestro's `validator` on a param definition). Two forms:
 * - SEL over the variable `param` (the param's evaluated value), true when the value is good:
 *   `param > 0 && param < 100`.
 * - Bean-Validation-style annotations, several separated by spaces or commas: `@NotNull @Positive`,
 *   `@Min(0)`, `@Size(min = 1, max = 10)`, `@Pattern("[a-z]+")`.
 * Baton checks the annotations here; the SEL form goes through the engine's expression port.
 */

type Check = (value: ParamValue) => string | undefined;

interface AnnotationSpec {
  /** How the annotation is written, for messages. */
  usage: string;
  /** Param types it applies to (definition validation refuses others); undefined = any. */
  types?: readonly ParamType[];
  build(args: AnnotationArgs, name: string): Check;
}

interface AnnotationArgs {
  positional: string[];
  named: Map<string, string>;
}

const NUMBER_TYPES: readonly ParamType[] = ['LONG', 'DOUBLE'];
const SIZED_TYPES: readonly ParamType[] = ['STRING', 'STRING_ARRAY', 'LONG_ARRAY', 'DOUBLE_ARRAY', 'BOOLEAN_ARRAY', 'STRING_MAP', 'MAP'];

/** A validator the definition cannot use: unknown annotation, bad arguments, or a bad regex. */
export class ValidatorSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'ValidatorSyntaxError';
  }
}

function sizeOf(v: ParamValue): number | undefined {
  if (typeof v === 'string' || Array.isArray(v)) return v.length;
  if (v && typeof v === 'object') return Object.keys(v).length;
  return undefined;
}

function isNumber(v: ParamValue): v is number | bigint {
  return typeof v === 'number' || typeof v === 'bigint';
}

/** -1, 0 or 1 comparing a LONG or DOUBLE with a bound, exactly for whole-number bounds and LONGs. */
function compareTo(v: number | bigint, bound: string): number {
  if (typeof v === 'bigint' && /^[+-]?\d+$/.test(bound)) {
    const b = BigInt(bound);
    return v < b ? -1 : v > b ? 1 : 0;
  }
  const n = Number(v);
  const b = Number(bound);
  return n < b ? -1 : n > b ? 1 : 0;
}

function sign(name: string, accept: (cmp: number) => boolean, says: string): AnnotationSpec {
  return {
    usage: `@${name}`,
    types: NUMBER_TYPES,
    build: (args) => {
      noArgs(name, args);
      return (v) => (!isNumber(v) ? `@${name} applies to numbers` : accept(compareTo(v, '0')) ? undefined : `must be ${says}`);
    },
  };
}

function noArgs(name: string, args: AnnotationArgs): void {
  if (args.positional.length + args.named.size > 0) throw new ValidatorSyntaxError(`@${name} takes no arguments`);
}

const NUMBER = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;

function bound(name: string, args: AnnotationArgs): string {
  const value = args.positional.length === 1 && args.named.size === 0 ? args.positional[0] : args.named.size === 1 ? args.named.get('value') : undefined;
  if (value === undefined || !NUMBER.test(value)) throw new ValidatorSyntaxError(`@${name} needs one number, as in @${name}(10)`);
  return value;
}

function sizeLimit(args: AnnotationArgs, key: 'min' | 'max'): number | undefined {
  const text = args.named.get(key);
  if (text === undefined) return undefined;
  if (!/^\d+$/.test(text)) throw new ValidatorSyntaxError(`@Size ${key} must be a whole number ≥ 0, got ${text}`);
  return Number(text);
}

const ANNOTATIONS: Record<string, AnnotationSpec> = {
  NotNull: {
    usage: '@NotNull',
    build: (args) => {
      noArgs('NotNull', args);
      return (v) => (v === null || v === undefined ? 'must not be null' : undefined);
    },
  },
  NotEmpty: {
    usage: '@NotEmpty',
    types: SIZED_TYPES,
    build: (args) => {
      noArgs('NotEmpty', args);
      return (v) => {
        const n = sizeOf(v);
        return n === undefined ? '@NotEmpty applies to strings, arrays and maps' : n === 0 ? 'must not be empty' : undefined;
      };
    },
  },
  NotBlank: {
    usage: '@NotBlank',
    types: ['STRING'],
    build: (args) => {
      noArgs('NotBlank', args);
      return (v) => (typeof v !== 'string' ? '@NotBlank applies to strings' : v.trim() === '' ? 'must not be blank' : undefined);
    },
  },
  Positive: sign('Positive', (c) => c > 0, 'greater than 0'),
  PositiveOrZero: sign('PositiveOrZero', (c) => c >= 0, 'greater than or equal to 0'),
  Negative: sign('Negative', (c) => c < 0, 'less than 0'),
  NegativeOrZero: sign('NegativeOrZero', (c) => c <= 0, 'less than or equal to 0'),
  Min: {
    usage: '@Min(n)',
    types: NUMBER_TYPES,
    build: (args) => {
      const b = bound('Min', args);
      return (v) => (!isNumber(v) ? '@Min applies to numbers' : compareTo(v, b) < 0 ? `must be greater than or equal to ${b}` : undefined);
    },
  },
  Max: {
    usage: '@Max(n)',
    types: NUMBER_TYPES,
    build: (args) => {
      const b = bound('Max', args);
      return (v) => (!isNumber(v) ? '@Max applies to numbers' : compareTo(v, b) > 0 ? `must be less than or equal to ${b}` : undefined);
    },
  },
  Size: {
    usage: '@Size(min = a, max = b)',
    types: SIZED_TYPES,
    build: (args) => {
      const unknown = [...args.named.keys()].filter((k) => k !== 'min' && k !== 'max');
      if (args.positional.length > 0 || unknown.length > 0 || args.named.size === 0) {
        throw new ValidatorSyntaxError('@Size takes min and/or max by name, as in @Size(min = 1, max = 10)');
      }
      const min = sizeLimit(args, 'min');
      const max = sizeLimit(args, 'max');
      if (min !== undefined && max !== undefined && min > max) throw new ValidatorSyntaxError(`@Size min ${min} is greater than max ${max}`);
      return (v) => {
        const n = sizeOf(v);
        if (n === undefined) return '@Size applies to strings, arrays and maps';
        if ((min !== undefined && n < min) || (max !== undefined && n > max)) {
          return `size must be ${min !== undefined && max !== undefined ? `between ${min} and ${max}` : min !== undefined ? `at least ${min}` : `at most ${max}`}, is ${n}`;
        }
        return undefined;
      };
    },
  },
  Pattern: {
    usage: '@Pattern("regexp")',
    types: ['STRING'],
    build: (args) => {
      const source = args.positional.length === 1 && args.named.size === 0 ? args.positional[0] : args.named.size === 1 ? args.named.get('regexp') : undefined;
      if (source === undefined) throw new ValidatorSyntaxError('@Pattern needs one regular expression, as in @Pattern("[a-z]+") or @Pattern(regexp = "[a-z]+")');
      let re: JavaPattern;
      try {
        // Java regex syntax on a linear-time engine (a value cannot make the check backtrack);
        // Bean Validation matches the whole value, not a part of it.
        re = javaRegex(source);
      } catch (e) {
        throw new ValidatorSyntaxError(`@Pattern: ${(e as Error).message}`);
      }
      return (v) => (typeof v !== 'string' ? '@Pattern applies to strings' : re.matchesWhole(v) ? undefined : `must match ${source}`);
    },
  },
};

/** Every annotation Baton checks, as written in a validator (for docs and error messages). */
export const SUPPORTED_ANNOTATIONS: readonly string[] = Object.values(ANNOTATIONS).map((a) => a.usage);

/** True when the validator text is the annotation form rather than SEL. */
export function isAnnotationValidator(text: string): boolean {
  return text.trim().startsWith('@');
}

interface ParsedAnnotation {
  name: string;
  check: Check;
  types?: readonly ParamType[];
}

/**
 * Splits `a, b = "x, y"` at top-level commas. Quoted arguments lose their quotes; inside them a
 * backslash before a quote or a backslash escapes it (as in Java), any other one stays (`\d`).
 */
function parseArgs(name: string, text: string): AnnotationArgs {
  const args: AnnotationArgs = { positional: [], named: new Map() };
  const item = /\s*(?:([A-Za-z_]\w*)\s*=\s*)?("(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|[^,"']+?)\s*(,|$)/y;
  let at = 0;
  if (text.trim() === '') return args;
  while (at < text.length) {
    item.lastIndex = at;
    const m = item.exec(text);
    if (!m || m[0] === '') throw new ValidatorSyntaxError(`@${name}: cannot read the arguments (${text})`);
    const raw = m[2]!;
    const value = raw.startsWith('"') || raw.startsWith("'") ? raw.slice(1, -1).replace(/\\(["'\\])/g, '$1') : raw.trim();
    if (m[1] !== undefined) {
      if (args.named.has(m[1])) throw new ValidatorSyntaxError(`@${name}: ${m[1]} is given twice`);
      args.named.set(m[1], value);
    } else args.positional.push(value);
    at = item.lastIndex;
    if (m[3] === '') break;
  }
  return args;
}

/** Reads `@A @B(args), @C`; throws ValidatorSyntaxError naming what is wrong. */
function parseAnnotations(text: string): ParsedAnnotation[] {
  const out: ParsedAnnotation[] = [];
  let at = 0;
  const s = text.trim();
  while (at < s.length) {
    while (at < s.length && /[\s,]/.test(s[at]!)) at++;
    if (at >= s.length) break;
    if (s[at] !== '@') throw new ValidatorSyntaxError(`expected an annotation such as @NotNull at "${s.slice(at, at + 20)}"`);
    const name = /^@([A-Za-z_]\w*)/.exec(s.slice(at))?.[1];
    if (!name) throw new ValidatorSyntaxError(`an annotation name must follow '@' at "${s.slice(at, at + 20)}"`);
    at += name.length + 1;
    const spec = ANNOTATIONS[name];
    if (!spec) throw new ValidatorSyntaxError(`unknown validator annotation @${name}; supported: ${SUPPORTED_ANNOTATIONS.join(', ')}`);
    let argText = '';
    while (at < s.length && /\s/.test(s[at]!)) at++;
    if (s[at] === '(') {
      const close = closingParen(s, at);
      if (close < 0) throw new ValidatorSyntaxError(`@${name}: missing ')'`);
      argText = s.slice(at + 1, close);
      at = close + 1;
    }
    out.push({ name, check: spec.build(parseArgs(name, argText), name), types: spec.types });
  }
  if (out.length === 0) throw new ValidatorSyntaxError('an annotation validator needs at least one annotation, such as @NotNull');
  return out;
}

function closingParen(s: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === ')') return i;
  }
  return -1;
}

const parsedCache = new Map<string, ParsedAnnotation[]>();

function annotationsOf(text: string): ParsedAnnotation[] {
  let parsed = parsedCache.get(text);
  if (!parsed) {
    parsed = parseAnnotations(text);
    if (parsedCache.size > 1000) parsedCache.clear();
    parsedCache.set(text, parsed);
  }
  return parsed;
}

/**
 * What is wrong with an annotation validator for a param of `type` (unknown annotation, bad
 * arguments, an annotation that cannot apply to the type), or undefined when it is usable. SEL
 * validators are checked by the SEL compiler instead.
 */
export function annotationValidatorProblem(text: string, type: ParamType | undefined): string | undefined {
  let parsed: ParsedAnnotation[];
  try {
    parsed = parseAnnotations(text);
  } catch (e) {
    return (e as Error).message;
  }
  if (type === undefined) return undefined;
  const misfit = parsed.find((a) => a.types && !a.types.includes(type));
  return misfit ? `@${misfit.name} does not apply to a ${type} param (it applies to ${misfit.types!.join(', ')})` : undefined;
}

// Maestro's samples write `param.size()` for array params, as for a Java list; SEL arrays have a
// `length` field instead, so the validator program reads it as that.
const SIZE_CALL = /\bparam\s*\.\s*size\s*\(\s*\)/g;

const NO_HOST: ParamsHost = {
  get: () => undefined,
  containsKey: () => false,
  getFromStep: () => undefined,
  getFromInstance: () => undefined,
  extension: () => undefined,
};

/**
 * Checks one evaluated param value against its validator. Returns undefined when the value
 * passes, else a message naming the value, the validator and why: a false result, a SEL error, or
 * a failed annotation. A SEL validator may read other params by name through `other`.
 */
export async function validatorFailure(
  sel: ExpressionPort,
  validator: string,
  value: ParamValue,
  host: ParamsHost = NO_HOST,
  other: (name: string) => ParamValue | undefined | Promise<ParamValue | undefined> = () => undefined,
): Promise<string | undefined> {
  const shown = `value ${showValue(value)} fails validator ${JSON.stringify(validator)}`;
  if (isAnnotationValidator(validator)) {
    let parsed: ParsedAnnotation[];
    try {
      parsed = annotationsOf(validator);
    } catch (e) {
      return `${shown}: ${(e as Error).message}`;
    }
    for (const a of parsed) {
      const why = a.check(value);
      if (why) return `${shown}: ${why}`;
    }
    return undefined;
  }
  const source = Array.isArray(value) ? validator.replace(SIZE_CALL, 'param.length') : validator;
  let result: unknown;
  try {
    const compiled = sel.compile(source);
    const vars: Record<string, ParamValue> = Object.create(null) as Record<string, ParamValue>;
    for (const n of compiled.names) {
      const v = n === 'param' ? value : await other(n);
      if (v !== undefined) vars[n] = v;
    }
    result = await compiled.evaluate(vars, host);
  } catch (e) {
    return `${shown}: ${(e as Error).message}`;
  }
  if (result === true) return undefined;
  if (result === false) return shown;
  return `${shown}: a validator must evaluate to true or false, got ${showValue(result as ParamValue)}`;
}

let plainSel: ExpressionPort | undefined;

/**
 * Whether a validator needs nothing but the value: annotations, and SEL reading only `param`.
 * Others (reading other params or `params.*`) wait for the run, where those are known.
 */
function selfContained(sel: ExpressionPort | undefined, validator: string): boolean {
  if (isAnnotationValidator(validator)) return true;
  try {
    const compiled = (sel ?? (plainSel ??= selExpressionPort(() => []))).compile(validator);
    return !compiled.readsParams && compiled.names.every((n) => n === 'param');
  } catch {
    // A validator that does not compile fails when checked; let the check report it.
    return true;
  }
}

/**
 * Checks the params a start request gives against the validators of the workflow params they set,
 * so a bad request is refused before an instance exists. Returns the first failure as
 * `param <name>: <why>`, or undefined. Params left to their definitions, and validators that read
 * other params, are checked when the run evaluates them. Without `sel`, SEL validators run on
 * `@baton/sel` without extensions.
 */
export async function runParamsFailure(sel: ExpressionPort | undefined, defs: ParamDefMap, given: Readonly<Record<string, { value: ParamValue }>>): Promise<string | undefined> {
  for (const [name, tv] of Object.entries(given)) {
    const validator = Object.hasOwn(defs, name) ? defs[name]?.validator : undefined;
    if (validator === undefined || !selfContained(sel, validator)) continue;
    const why = await validatorFailure(sel ?? (plainSel ??= selExpressionPort(() => [])), validator, tv.value);
    if (why) return `param ${name}: ${why}`;
  }
  return undefined;
}

/** A short, readable rendering of a param value for error messages. */
export function showValue(value: ParamValue | null | undefined): string {
  if (value === null || value === undefined) return 'null';
  const text = JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? (Number.isSafeInteger(Number(v)) ? Number(v) : v.toString()) : v));
  return text.length > 200 ? `${text.slice(0, 199)}…` : text;
}
