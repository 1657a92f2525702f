import { SelError, limitError } from '../errors.js';
import type { Expr, Pos, Stmt } from '../syntax/ast.js';
import { HOST_DECLARED_TYPES } from '../runtime/library.js';
import type { EvalState } from '../runtime/state.js';
import { declaredType, javaString, type Value } from '../runtime/values.js';
import { BREAK, CONTINUE, NORMAL, RETURN, coerce, locate, type Ev, type Ex } from './closures.js';
import type { CompileContext } from './context.js';
import { cond } from './expressions.js';

/**
 * Statements: blocks, declarations, `if`, loops (with a fast path for counted `for` loops),
 * `break`/`continue`, `return` and `throw`. Each compiles to an `Ex` closure that answers how
 * control leaves it.
 */

export function block(c: CompileContext, stmts: Stmt[]): Ex {
  // The parts into an array of their exact size (an empty array's first push makes room for
  // seventeen); one or two parts need none.
  let count = 0;
  for (let i = 0; i < stmts.length; i++) if (stmts[i]!.k !== 'empty') count++;
  const parts: Ex[] = new Array<Ex>(count);
  let k = 0;
  for (let i = 0; i < stmts.length; i++) {
    const st = stmts[i]!;
    if (st.k !== 'empty') parts[k++] = stmt(c, st);
  }
  if (count === 1) return parts[0]!;
  const n = count;
  if (n === 2) {
    const a = parts[0]!;
    const b = parts[1]!;
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

export function stmt(c: CompileContext, st: Stmt): Ex {
  switch (st.k) {
    case 'expr': {
      const ev = c.expr(st.expr, 0);
      return (s) => {
        s.step();
        s.last = ev(s);
        return NORMAL;
      };
    }
    case 'decl':
      return decl(c, st);
    case 'block':
      return block(c, st.body);
    case 'empty':
      return () => NORMAL;
    case 'if': {
      const test = cond(c, st.test, 'if condition');
      const then = stmt(c, st.then);
      const otherwise = st.otherwise ? stmt(c, st.otherwise) : null;
      return (s) => {
        s.step();
        const r = test(s) ? then(s) : otherwise ? otherwise(s) : NORMAL;
        s.last = undefined;
        return r;
      };
    }
    case 'while':
      return loop(c, null, st.test, null, st.body, st.pos);
    case 'for':
      return loop(c, st.init, st.test, st.update, st.body, st.pos);
    case 'break':
    case 'continue': {
      if (c.loopDepth === 0) throw new SelError('syntax', `'${st.k}' outside of a loop`, st.pos.line, st.pos.column);
      const code = st.k === 'break' ? BREAK : CONTINUE;
      return (s) => {
        s.step();
        return code;
      };
    }
    case 'return': {
      const ev = st.value ? c.expr(st.value, 0) : null;
      return (s) => {
        s.step();
        s.returned = ev ? ev(s) : undefined;
        return RETURN;
      };
    }
    case 'throw': {
      const ev = c.expr(st.value, 0);
      const pos = st.pos;
      return (s) => {
        s.step();
        const v = ev(s);
        throw new SelError('user', javaString(v), pos.line, pos.column);
      };
    }
  }
}

function loop(c: CompileContext, init: Stmt | null, testE: Expr | null, updateE: Expr | null, bodyS: Stmt, pos: Pos): Ex {
  const initX = init ? stmt(c, init) : null;
  const test = testE ? cond(c, testE, 'loop condition') : null;
  const update = updateE ? c.expr(updateE, 0) : null;
  const shape = countedLoop(testE, updateE);
  if (shape !== null && test !== null && update !== null) {
    // A body that is one expression statement (`{ s += i; }`) is run by the loop itself: one
    // call less per iteration.
    const only = onlyExpression(bodyS);
    c.loopDepth++;
    const body = only ? c.expr(only, 0) : stmt(c, bodyS);
    c.loopDepth--;
    return counted(c, shape, initX, test, update, only ? null : (body as Ex), only ? body : null, pos);
  }
  c.loopDepth++;
  const body = stmt(c, bodyS);
  c.loopDepth--;
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
function counted(c: CompileContext, loopOf: CountedLoop, initX: Ex | null, test: (s: EvalState) => boolean, update: Ev, body: Ex | null, bodyExpr: Ev | null, pos: Pos): Ex {
  const i = c.slot(loopOf.name);
  c.writesSlots = true;
  const { bound, step, cmp } = loopOf;
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

function decl(c: CompileContext, st: Extract<Stmt, { k: 'decl' }>): Ex {
  c.writesSlots = true;
  const t = declaredType(st.typeName, st.isArray, HOST_DECLARED_TYPES);
  if (t === undefined) {
    const what = st.isArray ? `${st.typeName}[]` : st.typeName;
    throw new SelError('name', `unknown type '${what}'`, st.pos.line, st.pos.column);
  }
  const parts = st.decls.map((d) => {
    c.addDeclared(d.name);
    const i = c.slot(d.name);
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
    const ev = c.expr(d.init, 1);
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
