import { EmbeddedActionsParser, createTokenInstance, tokenMatcher, type IToken, type TokenType } from 'chevrotain';
import { SelError, limitError } from '../errors.js';
import type { AssignOperator, Declarator, Expr, ProgramAst, Stmt } from './ast.js';
import { binaryOpOf, buildBinary, foldUnary, parseLong, posOf, unescapeJava, type BinaryOpAt } from './ast-build.js';
import { fastParse } from './fast-parser.js';
import * as T from './lexer.js';
import { scan } from './scanner.js';

/** How deeply code may nest (brackets, unary operators, statements) before parsing refuses it. */
export const DEFAULT_MAX_NESTING = 100;

/** Token types (by index) whose primary is that one token: literals and names. */
const ONE_TOKEN_OPERAND: boolean[] = [];
for (const tt of [T.LongLiteral, T.DoubleLiteral, T.StringLiteral, T.True, T.False, T.Null, T.Identifier]) ONE_TOKEN_OPERAND[tt.tokenTypeIdx!] = true;

/** What grammar recording gets back from a semantic action it must not run. */
const RECORDING: Expr = { k: 'lit', type: 'NULL', value: null, pos: { line: 1, column: 1, offset: 0 } };

/**
 * Built for cold compiles of short programs. Every function handed to Chevrotain (ALT, GATE,
 * DEF, repetition bodies) is created once per parser, never per rule call: under tsx each
 * function created in a named position also costs a defineProperty for its name. Binary
 * operators and their operands are parsed by the one `expression` rule, with precedence applied
 * while building the tree (`operand` is only entered after a prefix operator). A repetition body
 * gets what it needs from its rule through a field, which it reads before calling any nested
 * rule that could overwrite it and writes back before it returns.
 */
class SelParser extends EmbeddedActionsParser {
  private depth = 0;
  maxNesting = DEFAULT_MAX_NESTING;
  /** Statements of the program or block being parsed. */
  private stmts: Stmt[] = [];
  private decls: Declarator[] = [];
  /** Call arguments or array initialiser being parsed. */
  private items: Expr[] = [];
  /** Operands and operators of the expression being parsed. */
  private operands: Expr[] = [];
  private ops: BinaryOpAt[] = [];
  /** Left side of a `?:` or an assignment; the object of a `.name` or `[index]`. */
  private left: Expr = RECORDING;
  private object: Expr = RECORDING;
  private newTok: IToken | undefined;
  private newClass: IToken | undefined;

  constructor() {
    super(T.allTokens, { maxLookahead: 4, recoveryEnabled: false });
    this.performSelfAnalysis();
    this.indexAlternatives();
  }

  begin(tokens: IToken[], maxNesting: number): void {
    this.depth = 0;
    this.maxNesting = maxNesting;
    this.stmts = [];
    this.input = tokens;
  }

  private enter(t: IToken): void {
    if (++this.depth > this.maxNesting) {
      const err = limitError('nesting depth', this.maxNesting);
      err.line = t.startLine ?? 1;
      err.column = t.startColumn ?? 1;
      throw err;
    }
  }

  /** `Type name` or `Type[] name` starts a declaration; anything else starting with a name is an expression. */
  private readonly declarationAhead = (): boolean => {
    if (this.LA(1).tokenType !== T.Identifier) return false;
    const second = this.LA(2).tokenType;
    if (second === T.Identifier) return true;
    return second === T.LBracket && this.LA(3).tokenType === T.RBracket && this.LA(4).tokenType === T.Identifier;
  };

  // ---- program and statements ----

  private readonly importItem = (): void => {
    this.SUBRULE(this.importDecl);
  };

  private readonly statementItem = (): void => {
    const st = this.SUBRULE(this.statement);
    this.stmts.push(st);
  };

  public program = this.RULE('program', (): ProgramAst => {
    if (this.RECORDING_PHASE) this.MANY(this.importItem);
    else while (this.LA(1).tokenType === T.Import) this.importItem();
    const body: Stmt[] = (this.stmts = []);
    if (this.RECORDING_PHASE) this.MANY2(this.statementItem);
    else while (this.statementByToken[this.LA(1).tokenTypeIdx] !== undefined) this.statementItem();
    return { body };
  });

  private readonly importNameAlts = [{ ALT: () => this.CONSUME2(T.Identifier) }, { ALT: () => this.CONSUME(T.Star) }];

  private readonly importPart = (): void => {
    this.CONSUME(T.Dot);
    this.OR(this.importNameAlts);
  };

  private importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.Identifier);
    this.MANY(this.importPart);
    this.CONSUME(T.Semicolon);
  });

  private readonly returnValue = (): Expr => this.SUBRULE(this.expression);

  /**
   * Every statement but declarations and expression statements starts with its own token
   * (FIRST); the last alternative takes any token that can start an expression.
   */
  private readonly statementAlts: { FIRST?: TokenType; ALT: () => Stmt }[] = [
    { FIRST: T.LBrace, ALT: () => this.SUBRULE(this.block) },
    { FIRST: T.If, ALT: () => this.SUBRULE(this.ifStatement) },
    { FIRST: T.While, ALT: () => this.SUBRULE(this.whileStatement) },
    { FIRST: T.For, ALT: () => this.SUBRULE(this.forStatement) },
    {
      FIRST: T.Break,
      ALT: (): Stmt => {
        const t = this.CONSUME(T.Break);
        this.CONSUME(T.Semicolon);
        return { k: 'break', pos: posOf(t) };
      },
    },
    {
      FIRST: T.Continue,
      ALT: (): Stmt => {
        const t = this.CONSUME(T.Continue);
        this.CONSUME2(T.Semicolon);
        return { k: 'continue', pos: posOf(t) };
      },
    },
    {
      FIRST: T.Return,
      ALT: (): Stmt => {
        const t = this.CONSUME(T.Return);
        const value = this.RECORDING_PHASE
          ? (this.OPTION(this.returnValue) ?? null)
          : this.primaryByToken[this.LA(1).tokenTypeIdx] !== undefined ? this.returnValue() : null;
        this.CONSUME3(T.Semicolon);
        return { k: 'return', value, pos: posOf(t) };
      },
    },
    {
      FIRST: T.Throw,
      ALT: (): Stmt => {
        const t = this.CONSUME(T.Throw);
        const value = this.SUBRULE2(this.expression);
        this.CONSUME4(T.Semicolon);
        return { k: 'throw', value, pos: posOf(t) };
      },
    },
    { FIRST: T.Semicolon, ALT: (): Stmt => ({ k: 'empty', pos: posOf(this.CONSUME5(T.Semicolon)) }) },
    { ALT: () => this.OR2(this.simpleStatementAlts) },
  ];

  /**
   * A declaration is recognised by its first tokens alone; whether anything else can start an
   * expression statement takes Chevrotain's multi-token lookahead (`foo(1);` is refused at `foo`).
   */
  private readonly simpleStatement = (): Stmt =>
    this.declarationAhead() ? this.simpleStatementAlts.DEF[0]!.ALT() : this.OR2(this.simpleStatementAlts);

  private statement = this.RULE('statement', (): Stmt => {
    if (this.RECORDING_PHASE) return this.OR(this.statementAlts);
    const first = this.LA(1);
    this.enter(first);
    const alt = this.statementByToken[first.tokenTypeIdx];
    const stmt = alt ? alt() : this.OR(this.statementAlts);
    this.depth--;
    return stmt;
  });

  private readonly simpleStatementAlts = {
    IGNORE_AMBIGUITIES: true,
    DEF: [
      {
        GATE: this.declarationAhead,
        ALT: (): Stmt => {
          const d = this.SUBRULE(this.declaration);
          this.CONSUME6(T.Semicolon);
          return d;
        },
      },
      {
        ALT: (): Stmt => {
          const expr = this.SUBRULE3(this.expression);
          this.CONSUME7(T.Semicolon);
          return { k: 'expr', expr, pos: expr.pos };
        },
      },
    ],
  };

  private readonly arraySuffix = (): boolean => {
    this.CONSUME(T.LBracket);
    this.CONSUME(T.RBracket);
    return true;
  };

  private readonly initializer = (): Expr => {
    this.CONSUME(T.Assign);
    return this.SUBRULE(this.expression);
  };

  private readonly declarators = {
    SEP: T.Comma,
    DEF: (): void => {
      const nameTok = this.CONSUME2(T.Identifier);
      const init = this.RECORDING_PHASE
        ? (this.OPTION2(this.initializer) ?? null)
        : this.LA(1).tokenType === T.Assign ? this.initializer() : null;
      this.decls.push({ name: nameTok.image, init, pos: posOf(nameTok) });
    },
  };

  private declaration = this.RULE('declaration', (): Stmt => {
    const typeTok = this.CONSUME(T.Identifier);
    const isArray = this.RECORDING_PHASE
      ? (this.OPTION(this.arraySuffix) ?? false)
      : this.LA(1).tokenType === T.LBracket && this.arraySuffix();
    const decls: Declarator[] = (this.decls = []);
    if (!this.RECORDING_PHASE && this.LA(1).tokenType === T.Identifier) {
      this.declarators.DEF();
      while (this.LA(1).tokenType === T.Comma) {
        this.CONSUME(T.Comma);
        this.declarators.DEF();
      }
    } else {
      this.AT_LEAST_ONE_SEP(this.declarators);
    }
    return { k: 'decl', typeName: typeTok.image, isArray, decls, pos: posOf(typeTok) };
  });

  private block = this.RULE('block', (): Stmt => {
    const t = this.CONSUME(T.LBrace);
    const outer = this.stmts;
    const body: Stmt[] = (this.stmts = []);
    if (this.RECORDING_PHASE) this.MANY(this.statementItem);
    else while (this.statementByToken[this.LA(1).tokenTypeIdx] !== undefined) this.statementItem();
    this.stmts = outer;
    this.CONSUME(T.RBrace);
    return { k: 'block', body, pos: posOf(t) };
  });

  private readonly elseClause = (): Stmt => {
    this.CONSUME(T.Else);
    return this.SUBRULE2(this.statement);
  };

  private ifStatement = this.RULE('ifStatement', (): Stmt => {
    const t = this.CONSUME(T.If);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    const then = this.SUBRULE(this.statement);
    const otherwise = this.RECORDING_PHASE ? (this.OPTION(this.elseClause) ?? null) : this.LA(1).tokenType === T.Else ? this.elseClause() : null;
    return { k: 'if', test, then, otherwise, pos: posOf(t) };
  });

  private whileStatement = this.RULE('whileStatement', (): Stmt => {
    const t = this.CONSUME(T.While);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return { k: 'while', test, body, pos: posOf(t) };
  });

  private readonly forInitAlts = {
    IGNORE_AMBIGUITIES: true,
    DEF: [
      { GATE: this.declarationAhead, ALT: () => this.SUBRULE(this.declaration) },
      {
        ALT: (): Stmt => {
          const expr = this.SUBRULE(this.expression);
          return { k: 'expr', expr, pos: expr.pos };
        },
      },
    ],
  };

  private readonly forInit = (): Stmt => this.OR(this.forInitAlts);
  private readonly forTest = (): Expr => this.SUBRULE2(this.expression);
  private readonly forUpdate = (): Expr => this.SUBRULE3(this.expression);

  /** Does the next token start an expression (and so also a declaration)? The LL(1) choice of every optional part of a for header. */
  private expressionAhead(): boolean {
    return this.primaryByToken[this.LA(1).tokenTypeIdx] !== undefined;
  }

  /**
   * Each part of the header is optional and followed by a token that cannot start it, so whether
   * it is there is decided by the next token's type, as Chevrotain's lookahead would.
   */
  private forStatement = this.RULE('forStatement', (): Stmt => {
    const t = this.CONSUME(T.For);
    this.CONSUME(T.LParen);
    let init: Stmt | null, test: Expr | null, update: Expr | null;
    if (this.RECORDING_PHASE) {
      init = this.OPTION(this.forInit) ?? null;
      this.CONSUME(T.Semicolon);
      test = this.OPTION2(this.forTest) ?? null;
      this.CONSUME2(T.Semicolon);
      update = this.OPTION3(this.forUpdate) ?? null;
    } else {
      init = !this.expressionAhead() ? null : this.declarationAhead() ? this.forInitAlts.DEF[0]!.ALT() : this.forInitAlts.DEF[1]!.ALT();
      this.CONSUME(T.Semicolon);
      test = this.expressionAhead() ? this.forTest() : null;
      this.CONSUME2(T.Semicolon);
      update = this.expressionAhead() ? this.forUpdate() : null;
    }
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return { k: 'for', init, test, update, body, pos: posOf(t) };
  });

  // ---- expressions ----

  /** One operand of a binary expression; from the second on, the operator is the token just consumed. */
  private readonly operandItem = (): void => {
    const operands = this.operands;
    const ops = this.ops;
    if (operands.length > 0 && !this.RECORDING_PHASE) ops.push(binaryOpOf(this.LA(0)));
    operands.push(this.operandBody());
    this.operands = operands;
    this.ops = ops;
  };

  private readonly operandList = { SEP: T.BinaryOp, DEF: this.operandItem };

  private readonly tailAlts = [
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
  private readonly tail = (): Expr => this.OR3(this.tailAlts);

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

  private readonly callArgs = (): Expr[] => this.SUBRULE(this.args);

  private readonly postfixAlts = [
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

  private readonly postfixPart = (): void => {
    this.OR2(this.postfixAlts);
  };

  /** Each alternative starts with its own token (FIRST), which the fast path dispatches on. */
  private readonly primaryAlts: { FIRST: TokenType; ALT: () => Expr }[] = [
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
  private primaryByToken: ((() => Expr) | undefined)[] = [];
  /** The same for statements: statementAlts by first token, else a simple statement. */
  private statementByToken: ((() => Stmt) | undefined)[] = [];

  private indexAlternatives(): void {
    for (const tt of T.allTokens) {
      const probe = createTokenInstance(tt, '', 0, 0, 1, 1, 1, 1);
      const i = tt.tokenTypeIdx!;
      const primary = this.primaryAlts.find((a) => tokenMatcher(probe, a.FIRST));
      if (primary) this.primaryByToken[i] = primary.ALT;
      const statement = this.statementAlts.find((a) => a.FIRST !== undefined && tokenMatcher(probe, a.FIRST));
      if (statement) this.statementByToken[i] = statement.ALT;
      else if (primary) this.statementByToken[i] = this.simpleStatement;
    }
  }

  /**
   * A primary followed by `.name`, `.name(args)` and `[index]` suffixes. Once the grammar is
   * recorded, the choices are made here by token type, with the same outcome as Chevrotain's
   * LL(1) decision; when no alternative fits, the DSL call itself raises the syntax error.
   */
  private operandBody(): Expr {
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
  private operand = this.RULE('operand', (): Expr => this.operandBody());

  private readonly itemList = {
    SEP: T.Comma,
    DEF: (): void => {
      const e = this.SUBRULE(this.expression);
      this.items.push(e);
    },
  };

  private args = this.RULE('args', (): Expr[] => {
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
  private argsBody(): Expr[] {
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
  private argument(): Expr {
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

  private readonly arrayCreatorAlts = [
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

  private readonly creatorAlts = [
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

  private creator = this.RULE('creator', (): Expr => {
    this.newTok = this.CONSUME(T.New);
    this.newClass = this.CONSUME(T.Identifier);
    return this.OR(this.creatorAlts);
  });
}

let shared: SelParser | undefined;

function describe(t: IToken): string {
  if (t.tokenType.name === 'EOF') return 'end of input';
  return `'${t.image}'`;
}

/** Refuse runaway bracket nesting before Chevrotain recurses into it. */
function checkBracketDepth(tokens: IToken[], maxNesting: number): void {
  let depth = 0;
  for (const t of tokens) {
    const tt = t.tokenType;
    if (tt === T.LParen || tt === T.LBracket || tt === T.LBrace) {
      if (++depth > maxNesting) {
        const err = limitError('nesting depth', maxNesting);
        err.line = t.startLine ?? 1;
        err.column = t.startColumn ?? 1;
        throw err;
      }
    } else if (tt === T.RParen || tt === T.RBracket || tt === T.RBrace) {
      depth--;
    }
  }
}

/**
 * Parses a program. Valid programs take the scanner and the fast parser; whenever those give up,
 * the Chevrotain lexer and parser decide, tree or error.
 */
export function parse(source: string, maxNesting = DEFAULT_MAX_NESTING): ProgramAst {
  const scanned = scan(source);
  const fast = scanned !== null && scanned.maxBracketDepth <= maxNesting ? fastParse(scanned, maxNesting) : null;
  return fast ?? parseTokens(T.tokenize(source), maxNesting);
}

/** Lines of a text as Chevrotain counts them (line terminators: \n, \r\n, \r). */
function lineCount(text: string): number {
  let lines = 1;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 10) lines++;
    else if (c === 13) {
      lines++;
      if (text.charCodeAt(i + 1) === 10) i++;
    }
  }
  return lines;
}

/**
 * Parses as Maestro does: a missing final `;` is added, on a line of its own so that a trailing
 * line comment cannot swallow it. Lexing `source + "\n;"` gives the tokens of the source and
 * that `;` (no token spans a line break), so the `;` is appended to the source's tokens. When the
 * source already ends a statement (`;` or `}`) it is parsed first without the extra `;`, which
 * gives the same tree minus an empty statement; only if that fails does the parse with the `;`
 * decide the outcome and the error.
 */
export function parseMaestro(source: string, maxNesting = DEFAULT_MAX_NESTING): ProgramAst {
  return fastParseMaestro(source, maxNesting) ?? parseMaestroWithChevrotain(source, maxNesting);
}

/** parseMaestro by the scanner and the fast parser, or null when Chevrotain must decide. */
function fastParseMaestro(source: string, maxNesting: number): ProgramAst | null {
  const scanned = scan(source);
  if (scanned === null || scanned.maxBracketDepth > maxNesting) return null;
  const n = scanned.count;
  const last = n === 0 ? undefined : scanned.types[n - 1];
  if (last === undefined || last === T.Semicolon || last === T.RBrace) {
    const ast = fastParse(scanned, maxNesting);
    if (ast !== null) return ast;
  }
  const offset = source.length + 1;
  scanned.newLine(offset);
  scanned.push(T.Semicolon, ';', offset);
  return fastParse(scanned, maxNesting);
}

function parseMaestroWithChevrotain(source: string, maxNesting: number): ProgramAst {
  const tokens = T.tokenize(source);
  const n = tokens.length;
  const last = tokens[n - 1];
  if (last === undefined || last.tokenType === T.Semicolon || last.tokenType === T.RBrace) {
    try {
      return parseTokens(tokens, maxNesting);
    } catch {
      // Chevrotain appended end-of-input markers to the token array.
      tokens.length = n;
    }
  }
  const line = lineCount(source) + 1;
  const offset = source.length + 1;
  tokens.push(createTokenInstance(T.Semicolon, ';', offset, offset, line, line, 1, 1));
  return parseTokens(tokens, maxNesting);
}

/** The Chevrotain lexer and parser alone: the reference the fast path is tested against. */
export function parseWithChevrotain(source: string, maestro: boolean, maxNesting = DEFAULT_MAX_NESTING): ProgramAst {
  return maestro ? parseMaestroWithChevrotain(source, maxNesting) : parseTokens(T.tokenize(source), maxNesting);
}

/** The grammar's own parse of Chevrotain tokens: the tree, or the syntax or limit error. */
function parseTokens(tokens: IToken[], maxNesting: number): ProgramAst {
  checkBracketDepth(tokens, maxNesting);
  const parser = (shared ??= new SelParser());
  parser.begin(tokens, maxNesting);
  let ast: ProgramAst;
  try {
    ast = parser.program();
  } catch (e) {
    if (e instanceof RangeError) {
      throw new SelError('limit', `nesting depth limit exceeded: program nests too deeply`, 1, 1);
    }
    throw e;
  }
  const err = parser.errors[0];
  if (err) {
    const t = pickOffendingToken(tokens, err.token);
    const line = Number.isFinite(t.startLine) ? t.startLine! : lastLine(tokens);
    const column = Number.isFinite(t.startColumn) ? t.startColumn! : lastColumn(tokens);
    throw new SelError('syntax', syntaxMessage(t, err.message), line, column);
  }
  return ast;
}

/**
 * Chevrotain reports a statement it cannot start at its first token; pointing at the first
 * unsupported operator of that statement (`x++`) or the call of a bare function tells more.
 */
function pickOffendingToken(tokens: IToken[], reported: IToken): IToken {
  const start = tokens.indexOf(reported);
  if (start < 0) return reported;
  for (let i = start; i < tokens.length && i < start + 64; i++) {
    const t = tokens[i]!;
    if (t.tokenType === T.Semicolon || t.tokenType === T.LBrace || t.tokenType === T.RBrace) break;
    if (t.tokenType.CATEGORIES?.includes(T.Unsupported)) return t;
  }
  return reported;
}

function syntaxMessage(t: IToken, chevrotainMessage: string): string {
  const tt: TokenType = t.tokenType;
  if (tt === T.Identifier && chevrotainMessage.includes('one of these possible Token sequences')) {
    return `unexpected ${describe(t)}: a statement must be a declaration, an assignment or an expression, and functions are called on a class or value (e.g. Util.${t.image}(...))`;
  }
  if (tt.CATEGORIES?.includes(T.Unsupported) || tt === T.Unsupported) return `${describe(t)} is not supported in SEL`;
  if (tt.name === 'EOF') {
    return /Semicolon/.test(chevrotainMessage) ? "missing ';' at end of input" : 'unexpected end of input';
  }
  if (/--> ';' <--/.test(chevrotainMessage) || /Expecting token of type --> Semicolon <--/.test(chevrotainMessage)) {
    return `expected ';' but found ${describe(t)}`;
  }
  return `unexpected ${describe(t)}`;
}

/** Tokens never span lines (comments and line breaks are skipped), so a token ends on its start line. */
function lastLine(tokens: IToken[]): number {
  const t = tokens[tokens.length - 1];
  return t?.startLine ?? 1;
}

function lastColumn(tokens: IToken[]): number {
  const t = tokens[tokens.length - 1];
  return t ? (t.startColumn ?? 1) + t.image.length : 1;
}
