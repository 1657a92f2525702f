import type { TokenType } from 'chevrotain';
import type { AssignOperator, BinaryOperator, Declarator, Expr, Pos, ProgramAst, Stmt } from './ast.js';
import { PRECEDENCE, buildBinary, foldUnary, parseLong, unescapeJava, type BinaryOpAt } from './ast-build.js';
import * as T from './lexer.js';
import type { ScannedTokens } from './scanner.js';

/**
 * A recursive-descent parser for programs that are valid, building the same tree as the
 * Chevrotain parser in parser.ts (which stays the grammar's definition and the only source of
 * syntax errors). Chevrotain's per-rule and per-token bookkeeping costs several times the
 * parse itself on the short programs SEL mostly compiles. At the first token it does not expect,
 * at a nesting deeper than allowed and on any error while building a node, this parser gives
 * up (answers null) and the Chevrotain parser parses the tokens again, deciding the tree or the
 * error exactly as before. Tests compare both parsers on the conformance programs and on
 * generated ones.
 */

/** Thrown to give up; caught in `fastParse` only. */
const GIVE_UP = new (class GiveUp {})();

const byType = (types: TokenType[]): boolean[] => {
  const table: boolean[] = [];
  for (const tt of types) table[tt.tokenTypeIdx!] = true;
  return table;
};

/** Tokens that start an operand (and so an expression or an expression statement). */
const OPERAND_START = byType([T.LongLiteral, T.DoubleLiteral, T.StringLiteral, T.True, T.False, T.Null, T.LParen, T.New, T.Identifier, T.Bang, T.Plus, T.Minus]);
const ASSIGN_OP = byType([T.Assign, T.PlusAssign, T.MinusAssign, T.StarAssign, T.SlashAssign, T.PercentAssign]);

class FastParser {
  private types: TokenType[] = [];
  private images: string[] = [];
  private tokens: ScannedTokens | undefined;
  /** Number of tokens; the columns may hold stale entries beyond it. */
  private n = 0;
  private i = 0;
  private depth = 0;
  private maxNesting = 0;
  private assigned: string[] = [];

  parse(tokens: ScannedTokens, maxNesting: number): ProgramAst {
    this.tokens = tokens;
    this.types = tokens.types;
    this.images = tokens.images;
    this.n = tokens.count;
    this.i = 0;
    this.depth = 0;
    this.maxNesting = maxNesting;
    this.assigned = [];
    while (this.peekType() === T.Import) this.importDecl();
    // Arrays start as literals of their first element: an empty array's first push makes room
    // for seventeen, and most programs have a few statements, calls a single argument.
    const body: Stmt[] = this.i < this.n ? [this.statement()] : [];
    while (this.i < this.n) body.push(this.statement());
    return { body, assigned: this.assigned };
  }

  private peekType(k = 0): TokenType | undefined {
    const j = this.i + k;
    return j < this.n ? this.types[j] : undefined;
  }

  private pos(k: number): Pos {
    return this.tokens!.pos(k);
  }

  /** Consumes a token of type `tt`; answers its index. */
  private expect(tt: TokenType): number {
    if (this.i >= this.n || this.types[this.i] !== tt) throw GIVE_UP;
    return this.i++;
  }

  private enter(): void {
    if (++this.depth > this.maxNesting) throw GIVE_UP;
  }

  private importDecl(): void {
    this.i++;
    this.expect(T.Identifier);
    while (this.peekType() === T.Dot) {
      this.i++;
      const tt = this.peekType();
      if (tt !== T.Identifier && tt !== T.Star) throw GIVE_UP;
      this.i++;
    }
    this.expect(T.Semicolon);
  }

  /** `Type name` or `Type[] name` starts a declaration, as in parser.ts. */
  private declarationAhead(): boolean {
    if (this.peekType() !== T.Identifier) return false;
    const second = this.peekType(1);
    if (second === T.Identifier) return true;
    return second === T.LBracket && this.peekType(2) === T.RBracket && this.peekType(3) === T.Identifier;
  }

  private statement(): Stmt {
    const t = this.i;
    if (t >= this.n) throw GIVE_UP;
    this.enter();
    let st: Stmt;
    const type = this.types[t]!;
    switch (type) {
      case T.LBrace: {
        this.i++;
        const body: Stmt[] = this.peekType() !== T.RBrace ? [this.statement()] : [];
        while (this.peekType() !== T.RBrace) body.push(this.statement());
        this.i++;
        st = { k: 'block', body, pos: this.pos(t) };
        break;
      }
      case T.If: {
        this.i++;
        this.expect(T.LParen);
        const test = this.expression();
        this.expect(T.RParen);
        const then = this.statement();
        let otherwise: Stmt | null = null;
        if (this.peekType() === T.Else) {
          this.i++;
          otherwise = this.statement();
        }
        st = { k: 'if', test, then, otherwise, pos: this.pos(t) };
        break;
      }
      case T.While: {
        this.i++;
        this.expect(T.LParen);
        const test = this.expression();
        this.expect(T.RParen);
        const body = this.statement();
        st = { k: 'while', test, body, pos: this.pos(t) };
        break;
      }
      case T.For:
        st = this.forStatement(t);
        break;
      case T.Break:
        this.i++;
        this.expect(T.Semicolon);
        st = { k: 'break', pos: this.pos(t) };
        break;
      case T.Continue:
        this.i++;
        this.expect(T.Semicolon);
        st = { k: 'continue', pos: this.pos(t) };
        break;
      case T.Return: {
        this.i++;
        const value = this.operandAhead() ? this.expression() : null;
        this.expect(T.Semicolon);
        st = { k: 'return', value, pos: this.pos(t) };
        break;
      }
      case T.Throw: {
        this.i++;
        const value = this.expression();
        this.expect(T.Semicolon);
        st = { k: 'throw', value, pos: this.pos(t) };
        break;
      }
      case T.Semicolon:
        this.i++;
        st = { k: 'empty', pos: this.pos(t) };
        break;
      default: {
        if (OPERAND_START[type.tokenTypeIdx!] !== true) throw GIVE_UP;
        if (this.declarationAhead()) st = this.declaration();
        else {
          const expr = this.expression();
          st = { k: 'expr', expr, pos: expr.pos };
        }
        this.expect(T.Semicolon);
      }
    }
    this.depth--;
    return st;
  }

  private operandAhead(): boolean {
    return this.i < this.n && OPERAND_START[this.types[this.i]!.tokenTypeIdx!] === true;
  }

  private forStatement(t: number): Stmt {
    this.i++;
    this.expect(T.LParen);
    let init: Stmt | null = null;
    if (this.operandAhead()) {
      if (this.declarationAhead()) init = this.declaration();
      else {
        const expr = this.expression();
        init = { k: 'expr', expr, pos: expr.pos };
      }
    }
    this.expect(T.Semicolon);
    const test = this.operandAhead() ? this.expression() : null;
    this.expect(T.Semicolon);
    const update = this.operandAhead() ? this.expression() : null;
    this.expect(T.RParen);
    const body = this.statement();
    return { k: 'for', init, test, update, body, pos: this.pos(t) };
  }

  private declaration(): Stmt {
    const typeTok = this.expect(T.Identifier);
    let isArray = false;
    if (this.peekType() === T.LBracket) {
      this.i++;
      this.expect(T.RBracket);
      isArray = true;
    }
    const decls: Declarator[] = [this.declarator()];
    while (this.peekType() === T.Comma) {
      this.i++;
      decls.push(this.declarator());
    }
    return { k: 'decl', typeName: this.images[typeTok]!, isArray, decls, pos: this.pos(typeTok) };
  }

  /** Records a name the program declares or assigns (the first in an array of one, see `parse`). */
  private assign(name: string): void {
    if (this.assigned.length === 0) this.assigned = [name];
    else this.assigned.push(name);
  }

  private declarator(): Declarator {
    const nameTok = this.expect(T.Identifier);
    let init: Expr | null = null;
    if (this.peekType() === T.Assign) {
      this.i++;
      init = this.expression();
    }
    const name = this.images[nameTok]!;
    this.assign(name);
    return { name, init, pos: this.pos(nameTok) };
  }

  /** The binary operator at token `k`, if it is one. */
  private binaryOpAt(k: number): BinaryOpAt | undefined {
    if (k >= this.n) return undefined;
    const prec = PRECEDENCE[this.types[k]!.tokenTypeIdx!];
    return prec === undefined ? undefined : { op: this.images[k] as BinaryOperator, prec, pos: this.pos(k) };
  }

  /** Operands joined by binary operators, then optionally `? :` or an assignment. */
  private expression(): Expr {
    if (!this.operandAhead()) throw GIVE_UP;
    this.enter();
    let left = this.operand();
    const first = this.binaryOpAt(this.i);
    if (first !== undefined) {
      this.i++;
      const right = this.operand();
      let op = this.binaryOpAt(this.i);
      if (op === undefined) {
        // One operator (the most common case) needs no precedence parsing.
        left = { k: 'binary', op: first.op, left, right, pos: first.pos };
      } else {
        const operands: Expr[] = [left, right];
        const ops: BinaryOpAt[] = [first];
        do {
          ops.push(op);
          this.i++;
          operands.push(this.operand());
          op = this.binaryOpAt(this.i);
        } while (op !== undefined);
        left = buildBinary(operands, ops);
      }
    }
    let result = left;
    const next = this.i;
    if (next < this.n) {
      const type = this.types[next]!;
      if (type === T.Question) {
        this.i++;
        const then = this.expression();
        this.expect(T.Colon);
        const otherwise = this.expression();
        result = { k: 'cond', test: left, then, otherwise, pos: this.pos(next) };
      } else if (ASSIGN_OP[type.tokenTypeIdx!] === true) {
        this.i++;
        const value = this.expression();
        // The Chevrotain parser names the error for any other target.
        if (left.k === 'name') this.assign(left.name);
        else if (left.k !== 'index') throw GIVE_UP;
        result = { k: 'assign', op: this.images[next] as AssignOperator, target: left, value, pos: this.pos(next) };
      }
    }
    this.depth--;
    return result;
  }

  /** A primary followed by `.name`, `.name(args)` and `[index]` suffixes. */
  private operand(): Expr {
    let object = this.primary();
    for (;;) {
      const tt = this.peekType();
      if (tt === T.Dot) {
        this.i++;
        const k = this.expect(T.Identifier);
        const name = this.images[k]!;
        object = this.peekType() === T.LParen
          ? { k: 'call', object, name, args: this.list(T.RParen), pos: this.pos(k) }
          : { k: 'field', object, name, pos: this.pos(k) };
      } else if (tt === T.LBracket) {
        const t = this.i++;
        const index = this.expression();
        this.expect(T.RBracket);
        object = { k: 'index', object, index, pos: this.pos(t) };
      } else {
        return object;
      }
    }
  }

  private primary(): Expr {
    const t = this.i;
    if (t >= this.n) throw GIVE_UP;
    this.i++;
    const image = this.images[t]!;
    switch (this.types[t]) {
      case T.LongLiteral: {
        const pos = this.pos(t);
        return { k: 'lit', type: 'LONG', value: parseLong(image, pos), pos };
      }
      case T.DoubleLiteral:
        return { k: 'lit', type: 'DOUBLE', value: Number(image.replace(/[fFdD]$/, '')), pos: this.pos(t) };
      case T.StringLiteral:
        // The scanner keeps only the text between the quotes.
        return { k: 'lit', type: 'STRING', value: unescapeJava(image), pos: this.pos(t) };
      case T.True:
        return { k: 'lit', type: 'BOOLEAN', value: true, pos: this.pos(t) };
      case T.False:
        return { k: 'lit', type: 'BOOLEAN', value: false, pos: this.pos(t) };
      case T.Null:
        return { k: 'lit', type: 'NULL', value: null, pos: this.pos(t) };
      case T.Identifier:
        return { k: 'name', name: image, pos: this.pos(t) };
      case T.LParen: {
        const e = this.expression();
        this.expect(T.RParen);
        return e;
      }
      case T.New:
        return this.creator(t);
      case T.Bang:
      case T.Plus:
      case T.Minus: {
        // A suffix binds tighter than a prefix operator: -a.b is -(a.b).
        this.enter();
        const arg = this.operand();
        this.depth--;
        return foldUnary(image as '-' | '+' | '!', this.pos(t), arg);
      }
      default:
        throw GIVE_UP;
    }
  }

  /** The opening token, expressions separated by commas, then `close`; one is an array of one (see `parse`). */
  private list(close: TokenType): Expr[] {
    this.i++;
    const items: Expr[] = this.operandAhead() ? [this.expression()] : [];
    while (items.length > 0 && this.peekType() === T.Comma) {
      this.i++;
      items.push(this.expression());
    }
    this.expect(close);
    return items;
  }

  private creator(newTok: number): Expr {
    const cls = this.expect(T.Identifier);
    const className = this.images[cls]!;
    const tt = this.peekType();
    if (tt === T.LParen) return { k: 'new', className, args: this.list(T.RParen), pos: this.pos(cls) };
    this.expect(T.LBracket);
    if (this.peekType() === T.RBracket) {
      this.i++;
      if (this.peekType() !== T.LBrace) throw GIVE_UP;
      const init = this.list(T.RBrace);
      return { k: 'newArray', elemType: className, size: null, init, pos: this.pos(newTok) };
    }
    const size = this.expression();
    this.expect(T.RBracket);
    return { k: 'newArray', elemType: className, size, init: null, pos: this.pos(newTok) };
  }
}

const parser = new FastParser();

/** The tree of a valid program, or null when the Chevrotain parser must decide. */
export function fastParse(tokens: ScannedTokens, maxNesting: number): ProgramAst | null {
  try {
    return parser.parse(tokens, maxNesting);
  } catch {
    return null;
  }
}
