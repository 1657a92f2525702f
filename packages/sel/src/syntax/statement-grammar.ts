import { createTokenInstance, tokenMatcher, type TokenType } from 'chevrotain';
import type { Declarator, Expr, ProgramAst, Stmt } from './ast.js';
import { posOf } from './ast-build.js';
import { ExpressionGrammar } from './expression-grammar.js';
import * as T from './lexer.js';

/**
 * SEL's Chevrotain grammar: the statements (program, imports, declarations, blocks, if, while,
 * for, and the simple statements) over the expression grammar. It is the grammar's definition
 * and the only source of syntax errors; fast-parser.ts builds the same trees for valid programs.
 */
export class SelGrammar extends ExpressionGrammar {
  constructor() {
    super();
    this.performSelfAnalysis();
    this.indexPrimaries();
    this.indexStatements();
  }

  /** `Type name` or `Type[] name` starts a declaration; anything else starting with a name is an expression. */
  protected readonly declarationAhead = (): boolean => {
    if (this.LA(1).tokenType !== T.Identifier) return false;
    const second = this.LA(2).tokenType;
    if (second === T.Identifier) return true;
    return second === T.LBracket && this.LA(3).tokenType === T.RBracket && this.LA(4).tokenType === T.Identifier;
  };

  // ---- program and statements ----

  protected readonly importItem = (): void => {
    this.SUBRULE(this.importDecl);
  };

  protected readonly statementItem = (): void => {
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

  protected readonly importNameAlts = [{ ALT: () => this.CONSUME2(T.Identifier) }, { ALT: () => this.CONSUME(T.Star) }];

  protected readonly importPart = (): void => {
    this.CONSUME(T.Dot);
    this.OR(this.importNameAlts);
  };

  protected importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.Identifier);
    this.MANY(this.importPart);
    this.CONSUME(T.Semicolon);
  });

  protected readonly returnValue = (): Expr => this.SUBRULE(this.expression);

  /**
   * Every statement but declarations and expression statements starts with its own token
   * (FIRST); the last alternative takes any token that can start an expression.
   */
  protected readonly statementAlts: { FIRST?: TokenType; ALT: () => Stmt }[] = [
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
  protected readonly simpleStatement = (): Stmt =>
    this.declarationAhead() ? this.simpleStatementAlts.DEF[0]!.ALT() : this.OR2(this.simpleStatementAlts);

  protected statement = this.RULE('statement', (): Stmt => {
    if (this.RECORDING_PHASE) return this.OR(this.statementAlts);
    const first = this.LA(1);
    this.enter(first);
    const alt = this.statementByToken[first.tokenTypeIdx];
    const stmt = alt ? alt() : this.OR(this.statementAlts);
    this.depth--;
    return stmt;
  });

  protected readonly simpleStatementAlts = {
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

  protected readonly arraySuffix = (): boolean => {
    this.CONSUME(T.LBracket);
    this.CONSUME(T.RBracket);
    return true;
  };

  protected readonly initializer = (): Expr => {
    this.CONSUME(T.Assign);
    return this.SUBRULE(this.expression);
  };

  protected readonly declarators = {
    SEP: T.Comma,
    DEF: (): void => {
      const nameTok = this.CONSUME2(T.Identifier);
      const init = this.RECORDING_PHASE
        ? (this.OPTION2(this.initializer) ?? null)
        : this.LA(1).tokenType === T.Assign ? this.initializer() : null;
      this.decls.push({ name: nameTok.image, init, pos: posOf(nameTok) });
    },
  };

  protected declaration = this.RULE('declaration', (): Stmt => {
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

  protected block = this.RULE('block', (): Stmt => {
    const t = this.CONSUME(T.LBrace);
    const outer = this.stmts;
    const body: Stmt[] = (this.stmts = []);
    if (this.RECORDING_PHASE) this.MANY(this.statementItem);
    else while (this.statementByToken[this.LA(1).tokenTypeIdx] !== undefined) this.statementItem();
    this.stmts = outer;
    this.CONSUME(T.RBrace);
    return { k: 'block', body, pos: posOf(t) };
  });

  protected readonly elseClause = (): Stmt => {
    this.CONSUME(T.Else);
    return this.SUBRULE2(this.statement);
  };

  protected ifStatement = this.RULE('ifStatement', (): Stmt => {
    const t = this.CONSUME(T.If);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    const then = this.SUBRULE(this.statement);
    const otherwise = this.RECORDING_PHASE ? (this.OPTION(this.elseClause) ?? null) : this.LA(1).tokenType === T.Else ? this.elseClause() : null;
    return { k: 'if', test, then, otherwise, pos: posOf(t) };
  });

  protected whileStatement = this.RULE('whileStatement', (): Stmt => {
    const t = this.CONSUME(T.While);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return { k: 'while', test, body, pos: posOf(t) };
  });

  protected readonly forInitAlts = {
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

  protected readonly forInit = (): Stmt => this.OR(this.forInitAlts);
  protected readonly forTest = (): Expr => this.SUBRULE2(this.expression);
  protected readonly forUpdate = (): Expr => this.SUBRULE3(this.expression);

  /** Does the next token start an expression (and so also a declaration)? The LL(1) choice of every optional part of a for header. */
  protected expressionAhead(): boolean {
    return this.primaryByToken[this.LA(1).tokenTypeIdx] !== undefined;
  }

  /**
   * Each part of the header is optional and followed by a token that cannot start it, so whether
   * it is there is decided by the next token's type, as Chevrotain's lookahead would.
   */
  protected forStatement = this.RULE('forStatement', (): Stmt => {
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


  /** The same for statements: statementAlts by first token, else a simple statement. */
  protected statementByToken: ((() => Stmt) | undefined)[] = [];

  private indexStatements(): void {
    for (const tt of T.allTokens) {
      const probe = createTokenInstance(tt, '', 0, 0, 1, 1, 1, 1);
      const i = tt.tokenTypeIdx!;
      const statement = this.statementAlts.find((a) => a.FIRST !== undefined && tokenMatcher(probe, a.FIRST));
      if (statement) this.statementByToken[i] = statement.ALT;
      else if (this.primaryByToken[i] !== undefined) this.statementByToken[i] = this.simpleStatement;
    }
  }
}
