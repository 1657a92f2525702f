import { EmbeddedActionsParser, createTokenInstance, tokenMatcher, type IToken, type TokenType } from 'chevrotain';
import { SelError, limitError } from '../errors.js';
import type { AssignOperator, Declarator, Expr, Stmt } from './ast.js';
import { binaryOpOf, buildBinary, foldUnary, parseLong, posOf, unescapeJava, type BinaryOpAt } from './ast-build.js';
import * as T from './lexer.js';

/** How deeply code may nest (brackets, unary operators, statements) before parsing refuses it. */
export const DEFAULT_MAX_NESTING = 100;

/** Token types (by index) whose primary is that one token: literals and names. */
const ONE_TOKEN_OPERAND: boolean[] = [];
for (const tt of [T.LongLiteral, T.DoubleLiteral, T.StringLiteral, T.True, T.False, T.Null, T.Identifier]) ONE_TOKEN_OPERAND[tt.tokenTypeIdx!] = true;

/** What grammar recording gets back from a semantic action it must not run. */
export const RECORDING: Expr = { k: 'lit', type: 'NULL', value: null, pos: { line: 1, column: 1, offset: 0 } };

/**
 * The expression half of SEL's Chevrotain grammar (the statements extend it in
 * statement-grammar.ts), with the parse state both halves share.
 *
 * Built for cold compiles of short programs. Every function handed to Chevrotain (ALT, GATE,
 * DEF, repetition bodies) is created once per parser, never per rule call: under tsx each
 * function created in a named position also costs a defineProperty for its name. Binary
 * operators and their operands are parsed by the one `expression` rule, with precedence applied
 * while building the tree (`operand` is only entered after a prefix operator). A repetition body
 * gets what it needs from its rule through a field, which it reads before calling any nested
 * rule that could overwrite it and writes back before it returns.
 */
export abstract class ExpressionGrammar extends EmbeddedActionsParser {
  protected depth = 0;
  maxNesting = DEFAULT_MAX_NESTING;
  /** Statements of the program or block being parsed. */
  protected stmts: Stmt[] = [];
  protected decls: Declarator[] = [];
  /** Call arguments or array initialiser being parsed. */
  protected items: Expr[] = [];
  /** Operands and operators of the expression being parsed. */
  protected operands: Expr[] = [];
  protected ops: BinaryOpAt[] = [];
  /** Left side of a `?:` or an assignment; the object of a `.name` or `[index]`. */
  protected left: Expr = RECORDING;
  protected object: Expr = RECORDING;
  protected newTok: IToken | undefined;
  protected newClass: IToken | undefined;

  constructor() {
    super(T.allTokens, { maxLookahead: 4, recoveryEnabled: false });
  }

  begin(tokens: IToken[], maxNesting: number): void {
    this.depth = 0;
    this.maxNesting = maxNesting;
    this.stmts = [];
    this.input = tokens;
  }

  protected enter(t: IToken): void {
    if (++this.depth > this.maxNesting) {
      const err = limitError('nesting depth', this.maxNesting);
      err.line = t.startLine ?? 1;
      err.column = t.startColumn ?? 1;
      throw err;
    }
  }

  // ---- expressions ----

  /** One operand of a binary expression; from the second on, the operator is the token just consumed. */
  protected readonly operandItem = (): void => {
    const operands = this.operands;
    const ops = this.ops;
    if (operands.length > 0 && !this.RECORDING_PHASE) ops.push(binaryOpOf(this.LA(0)));
    operands.push(this.operandBody());
    this.operands = operands;
    this.ops = ops;
  };

  protected readonly operandList = { SEP: T.BinaryOp, DEF: this.operandItem };

  protected readonly tailAlts = [
    {
      ALT: (): Expr => {
        const test = this.left;
        const q = this.CONSUME(T.Question);
        const then = this.SUBRULE3(this.expression);
        this.CONSUME(T.Colon);
        const otherwise = this.SUBRULE4(this.expression);
        return { k: 'cond', test, then, otherwise, pos: posOf(q) };
      },
    },
    {
      ALT: (): Expr => {
        const target = this.left;
        const opTok = this.CONSUME(T.AssignOp);
        const value = this.SUBRULE5(this.expression);
        if (this.RECORDING_PHASE) return RECORDING;
        if (target.k !== 'name' && target.k !== 'index') {
          throw new SelError('syntax', `cannot assign to this expression with '${opTok.image}'`, opTok.startLine ?? 1, opTok.startColumn ?? 1);
        }
        return { k: 'assign', op: opTok.image as AssignOperator, target, value, pos: posOf(opTok) };
      },
    },
  ];

  /** `? :` or an assignment; a conditional's branches already take any assignment that follows. */
  protected readonly tail = (): Expr => this.OR3(this.tailAlts);

  /**
   * operand (op operand)* then optionally `? expression : expression` or an assignment operator
   * and an expression (right associative). Binary operators are ordered by precedence after
   * parsing; operands are parsed inline, without a rule call each.
   */
  public expression = this.RULE('expression', (): Expr => {
    if (!this.RECORDING_PHASE) this.enter(this.LA(1));
    const operands: Expr[] = (this.operands = []);
    const ops: BinaryOpAt[] = (this.ops = []);
    if (!this.RECORDING_PHASE && this.primaryByToken[this.LA(1).tokenTypeIdx] !== undefined) {
      // AT_LEAST_ONE_SEP without its per-call lookahead and bookkeeping.
      this.operandItem();
      while (tokenMatcher(this.LA(1), T.BinaryOp)) {
        this.CONSUME(T.BinaryOp);
        this.operandItem();
      }
    } else {
      this.AT_LEAST_ONE_SEP(this.operandList);
    }
    const left = ops.length === 0 || this.RECORDING_PHASE ? operands[0]! : buildBinary(operands, ops);
    this.left = left;
    let result: Expr;
    if (this.RECORDING_PHASE) {
      result = this.OPTION(this.tail) ?? left;
    } else {
      const next = this.LA(1);
      result = next.tokenType === T.Question || tokenMatcher(next, T.AssignOp) ? this.tail() : left;
    }
    this.depth--;
    return result;
  });

  protected readonly callArgs = (): Expr[] => this.SUBRULE(this.args);

  protected readonly postfixAlts = [
    {
      ALT: (): void => {
        const object = this.object;
        this.CONSUME(T.Dot);
        const name = this.CONSUME2(T.Identifier);
        const args = this.RECORDING_PHASE ? this.OPTION2(this.callArgs) : this.LA(1).tokenType === T.LParen ? this.argsBody() : undefined;
        this.object = args
          ? { k: 'call', object, name: name.image, args, pos: posOf(name) }
          : { k: 'field', object, name: name.image, pos: posOf(name) };
      },
    },
    {
      ALT: (): void => {
        const object = this.object;
        const t = this.CONSUME(T.LBracket);
        const index = this.SUBRULE2(this.expression);
        this.CONSUME(T.RBracket);
        this.object = { k: 'index', object, index, pos: posOf(t) };
      },
    },
  ];

  protected readonly postfixPart = (): void => {
    this.OR2(this.postfixAlts);
  };

  /** Each alternative starts with its own token (FIRST), which the fast path dispatches on. */
  protected readonly primaryAlts: { FIRST: TokenType; ALT: () => Expr }[] = [
    {
      FIRST: T.LongLiteral,
      ALT: (): Expr => {
        const t = this.CONSUME(T.LongLiteral);
        if (this.RECORDING_PHASE) return RECORDING;
        const pos = posOf(t);
        return { k: 'lit', type: 'LONG', value: parseLong(t.image, pos), pos };
      },
    },
    {
      FIRST: T.DoubleLiteral,
      ALT: (): Expr => {
        const t = this.CONSUME(T.DoubleLiteral);
        return { k: 'lit', type: 'DOUBLE', value: Number(t.image.replace(/[fFdD]$/, '')), pos: posOf(t) };
      },
    },
    {
      FIRST: T.StringLiteral,
      ALT: (): Expr => {
        const t = this.CONSUME(T.StringLiteral);
        return { k: 'lit', type: 'STRING', value: unescapeJava(t.image.slice(1, -1)), pos: posOf(t) };
      },
    },
    { FIRST: T.True, ALT: (): Expr => ({ k: 'lit', type: 'BOOLEAN', value: true, pos: posOf(this.CONSUME(T.True)) }) },
    { FIRST: T.False, ALT: (): Expr => ({ k: 'lit', type: 'BOOLEAN', value: false, pos: posOf(this.CONSUME(T.False)) }) },
    { FIRST: T.Null, ALT: (): Expr => ({ k: 'lit', type: 'NULL', value: null, pos: posOf(this.CONSUME(T.Null)) }) },
    {
      FIRST: T.LParen,
      ALT: (): Expr => {
        this.CONSUME(T.LParen);
        const e = this.SUBRULE(this.expression);
        this.CONSUME(T.RParen);
        return e;
      },
    },
    { FIRST: T.New, ALT: () => this.SUBRULE(this.creator) },
    {
      FIRST: T.Identifier,
      ALT: (): Expr => {
        const t = this.CONSUME(T.Identifier);
        return { k: 'name', name: t.image, pos: posOf(t) };
      },
    },
    {
      FIRST: T.PrefixOp,
      // A suffix binds tighter than a prefix operator: -a.b is -(a.b).
      ALT: (): Expr => {
        const t = this.CONSUME(T.PrefixOp);
        if (!this.RECORDING_PHASE) this.enter(t);
        const arg = this.SUBRULE(this.operand);
        if (this.RECORDING_PHASE) return RECORDING;
        this.depth--;
        return foldUnary(t.image as '-' | '+' | '!', posOf(t), arg);
      },
    },
  ];

  /**
   * The alternative of primaryAlts to take for each token type. Built from the alternatives'
   * first tokens once the grammar is analysed, so that operands, the most frequent decision,
   * skip Chevrotain's generic lookahead.
   */
  protected primaryByToken: ((() => Expr) | undefined)[] = [];

  /** Fills primaryByToken once the grammar is analysed (see there). */
  protected indexPrimaries(): void {
    for (const tt of T.allTokens) {
      const probe = createTokenInstance(tt, '', 0, 0, 1, 1, 1, 1);
      const primary = this.primaryAlts.find((a) => tokenMatcher(probe, a.FIRST));
      if (primary) this.primaryByToken[tt.tokenTypeIdx!] = primary.ALT;
    }
  }

  /**
   * A primary followed by `.name`, `.name(args)` and `[index]` suffixes. Once the grammar is
   * recorded, the choices are made here by token type, with the same outcome as Chevrotain's
   * LL(1) decision; when no alternative fits, the DSL call itself raises the syntax error.
   */
  protected operandBody(): Expr {
    if (this.RECORDING_PHASE) {
      this.object = this.OR(this.primaryAlts);
      this.MANY(this.postfixPart);
      return this.object;
    }
    const alt = this.primaryByToken[this.LA(1).tokenTypeIdx];
    this.object = alt ? alt() : this.OR(this.primaryAlts);
    for (;;) {
      const tt = this.LA(1).tokenType;
      if (tt === T.Dot) this.postfixAlts[0]!.ALT();
      else if (tt === T.LBracket) this.postfixAlts[1]!.ALT();
      else return this.object;
    }
  }

  /** The operand of a prefix operator. */
  protected operand = this.RULE('operand', (): Expr => this.operandBody());

  protected readonly itemList = {
    SEP: T.Comma,
    DEF: (): void => {
      const e = this.SUBRULE(this.expression);
      this.items.push(e);
    },
  };

  protected args = this.RULE('args', (): Expr[] => {
    if (!this.RECORDING_PHASE) return this.argsBody();
    this.CONSUME(T.LParen);
    const outer = this.items;
    const args: Expr[] = (this.items = []);
    this.MANY_SEP(this.itemList);
    this.items = outer;
    this.CONSUME(T.RParen);
    return args;
  });

  /**
   * `( expression, ... )` once the grammar is recorded. Method calls run it directly rather than
   * as a rule: the rule bookkeeping costs more than the usual one-literal argument list, and no
   * decision in it depends on the rule it runs in (a mismatched token is reported the same way).
   */
  protected argsBody(): Expr[] {
    this.CONSUME(T.LParen);
    const args: Expr[] = [];
    if (this.primaryByToken[this.LA(1).tokenTypeIdx] !== undefined) {
      args.push(this.argument());
      while (this.LA(1).tokenType === T.Comma) {
        this.CONSUME(T.Comma);
        args.push(this.argument());
      }
    }
    this.CONSUME(T.RParen);
    return args;
  }

  /**
   * One argument. A literal or name right before `,` or `)` is the whole expression, so it is
   * read without entering the expression rule (same tree, same nesting check).
   */
  protected argument(): Expr {
    const t = this.LA(1);
    if (ONE_TOKEN_OPERAND[t.tokenTypeIdx] === true) {
      const next = this.LA(2).tokenType;
      if (next === T.RParen || next === T.Comma) {
        this.enter(t);
        const e = this.primaryByToken[t.tokenTypeIdx]!();
        this.depth--;
        return e;
      }
    }
    return this.SUBRULE(this.expression);
  }

  protected readonly arrayCreatorAlts = [
    {
      ALT: (): Expr => {
        const newTok = this.newTok!;
        const cls = this.newClass!;
        this.CONSUME(T.RBracket);
        this.CONSUME(T.LBrace);
        const outer = this.items;
        const init: Expr[] = (this.items = []);
        this.MANY_SEP(this.itemList);
        this.items = outer;
        this.CONSUME(T.RBrace);
        return { k: 'newArray', elemType: cls.image, size: null, init, pos: posOf(newTok) };
      },
    },
    {
      ALT: (): Expr => {
        const newTok = this.newTok!;
        const cls = this.newClass!;
        const size = this.SUBRULE2(this.expression);
        this.CONSUME2(T.RBracket);
        return { k: 'newArray', elemType: cls.image, size, init: null, pos: posOf(newTok) };
      },
    },
  ];

  protected readonly creatorAlts = [
    {
      ALT: (): Expr => {
        const cls = this.newClass!;
        const args = this.SUBRULE(this.args);
        return { k: 'new', className: cls.image, args, pos: posOf(cls) };
      },
    },
    {
      ALT: (): Expr => {
        this.CONSUME(T.LBracket);
        return this.OR2(this.arrayCreatorAlts);
      },
    },
  ];

  protected creator = this.RULE('creator', (): Expr => {
    this.newTok = this.CONSUME(T.New);
    this.newClass = this.CONSUME(T.Identifier);
    return this.OR(this.creatorAlts);
  });
}
