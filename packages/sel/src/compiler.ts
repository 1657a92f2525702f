import { SelError, limitError } from './errors.js';
import type { Expr, Pos, ProgramAst, Stmt } from './syntax/ast.js';
import { LONG_LITERAL_LIMIT } from './syntax/ast-build.js';
import { HOST_DECLARED_TYPES, findIn, hasConstructor, regexLiteralError, staticClass } from './runtime/library.js';
import { callMethod, callStatic, classRef, construct, invoke, PARAMS, paramsGet, readField, readIndex, type ClassRef } from './runtime/members.js';
import { add, arith, compare, equals, negate, plus, typeError } from './runtime/operators.js';
import { UNSET, type EvalState } from './runtime/state.js';
import { SelArray, declaredType, defaultElement, elementTypeOf, javaString, newArray, typeOf, type ElementType, type Value } from './runtime/values.js';

export type Ev = (s: EvalState) => Value;
/** Statement completion: how control leaves a statement. */
export const NORMAL = 0, BREAK = 1, CONTINUE = 2, RETURN = 3;
export type Ex = (s: EvalState) => number;

export interface CompiledProgram {
  run: Ex;
  slotNames: string[];
  /** Input variables the program reads by name (and keys it reads through `params`). */
  inputNames: Set<string>;
  readsParams: boolean;
  /** Largest operand stack an expression needs, and where. */
  stackNeed: number;
  stackPos: Pos;
  /** Whether a statement stores into a variable slot (a declaration or an assignment to a name). */
  writesSlots: boolean;
}

/** Attaches the place of the failing code to an error raised without one. */
export function locate(e: unknown, pos: Pos): unknown {
  if (e instanceof SelError && e.line === 0) {
    e.line = pos.line;
    e.column = pos.column;
  }
  return e;
}

const ASSIGN_OPS = { '+=': '+', '-=': '-', '*=': '*', '/=': '/', '%=': '%' } as const;

/** Can a value of runtime type `v` be stored where `t` is declared? Returns the value to store. */
function coerce(t: string, v: Value, what: string): Value {
  if (v === null) return v;
  switch (t) {
    case 'LONG':
      if (typeof v === 'bigint') return v;
      break;
    case 'DOUBLE':
      if (typeof v === 'number') return v;
      if (typeof v === 'bigint') return Number(v);
      break;
    case 'STRING':
      if (typeof v === 'string') return v;
      break;
    case 'BOOLEAN':
      if (typeof v === 'boolean') return v;
      break;
    default:
      if (typeOf(v) === t) return v;
  }
  throw typeError(`type mismatch: ${what} is ${t}, cannot assign ${typeOf(v)}`);
}

function logicOperandError(op: string, v: Value): SelError {
  return typeError(`operator '${op}' needs BOOLEAN operands, got ${typeOf(v)}`);
}

function coerceElement(et: ElementType, v: Value): Value {
  return coerce(et, v, `an element of ${et}_ARRAY`);
}

class Compiler {
  /** Slot names in slot order. */
  readonly slotNames: string[] = [];
  /** Slot by name once there are many; a few are searched in `slotNames` (no map to build). */
  private slotMap: Map<string, number> | undefined;
  /** Names assigned or declared somewhere (created on first use: many programs have none). */
  private assignedNames: Set<string> | undefined;
  /** Names declared with a type: they never read an input variable. */
  declared: Set<string> | undefined;
  readonly inputNames = new Set<string>();
  readsParams = false;
  writesSlots = false;
  stackNeed = 0;
  stackPos: Pos = { line: 1, column: 1, offset: 0 };
  private loopDepth = 0;

  /** Whether `collect` has run: only a call on a name or a read of `params` needs it. */
  private collected = false;

  constructor(
    private readonly body: Stmt[],
    /** The names the parser recorded as declared or assigned, if it did. */
    private readonly recorded: string[] | undefined,
  ) {}

  private isAssigned(name: string): boolean {
    // A short list is searched as it is; a longer one becomes a set once.
    if (this.recorded !== undefined && this.recorded.length <= 16) return this.recorded.includes(name);
    if (!this.collected) {
      this.collected = true;
      if (this.recorded !== undefined) {
        this.assignedNames = new Set(this.recorded);
        return this.assignedNames.has(name);
      }
      this.collect(this.body);
    }
    return this.assignedNames !== undefined && this.assignedNames.has(name);
  }

  /** The slot of a name, or -1 when it has none yet. */
  private slotOf(name: string): number {
    return this.slotMap !== undefined ? (this.slotMap.get(name) ?? -1) : this.slotNames.indexOf(name);
  }

  slot(name: string): number {
    let i = this.slotOf(name);
    if (i < 0) {
      i = this.slotNames.length;
      this.slotNames.push(name);
      if (this.slotMap !== undefined) this.slotMap.set(name, i);
      else if (i >= 16) this.slotMap = new Map(this.slotNames.map((n, k) => [n, k]));
    }
    return i;
  }

  /** Which names are locals (assigned or declared anywhere in the program), found on first need. */
  private collect(stmts: Stmt[]): void {
    for (const st of stmts) this.collectStmt(st);
  }

  private collectExpr(e: Expr | null): void {
    if (!e) return;
    switch (e.k) {
      case 'assign':
        if (e.target.k === 'name') (this.assignedNames ??= new Set()).add(e.target.name);
        this.collectExpr(e.target);
        return this.collectExpr(e.value);
      case 'unary':
        return this.collectExpr(e.arg);
      case 'binary':
        this.collectExpr(e.left);
        return this.collectExpr(e.right);
      case 'cond':
        this.collectExpr(e.test);
        this.collectExpr(e.then);
        return this.collectExpr(e.otherwise);
      case 'field':
        return this.collectExpr(e.object);
      case 'call':
        this.collectExpr(e.object);
        for (const a of e.args) this.collectExpr(a);
        return;
      case 'index':
        this.collectExpr(e.object);
        return this.collectExpr(e.index);
      case 'new':
        for (const a of e.args) this.collectExpr(a);
        return;
      case 'newArray':
        this.collectExpr(e.size);
        if (e.init) for (const a of e.init) this.collectExpr(a);
        return;
      default:
        return;
    }
  }

  private collectStmt(st: Stmt | null): void {
    if (!st) return;
    switch (st.k) {
      case 'expr':
        return this.collectExpr(st.expr);
      case 'decl':
        for (const d of st.decls) {
          (this.assignedNames ??= new Set()).add(d.name);
          (this.declared ??= new Set()).add(d.name);
          this.collectExpr(d.init);
        }
        return;
      case 'block':
        for (const x of st.body) this.collectStmt(x);
        return;
      case 'if':
        this.collectExpr(st.test);
        this.collectStmt(st.then);
        return this.collectStmt(st.otherwise);
      case 'while':
        this.collectExpr(st.test);
        return this.collectStmt(st.body);
      case 'for':
        this.collectStmt(st.init);
        this.collectExpr(st.test);
        this.collectExpr(st.update);
        return this.collectStmt(st.body);
      case 'return':
      case 'throw':
        return this.collectExpr(st.value);
      default:
        return;
    }
  }

  private need(n: number, pos: Pos): void {
    if (n > this.stackNeed) {
      this.stackNeed = n;
      this.stackPos = pos;
    }
  }

  // ---- statements ----

  block(stmts: Stmt[]): Ex {
    const parts: Ex[] = [];
    for (const st of stmts) if (st.k !== 'empty') parts.push(this.stmt(st));
    if (parts.length === 1) return parts[0]!;
    const n = parts.length;
    if (n === 2) {
      const [a, b] = parts as [Ex, Ex];
      return (s) => {
        const r = a(s);
        return r !== NORMAL ? r : b(s);
      };
    }
    return (s) => {
      for (let i = 0; i < n; i++) {
        const r = parts[i]!(s);
        if (r !== NORMAL) return r;
      }
      return NORMAL;
    };
  }

  stmt(st: Stmt): Ex {
    switch (st.k) {
      case 'expr': {
        const ev = this.expr(st.expr, 0);
        return (s) => {
          s.step();
          s.last = ev(s);
          return NORMAL;
        };
      }
      case 'decl':
        return this.decl(st);
      case 'block':
        return this.block(st.body);
      case 'empty':
        return () => NORMAL;
      case 'if': {
        const test = this.cond(st.test, 'if condition');
        const then = this.stmt(st.then);
        const otherwise = st.otherwise ? this.stmt(st.otherwise) : null;
        return (s) => {
          s.step();
          const r = test(s) ? then(s) : otherwise ? otherwise(s) : NORMAL;
          s.last = undefined;
          return r;
        };
      }
      case 'while':
        return this.loop(null, st.test, null, st.body, st.pos);
      case 'for':
        return this.loop(st.init, st.test, st.update, st.body, st.pos);
      case 'break':
      case 'continue': {
        if (this.loopDepth === 0) throw new SelError('syntax', `'${st.k}' outside of a loop`, st.pos.line, st.pos.column);
        const code = st.k === 'break' ? BREAK : CONTINUE;
        return (s) => {
          s.step();
          return code;
        };
      }
      case 'return': {
        const ev = st.value ? this.expr(st.value, 0) : null;
        return (s) => {
          s.step();
          s.returned = ev ? ev(s) : undefined;
          return RETURN;
        };
      }
      case 'throw': {
        const ev = this.expr(st.value, 0);
        const pos = st.pos;
        return (s) => {
          s.step();
          const v = ev(s);
          throw new SelError('user', javaString(v), pos.line, pos.column);
        };
      }
    }
  }

  private cond(e: Expr, what: string): (s: EvalState) => boolean {
    const ev = this.expr(e, 0);
    const pos = e.pos;
    return (s) => {
      const v = ev(s);
      if (v === true) return true;
      if (v === false) return false;
      throw locate(typeError(`${what} must be BOOLEAN, got ${typeOf(v)}`), pos);
    };
  }

  private loop(init: Stmt | null, testE: Expr | null, updateE: Expr | null, bodyS: Stmt, pos: Pos): Ex {
    const initX = init ? this.stmt(init) : null;
    const test = testE ? this.cond(testE, 'loop condition') : null;
    const update = updateE ? this.expr(updateE, 0) : null;
    const counted = countedLoop(testE, updateE);
    if (counted !== null && test !== null && update !== null) {
      // A body that is one expression statement (`{ s += i; }`) is run by the loop itself: one
      // call less per iteration.
      const only = onlyExpression(bodyS);
      this.loopDepth++;
      const body = only ? this.expr(only, 0) : this.stmt(bodyS);
      this.loopDepth--;
      return this.countedLoop(counted, initX, test, update, only ? null : (body as Ex), only ? body : null, pos);
    }
    this.loopDepth++;
    const body = this.stmt(bodyS);
    this.loopDepth--;
    return (s) => {
      if (initX) initX(s);
      const limit = s.loopLimit;
      let n = 0;
      for (;;) {
        s.step();
        if (test && !test(s)) break;
        if (++n >= limit) {
          const e = limitError('loop iterations', limit);
          throw locate(e, pos);
        }
        const r = body(s);
        if (r === BREAK) break;
        if (r === RETURN) return r;
        if (update) update(s);
      }
      s.last = undefined;
      return NORMAL;
    };
  }

  /**
   * `for (...; i < N; i += K)` with LONG literals N and K: while `i` holds a LONG, the test and
   * the update are done here on the slot, without the closures of the general loop; any other
   * value goes through those closures, so types and errors stay exactly the same.
   */
  /** `body` runs a statement; `bodyExpr` instead evaluates an expression statement's expression. */
  private countedLoop(c: CountedLoop, initX: Ex | null, test: (s: EvalState) => boolean, update: Ev, body: Ex | null, bodyExpr: Ev | null, pos: Pos): Ex {
    const i = this.slot(c.name);
    this.writesSlots = true;
    const { bound, step, cmp } = c;
    return (s) => {
      if (initX) initX(s);
      const limit = s.loopLimit;
      const slots = s.slots;
      let n = 0;
      for (;;) {
        s.step();
        const v = slots[i];
        if (typeof v === 'bigint') {
          if (!(cmp === LT ? v < bound : cmp === LE ? v <= bound : cmp === GT ? v > bound : v >= bound)) break;
        } else if (!test(s)) break;
        if (++n >= limit) throw locate(limitError('loop iterations', limit), pos);
        if (bodyExpr !== null) {
          // The statement's value is not kept: the loop leaves `last` unset when it ends.
          s.step();
          bodyExpr(s);
        } else {
          const r = body!(s);
          if (r === BREAK) break;
          if (r === RETURN) return r;
        }
        const u = slots[i];
        if (typeof u === 'bigint' && s.slotTypes[i] === 'LONG') slots[i] = BigInt.asIntN(64, u + step);
        else update(s);
      }
      s.last = undefined;
      return NORMAL;
    };
  }

  private decl(st: Extract<Stmt, { k: 'decl' }>): Ex {
    this.writesSlots = true;
    const t = declaredType(st.typeName, st.isArray, HOST_DECLARED_TYPES);
    if (t === undefined) {
      const what = st.isArray ? `${st.typeName}[]` : st.typeName;
      throw new SelError('name', `unknown type '${what}'`, st.pos.line, st.pos.column);
    }
    const parts = st.decls.map((d) => {
      (this.declared ??= new Set()).add(d.name);
      const i = this.slot(d.name);
      if (d.name === 'params') throw new SelError('name', "'params' is read-only", d.pos.line, d.pos.column);
      if (!d.init) {
        return (s: EvalState) => {
          s.slots[i] = null;
          s.slotTypes[i] = t;
        };
      }
      const lit = d.init.k === 'lit' ? d.init : null;
      if (lit && lit.type !== 'NULL' && !(lit.type === t || (t === 'DOUBLE' && lit.type === 'LONG'))) {
        throw new SelError('type', `type mismatch: '${d.name}' is declared ${t}, cannot assign ${lit.type}`, d.pos.line, d.pos.column);
      }
      const ev = this.expr(d.init, 1);
      const pos = d.pos;
      const what = `'${d.name}'`;
      return (s: EvalState) => {
        const v = ev(s);
        let stored: Value;
        try {
          stored = coerce(t, v, what);
        } catch (e) {
          throw locate(e, pos);
        }
        s.slots[i] = stored;
        s.slotTypes[i] = t;
      };
    });
    return (s) => {
      s.step();
      for (const p of parts) p(s);
      s.last = undefined;
      return NORMAL;
    };
  }

  // ---- expressions ----

  /** Compiles an expression; `base` is how many values are already on the operand stack. */
  /** How deeply the expression being compiled nests (its closures nest as deeply when it runs). */
  private exprDepth = 0;

  expr(e: Expr, base: number): Ev {
    if (++this.exprDepth > MAX_EXPRESSION_DEPTH) {
      const { line, column } = e.pos;
      throw new SelError('limit', `expression too deeply nested at line ${line}, column ${column}: more than ${MAX_EXPRESSION_DEPTH} operations inside one another`, line, column);
    }
    // No finally: an error ends the whole compilation, and this compiler with it.
    const ev = this.exprAt(e, base);
    this.exprDepth--;
    return ev;
  }

  private exprAt(e: Expr, base: number): Ev {
    switch (e.k) {
      case 'lit': {
        this.need(base + 1, e.pos);
        if (e.value === LONG_LITERAL_LIMIT) {
          throw new SelError('syntax', 'integer literal out of range: 9223372036854775808 is larger than the largest LONG, 9223372036854775807 (only -9223372036854775808 may be written)', e.pos.line, e.pos.column);
        }
        const v = e.value as Value;
        return () => v;
      }
      case 'name':
        this.need(base + 1, e.pos);
        return this.name(e.name);
      case 'unary': {
        const arg = this.expr(e.arg, base);
        const pos = e.pos;
        if (e.op === '!') {
          return (s) => {
            const v = arg(s);
            if (typeof v === 'boolean') return !v;
            throw locate(typeError(`operator '!' cannot be applied to ${typeOf(v)}`), pos);
          };
        }
        const f = e.op === '-' ? negate : plus;
        return (s) => {
          try {
            return f(arg(s));
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      case 'binary':
        return this.binary(e, base);
      case 'cond': {
        const test = this.cond(e.test, 'condition of ?:');
        const a = this.expr(e.then, base);
        const b = this.expr(e.otherwise, base);
        return (s) => (test(s) ? a(s) : b(s));
      }
      case 'assign':
        return this.assign(e, base);
      case 'field':
        return this.field(e, base);
      case 'call':
        return this.call(e, base);
      case 'index': {
        const obj = this.expr(e.object, base);
        const idx = this.expr(e.index, base + 1);
        const pos = e.pos;
        return (s) => {
          const o = obj(s);
          const i = idx(s);
          if (o instanceof SelArray && typeof i === 'bigint' && i >= 0n && i < o.items.length) return o.items[Number(i)] as Value;
          try {
            return readIndex(s, o, i);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      case 'new': {
        if (e.className !== 'Map' && e.className !== 'HashMap' && !hasConstructor(e.className)) {
          const known = staticClass(e.className) !== undefined || Object.hasOwn(HOST_DECLARED_TYPES, e.className);
          throw new SelError('name', known ? `class ${e.className} cannot be constructed with new` : `unknown class '${e.className}'`, e.pos.line, e.pos.column);
        }
        this.need(base + 1, e.pos);
        const args = this.exprs(e.args, base);
        const name = e.className;
        const pos = e.pos;
        return (s) => {
          const vals = args.map((a) => a(s));
          s.step();
          try {
            return construct(s, name, vals);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      case 'newArray':
        return this.newArray(e, base);
    }
  }

  /** Compiles a list of expressions whose values are stacked one after the other from `base`. */
  private exprs(list: Expr[], base: number): Ev[] {
    const out: Ev[] = new Array<Ev>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = this.expr(list[i]!, base + i);
    return out;
  }

  private name(name: string): Ev {
    if (name === 'params' && !this.isAssigned('params')) {
      this.readsParams = true;
      return () => PARAMS;
    }
    const i = this.slot(name);
    const cls = classRef(name);
    if (!cls) this.inputNames.add(name);
    const fallback = fallbackOf(name);
    return (s) => {
      const v = s.slots[i]!;
      return v === UNSET ? fallback : v;
    };
  }

  /** The slot an already compiled name expression reads, or -1 when it is not a plain slot read. */
  private slotRead(e: Expr): number {
    if (e.k !== 'name' || e.name === 'params') return -1;
    return this.slotOf(e.name);
  }

  private binary(e: Extract<Expr, { k: 'binary' }>, base: number): Ev {
    const l = this.expr(e.left, base);
    const r = this.expr(e.right, base + 1);
    const pos = e.pos;
    switch (e.op) {
      case '&&':
      case '||': {
        const op = e.op;
        if (op === '&&') {
          return (s) => {
            const a = l(s);
            if (a === false) return false;
            if (a !== true) throw locate(logicOperandError(op, a), pos);
            const b = r(s);
            if (typeof b === 'boolean') return b;
            throw locate(logicOperandError(op, b), pos);
          };
        }
        return (s) => {
          const a = l(s);
          if (a === true) return true;
          if (a !== false) throw locate(logicOperandError(op, a), pos);
          const b = r(s);
          if (typeof b === 'boolean') return b;
          throw locate(logicOperandError(op, b), pos);
        };
      }
      case '+':
        return (s) => {
          const a = l(s);
          const b = r(s);
          if (typeof a === 'bigint' && typeof b === 'bigint') return BigInt.asIntN(64, a + b);
          try {
            return add(s, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      case '-':
      case '*':
      case '/':
      case '%': {
        const op = e.op;
        if (op === '-') {
          return (s) => {
            const a = l(s);
            const b = r(s);
            if (typeof a === 'bigint' && typeof b === 'bigint') return BigInt.asIntN(64, a - b);
            try {
              return arith(op, a, b);
            } catch (err) {
              throw locate(err, pos);
            }
          };
        }
        return (s) => {
          const a = l(s);
          const b = r(s);
          try {
            return arith(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
      case '<':
      case '>':
      case '<=':
      case '>=': {
        const op = e.op;
        // Two LONGs are compared here; anything else (DOUBLEs, mixed, errors) by `compare`.
        const slow = (a: Value, b: Value): boolean => {
          try {
            return compare(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        };
        if (op === '<') {
          return (s) => {
            const a = l(s);
            const b = r(s);
            return typeof a === 'bigint' && typeof b === 'bigint' ? a < b : slow(a, b);
          };
        }
        if (op === '>') {
          return (s) => {
            const a = l(s);
            const b = r(s);
            return typeof a === 'bigint' && typeof b === 'bigint' ? a > b : slow(a, b);
          };
        }
        if (op === '<=') {
          return (s) => {
            const a = l(s);
            const b = r(s);
            return typeof a === 'bigint' && typeof b === 'bigint' ? a <= b : slow(a, b);
          };
        }
        return (s) => {
          const a = l(s);
          const b = r(s);
          return typeof a === 'bigint' && typeof b === 'bigint' ? a >= b : slow(a, b);
        };
      }
      case '==':
      case '!=': {
        const neg = e.op === '!=';
        return (s) => {
          const a = l(s);
          const b = r(s);
          if (typeof a === 'string' && typeof b === 'string') return (a === b) !== neg;
          try {
            return equals(a, b) !== neg;
          } catch (err) {
            throw locate(err, pos);
          }
        };
      }
    }
  }

  private assign(e: Extract<Expr, { k: 'assign' }>, base: number): Ev {
    const pos = e.pos;
    const op = e.op === '=' ? null : ASSIGN_OPS[e.op];
    if (e.target.k === 'name') {
      const name = e.target.name;
      if (name === 'params') throw new SelError('name', "'params' is read-only", e.target.pos.line, e.target.pos.column);
      this.writesSlots = true;
      const i = this.slot(name);
      const value = this.expr(e.value, base + 1);
      const what = `'${name}'`;
      if (op === null) {
        return (s) => {
          const v = value(s);
          const t = s.slotTypes[i];
          let stored = v;
          if (t === undefined || t === 'NULL') s.slotTypes[i] = typeOf(v);
          else {
            try {
              stored = coerce(t, v, what);
            } catch (err) {
              throw locate(err, pos);
            }
          }
          s.slots[i] = stored;
          return stored;
        };
      }
      const cls = classRef(name);
      const fallback: Value = cls ? (cls as unknown as Value) : null;
      // `sum += x` with a variable: read it here rather than through its closure (loop bodies).
      const from = this.slotRead(e.value);
      const fromFallback = from < 0 ? null : fallbackOf((e.value as { name: string }).name);
      return (s) => {
        const slots = s.slots;
        const cur = slots[i]!;
        const a = cur === UNSET ? fallback : cur;
        let b: Value;
        if (from >= 0) {
          const x = slots[from]!;
          b = x === UNSET ? fromFallback : x;
        } else {
          b = value(s);
        }
        let v: Value;
        if ((op === '+' || op === '-') && typeof a === 'bigint' && typeof b === 'bigint') {
          v = BigInt.asIntN(64, op === '+' ? a + b : a - b);
          // Counters and sums in loops: a LONG variable stays LONG, nothing to check.
          if (s.slotTypes[i] === 'LONG') {
            s.slots[i] = v;
            return v;
          }
        } else {
          try {
            v = op === '+' ? add(s, a, b) : arith(op, a, b);
          } catch (err) {
            throw locate(err, pos);
          }
        }
        const t = s.slotTypes[i];
        if (t === undefined || t === 'NULL') s.slotTypes[i] = typeOf(v);
        else if (typeof v !== 'bigint' || t !== 'LONG') {
          try {
            v = coerce(t, v, what);
          } catch (err) {
            throw locate(err, pos);
          }
        }
        s.slots[i] = v;
        return v;
      };
    }
    if (e.target.k !== 'index') throw new SelError('syntax', 'invalid assignment target', pos.line, pos.column);
    const obj = this.expr(e.target.object, base);
    const idx = this.expr(e.target.index, base + 1);
    const value = this.expr(e.value, base + 2);
    return (s) => {
      const o = obj(s);
      const i = idx(s);
      const b = value(s);
      try {
        if (!(o instanceof SelArray)) {
          if (o === null) throw typeError('cannot assign to an element of NULL');
          throw typeError(`cannot assign to an element of ${typeOf(o)}${o instanceof Map ? ' (use put)' : ''}`);
        }
        if (typeof i !== 'bigint') throw typeError(`array index must be LONG, got ${typeOf(i)}`);
        if (i < 0n || i >= o.items.length) throw new SelError('runtime', `array index ${i} out of bounds for length ${o.items.length}`);
        const at = Number(i);
        const v = op === null ? b : op === '+' ? add(s, o.items[at] as Value, b) : arith(op, o.items[at] as Value, b);
        const stored = coerceElement(o.elementType, v);
        o.items[at] = stored;
        return stored;
      } catch (err) {
        throw locate(err, pos);
      }
    };
  }

  private field(e: Extract<Expr, { k: 'field' }>, base: number): Ev {
    const pos = e.pos;
    const name = e.name;
    const obj = this.expr(e.object, base);
    return (s) => {
      const o = obj(s);
      if (o instanceof SelArray && name === 'length') return BigInt(o.items.length);
      try {
        return readField(o, name);
      } catch (err) {
        throw locate(err, pos);
      }
    };
  }

  private call(e: Extract<Expr, { k: 'call' }>, base: number): Ev {
    const pos = e.pos;
    const name = e.name;
    const argc = e.args.length;
    this.need(base + 1 + argc, pos);
    // `Class.method(...)` on a known class is bound once, unless a variable shadows the class.
    if (e.object.k === 'name' && !this.isAssigned(e.object.name) && e.object.name !== 'params') {
      const ref = classRef(e.object.name);
      if (ref) return this.staticCall(ref, e, base);
    }
    if (e.object.k === 'name' && e.object.name === 'params' && !this.isAssigned('params') && (name === 'get') && argc === 1 && e.args[0]!.k === 'lit' && typeof e.args[0]!.value === 'string') {
      this.readsParams = true;
      const key = e.args[0]!.value;
      this.inputNames.add(key);
      this.need(base + 2, pos);
      return (s) => paramsGet(s, key);
    }
    const first = e.args[0];
    if (first?.k === 'lit' && typeof first.value === 'string') {
      const bad = regexLiteralError(name, argc, first.value);
      if (bad !== undefined) throw new SelError('syntax', bad, first.pos.line, first.pos.column);
    }
    const obj = this.expr(e.object, base);
    const args = this.exprs(e.args, base + 1);
    return (s) => {
      const o = obj(s);
      const vals: Value[] = new Array<Value>(argc);
      for (let i = 0; i < argc; i++) vals[i] = args[i]!(s);
      s.step();
      try {
        return callMethod(s, o, name, vals);
      } catch (err) {
        throw locate(asSelError(err), pos);
      }
    };
  }

  private staticCall(ref: ClassRef, e: Extract<Expr, { k: 'call' }>, base: number): Ev {
    const pos = e.pos;
    const name = e.name;
    const argc = e.args.length;
    if (ref.name !== 'Util' && !(Object.hasOwn(ref.cls.methods, name))) {
      throw new SelError('name', `${ref.name} has no method '${name}'`, pos.line, pos.column);
    }
    const i = this.slot(ref.name);
    const args = this.exprs(e.args, base + 1);
    // Library methods are fixed: found once here. Without one, callStatic tries the host's Util
    // functions or names the error.
    const impl = findIn(ref.cls.methods, name, argc);
    return (s) => {
      const shadow = s.slots[i]!;
      const vals: Value[] = new Array<Value>(argc);
      for (let k = 0; k < argc; k++) vals[k] = args[k]!(s);
      s.step();
      try {
        if (shadow !== UNSET) return callMethod(s, shadow, name, vals);
        return impl !== undefined ? invoke(s, impl, undefined, vals) : callStatic(s, ref, name, vals);
      } catch (err) {
        throw locate(asSelError(err), pos);
      }
    };
  }

  private newArray(e: Extract<Expr, { k: 'newArray' }>, base: number): Ev {
    const et = elementTypeOf(e.elemType);
    const pos = e.pos;
    if (et === undefined) {
      throw new SelError('type', `arrays can hold only String, long, double or boolean values, not ${e.elemType}`, pos.line, pos.column);
    }
    if (e.init) {
      const n = e.init.length;
      this.need(base + 1 + n, pos);
      const items = this.exprs(e.init, base + 1);
      return (s) => {
        s.step();
        try {
          s.checkArrayLength(n);
          s.chargeMemory(n);
          const out: Value[] = new Array<Value>(n);
          for (let i = 0; i < n; i++) out[i] = coerceElement(et, items[i]!(s));
          return newArray(et, out);
        } catch (err) {
          throw locate(err, pos);
        }
      };
    }
    const size = this.expr(e.size!, base);
    this.need(base + 1, pos);
    return (s) => {
      const n = size(s);
      s.step();
      try {
        if (typeof n !== 'bigint') throw typeError(`array size must be LONG, got ${typeOf(n)}`);
        if (n < 0n) throw new SelError('runtime', `negative array size ${n}`);
        if (n >= BigInt(s.arrayLimit)) s.checkArrayLength(s.arrayLimit);
        const len = Number(n);
        s.checkArrayLength(len);
        s.chargeMemory(len);
        return newArray(et, new Array<Value>(len).fill(defaultElement(et)));
      } catch (err) {
        throw locate(err, pos);
      }
    };
  }
}

/** The expression of a statement that is one expression statement, possibly in a block. */
function onlyExpression(st: Stmt): Expr | null {
  if (st.k === 'expr') return st.expr;
  if (st.k !== 'block') return null;
  let found: Expr | null = null;
  for (const x of st.body) {
    if (x.k === 'empty') continue;
    if (x.k !== 'expr' || found !== null) return null;
    found = x.expr;
  }
  return found;
}

/** What a name reads while its slot is unset: the class of that name, else NULL. */
function fallbackOf(name: string): Value {
  const cls = classRef(name);
  return cls ? (cls as unknown as Value) : null;
}

const LT = 0, LE = 1, GT = 2, GE = 3;

interface CountedLoop {
  name: string;
  bound: bigint;
  /** Added by the update (already negated for `-=`). */
  step: bigint;
  cmp: number;
}

/** The test `name < LONG` (or <=, >, >=) and the update `name += LONG` (or -=) of one variable. */
function countedLoop(test: Expr | null, update: Expr | null): CountedLoop | null {
  if (test?.k !== 'binary' || update?.k !== 'assign') return null;
  const { left, right } = test;
  if (left.k !== 'name' || right.k !== 'lit' || right.type !== 'LONG' || left.name === 'params') return null;
  const cmp = test.op === '<' ? LT : test.op === '<=' ? LE : test.op === '>' ? GT : test.op === '>=' ? GE : -1;
  if (cmp < 0) return null;
  const { target, value } = update;
  if (target.k !== 'name' || target.name !== left.name || value.k !== 'lit' || value.type !== 'LONG') return null;
  if (update.op !== '+=' && update.op !== '-=') return null;
  const k = value.value as bigint;
  return { name: left.name, bound: right.value as bigint, step: update.op === '+=' ? k : -k, cmp };
}

/**
 * Operations one expression may nest (`1+1+...+1` nests one per `+`): evaluating it recurses as
 * deeply, so beyond this the JavaScript stack, not a SEL limit, would stop it.
 */
export const MAX_EXPRESSION_DEPTH = 1000;

/** Library code may fail with a plain JS error; it reaches the user as a runtime error. */
export function asSelError(err: unknown): unknown {
  if (err instanceof SelError) return err;
  if (err instanceof RangeError && /call stack/i.test(err.message)) return limitError('stack', 0, 'JavaScript stack exhausted');
  return new SelError('runtime', err instanceof Error ? err.message : String(err));
}

export function compileAst(ast: ProgramAst): CompiledProgram {
  const c = new Compiler(ast.body, ast.assigned);
  const run = c.block(ast.body);
  const inputNames = c.inputNames;
  if (c.declared !== undefined) for (const n of c.declared) inputNames.delete(n);
  return { run, slotNames: c.slotNames, inputNames, readsParams: c.readsParams, stackNeed: c.stackNeed, stackPos: c.stackPos, writesSlots: c.writesSlots };
}
