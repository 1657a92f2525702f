import { SelError } from '../errors.js';
import type { Expr, Pos, Stmt } from '../syntax/ast.js';
import type { Ev } from './closures.js';

/**
 * Operations one expression may nest (`1+1+...+1` nests one per `+`): evaluating it recurses as
 * deeply, so beyond this the JavaScript stack, not a SEL limit, would stop it.
 */
export const MAX_EXPRESSION_DEPTH = 1000;

/**
 * What the compilation of one program knows as it goes: the variable slots, which names are
 * locals (found from the parser's record, or by walking the program once when it has none), the
 * operand stack the program needs, and how deeply loops and expressions nest.
 */
export class CompileContext {
  /** Slot names in slot order (the first makes an array of one: an empty array's first push makes room for seventeen). */
  slotNames: string[] = [];
  /** Slot by name once there are many; a few are searched in `slotNames` (no map to build). */
  private slotMap: Map<string, number> | undefined;
  /** Names assigned or declared somewhere (created on first use: many programs have none). */
  private assignedNames: Set<string> | undefined;
  /** Names declared with a type: they never read an input variable (a list: most programs declare few). */
  declared: string[] | undefined;
  /** Input variables read by name, in the order first read (see `addInput`; an array of one first, as `slotNames`). */
  inputNames: string[] = [];
  /** The same names as a set, once there are many. */
  private inputSet: Set<string> | undefined;
  readsParams = false;
  writesSlots = false;
  stackNeed = 0;
  stackPos: Pos = { line: 1, column: 1, offset: 0 };
  /** How many loops enclose the statement being compiled (`break` and `continue` need one). */
  loopDepth = 0;
  /** How deeply the expression being compiled nests (its closures nest as deeply when it runs). */
  private exprDepth = 0;

  /** Whether `collect` has run: only a call on a name or a read of `params` needs it. */
  private collected = false;

  constructor(
    private readonly body: Stmt[],
    /** The names the parser recorded as declared or assigned, if it did. */
    private readonly recorded: string[] | undefined,
    /** Compiles one expression (expressions.ts): calls and statements reach it through `expr`. */
    private readonly compileExpression: (c: CompileContext, e: Expr, base: number) => Ev,
  ) {}

  /** Records an input variable the program reads (each name once). */
  addInput(name: string): void {
    if (this.inputSet !== undefined) {
      if (this.inputSet.has(name)) return;
      this.inputSet.add(name);
    } else {
      if (this.inputNames.includes(name)) return;
      if (this.inputNames.length >= 32) this.inputSet = new Set(this.inputNames).add(name);
    }
    if (this.inputNames.length === 0) this.inputNames = [name];
    else this.inputNames.push(name);
  }

  /** Records a name declared with a type (an array of one first, as `slotNames`). */
  addDeclared(name: string): void {
    if (this.declared === undefined) this.declared = [name];
    else this.declared.push(name);
  }

  isAssigned(name: string): boolean {
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
  slotOf(name: string): number {
    return this.slotMap !== undefined ? (this.slotMap.get(name) ?? -1) : this.slotNames.indexOf(name);
  }

  slot(name: string): number {
    let i = this.slotOf(name);
    if (i < 0) {
      i = this.slotNames.length;
      if (i === 0) this.slotNames = [name];
      else this.slotNames.push(name);
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
          this.addDeclared(d.name);
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

  need(n: number, pos: Pos): void {
    if (n > this.stackNeed) {
      this.stackNeed = n;
      this.stackPos = pos;
    }
  }

  /** Compiles an expression; `base` is how many values are already on the operand stack. */
  expr(e: Expr, base: number): Ev {
    if (++this.exprDepth > MAX_EXPRESSION_DEPTH) {
      const { line, column } = e.pos;
      throw new SelError('limit', `expression too deeply nested at line ${line}, column ${column}: more than ${MAX_EXPRESSION_DEPTH} operations inside one another`, line, column);
    }
    // No finally: an error ends the whole compilation, and this context with it.
    const ev = this.compileExpression(this, e, base);
    this.exprDepth--;
    return ev;
  }

  /** Compiles a list of expressions whose values are stacked one after the other from `base`. */
  exprs(list: Expr[], base: number): Ev[] {
    const out: Ev[] = new Array<Ev>(list.length);
    for (let i = 0; i < list.length; i++) out[i] = this.expr(list[i]!, base + i);
    return out;
  }

  /** The slot an already compiled name expression reads, or -1 when it is not a plain slot read. */
  slotRead(e: Expr): number {
    if (e.k !== 'name' || e.name === 'params') return -1;
    return this.slotOf(e.name);
  }
}
