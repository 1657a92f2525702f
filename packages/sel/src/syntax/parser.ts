import { EmbeddedActionsParser, type IToken, type TokenType } from 'chevrotain';
import { SelError, limitError } from '../errors.js';
import type { AssignOperator, BinaryOperator, Declarator, Expr, Pos, ProgramAst, Stmt } from './ast.js';
import * as T from './lexer.js';

/** How deeply code may nest (brackets, unary operators, statements) before parsing refuses it. */
export const DEFAULT_MAX_NESTING = 100;

const PRECEDENCE: Record<string, number> = {
  '||': 1, '&&': 2, '==': 3, '!=': 3, '<': 4, '>': 4, '<=': 4, '>=': 4, '+': 5, '-': 5, '*': 6, '/': 6, '%': 6,
};

const posOf = (t: IToken): Pos => ({ line: t.startLine ?? 1, column: t.startColumn ?? 1, offset: t.startOffset });

const ESCAPES: Record<string, string> = { n: '\n', t: '\t', b: '\b', f: '\f', r: '\r', "'": "'", '"': '"', '\\': '\\' };

export function unescapeJava(raw: string): string {
  if (!raw.includes('\\')) return raw;
  return raw.replace(/\\(u+[0-9a-fA-F]{4}|[0-3][0-7]{0,2}|[4-7][0-7]?|.)/g, (_m, e: string) => {
    const simple = ESCAPES[e];
    if (simple !== undefined) return simple;
    if (e.startsWith('u')) return String.fromCharCode(parseInt(e.replace(/^u+/, ''), 16));
    if (/^[0-7]/.test(e)) return String.fromCharCode(parseInt(e, 8));
    return `\\${e}`;
  });
}

function parseLong(image: string, pos: Pos): bigint {
  const digits = image.replace(/[lL]$/, '');
  const value = BigInt(digits);
  // Java rejects integer literals beyond the LONG range; 2^63 itself only after a unary minus,
  // which the parser folds, so it is accepted here and wraps to MIN_VALUE.
  if (value > 9223372036854775808n) throw new SelError('syntax', `integer number too large: ${digits}`, pos.line, pos.column);
  return BigInt.asIntN(64, value);
}

class SelParser extends EmbeddedActionsParser {
  private depth = 0;
  maxNesting = DEFAULT_MAX_NESTING;

  constructor() {
    super(T.allTokens, { maxLookahead: 4, recoveryEnabled: false });
    this.performSelfAnalysis();
  }

  begin(tokens: IToken[], maxNesting: number): void {
    this.depth = 0;
    this.maxNesting = maxNesting;
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

  private leave(): void {
    this.depth--;
  }

  public program = this.RULE('program', (): ProgramAst => {
    this.MANY(() => this.SUBRULE(this.importDecl));
    const body: Stmt[] = [];
    this.MANY2(() => {
      body.push(this.SUBRULE(this.statement));
    });
    return { body };
  });

  private importDecl = this.RULE('importDecl', () => {
    this.CONSUME(T.Import);
    this.CONSUME(T.Identifier);
    this.MANY(() => {
      this.CONSUME(T.Dot);
      this.OR([{ ALT: () => this.CONSUME2(T.Identifier) }, { ALT: () => this.CONSUME(T.Star) }]);
    });
    this.CONSUME(T.Semicolon);
  });

  private statement = this.RULE('statement', (): Stmt => {
    const first = this.LA(1);
    this.ACTION(() => this.enter(first));
    const stmt = this.OR({ IGNORE_AMBIGUITIES: true, DEF: [
      { ALT: () => this.SUBRULE(this.block) },
      { ALT: () => this.SUBRULE(this.ifStatement) },
      { ALT: () => this.SUBRULE(this.whileStatement) },
      { ALT: () => this.SUBRULE(this.forStatement) },
      {
        ALT: () => {
          const t = this.CONSUME(T.Break);
          this.CONSUME(T.Semicolon);
          return { k: 'break', pos: posOf(t) } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Continue);
          this.CONSUME2(T.Semicolon);
          return { k: 'continue', pos: posOf(t) } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Return);
          const value = this.OPTION(() => this.SUBRULE(this.expression)) ?? null;
          this.CONSUME3(T.Semicolon);
          return { k: 'return', value, pos: posOf(t) } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.Throw);
          const value = this.SUBRULE2(this.expression);
          this.CONSUME4(T.Semicolon);
          return { k: 'throw', value, pos: posOf(t) } as Stmt;
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME5(T.Semicolon);
          return { k: 'empty', pos: posOf(t) } as Stmt;
        },
      },
      {
        GATE: () => this.declarationAhead(),
        ALT: () => {
          const d = this.SUBRULE(this.declaration);
          this.CONSUME6(T.Semicolon);
          return d;
        },
      },
      {
        ALT: () => {
          const expr = this.SUBRULE3(this.expression);
          this.CONSUME7(T.Semicolon);
          return { k: 'expr', expr, pos: expr?.pos } as Stmt;
        },
      },
    ] });
    this.ACTION(() => this.leave());
    return stmt;
  });

  /** `Type name` or `Type[] name` starts a declaration; anything else starting with a name is an expression. */
  private declarationAhead(): boolean {
    if (this.LA(1).tokenType !== T.Identifier) return false;
    const second = this.LA(2).tokenType;
    if (second === T.Identifier) return true;
    return second === T.LBracket && this.LA(3).tokenType === T.RBracket && this.LA(4).tokenType === T.Identifier;
  }

  private declaration = this.RULE('declaration', (): Stmt => {
    const typeTok = this.CONSUME(T.Identifier);
    const isArray = this.OPTION(() => {
      this.CONSUME(T.LBracket);
      this.CONSUME(T.RBracket);
      return true;
    }) ?? false;
    const decls: Declarator[] = [];
    this.AT_LEAST_ONE_SEP({
      SEP: T.Comma,
      DEF: () => {
        const nameTok = this.CONSUME2(T.Identifier);
        const init = this.OPTION2(() => {
          this.CONSUME(T.Assign);
          return this.SUBRULE(this.expression);
        }) ?? null;
        decls.push({ name: nameTok.image, init, pos: posOf(nameTok) });
      },
    });
    return { k: 'decl', typeName: typeTok.image, isArray, decls, pos: posOf(typeTok) };
  });

  private block = this.RULE('block', (): Stmt => {
    const t = this.CONSUME(T.LBrace);
    const body: Stmt[] = [];
    this.MANY(() => {
      body.push(this.SUBRULE(this.statement));
    });
    this.CONSUME(T.RBrace);
    return { k: 'block', body, pos: posOf(t) };
  });

  private ifStatement = this.RULE('ifStatement', (): Stmt => {
    const t = this.CONSUME(T.If);
    this.CONSUME(T.LParen);
    const test = this.SUBRULE(this.expression);
    this.CONSUME(T.RParen);
    const then = this.SUBRULE(this.statement);
    const otherwise = this.OPTION(() => {
      this.CONSUME(T.Else);
      return this.SUBRULE2(this.statement);
    }) ?? null;
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

  private forStatement = this.RULE('forStatement', (): Stmt => {
    const t = this.CONSUME(T.For);
    this.CONSUME(T.LParen);
    const init = this.OPTION(() =>
      this.OR({ IGNORE_AMBIGUITIES: true, DEF: [
        { GATE: () => this.declarationAhead(), ALT: () => this.SUBRULE(this.declaration) },
        {
          ALT: () => {
            const expr = this.SUBRULE(this.expression);
            return { k: 'expr', expr, pos: expr?.pos } as Stmt;
          },
        },
      ] }),
    ) ?? null;
    this.CONSUME(T.Semicolon);
    const test = this.OPTION2(() => this.SUBRULE2(this.expression)) ?? null;
    this.CONSUME2(T.Semicolon);
    const update = this.OPTION3(() => this.SUBRULE3(this.expression)) ?? null;
    this.CONSUME(T.RParen);
    const body = this.SUBRULE(this.statement);
    return { k: 'for', init, test, update, body, pos: posOf(t) };
  });

  /** Assignment (right associative) or a conditional expression. */
  public expression = this.RULE('expression', (): Expr => {
    const first = this.LA(1);
    this.ACTION(() => this.enter(first));
    const left = this.SUBRULE(this.conditional);
    const result = this.OPTION(() => {
      const opTok = this.CONSUME(T.AssignOp);
      const value = this.SUBRULE(this.expression);
      return this.ACTION(() => {
        if (left.k !== 'name' && left.k !== 'index') {
          throw new SelError('syntax', `cannot assign to this expression with '${opTok.image}'`, opTok.startLine ?? 1, opTok.startColumn ?? 1);
        }
        return { k: 'assign', op: opTok.image as AssignOperator, target: left, value, pos: posOf(opTok) } as Expr;
      });
    });
    this.ACTION(() => this.leave());
    return result ?? left;
  });

  private conditional = this.RULE('conditional', (): Expr => {
    const test = this.SUBRULE(this.binary);
    const result = this.OPTION(() => {
      const q = this.CONSUME(T.Question);
      const then = this.SUBRULE(this.expression);
      this.CONSUME(T.Colon);
      const otherwise = this.SUBRULE2(this.expression);
      return { k: 'cond', test, then, otherwise, pos: posOf(q) } as Expr;
    });
    return result ?? test;
  });

  /** All binary operators in one flat rule; precedence is applied while building the tree. */
  private binary = this.RULE('binary', (): Expr => {
    const operands: Expr[] = [this.SUBRULE(this.unary)];
    const ops: IToken[] = [];
    this.MANY(() => {
      ops.push(this.CONSUME(T.BinaryOp));
      operands.push(this.SUBRULE2(this.unary));
    });
    return this.ACTION(() => buildBinary(operands, ops)) ?? operands[0]!;
  });

  private unary = this.RULE('unary', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const t = this.OR2([
            { ALT: () => this.CONSUME(T.Minus) },
            { ALT: () => this.CONSUME(T.Plus) },
            { ALT: () => this.CONSUME(T.Bang) },
          ]);
          this.ACTION(() => this.enter(t));
          const arg = this.SUBRULE(this.unary);
          return this.ACTION(() => {
            this.leave();
            return foldUnary(t, arg);
          });
        },
      },
      { ALT: () => this.SUBRULE(this.postfix) },
    ]);
  });

  private postfix = this.RULE('postfix', (): Expr => {
    let expr = this.SUBRULE(this.primary);
    this.MANY(() => {
      this.OR([
        {
          ALT: () => {
            this.CONSUME(T.Dot);
            const name = this.CONSUME(T.Identifier);
            const args = this.OPTION(() => this.SUBRULE(this.args));
            expr = args
              ? { k: 'call', object: expr, name: name.image, args, pos: posOf(name) }
              : { k: 'field', object: expr, name: name.image, pos: posOf(name) };
          },
        },
        {
          ALT: () => {
            const t = this.CONSUME(T.LBracket);
            const index = this.SUBRULE(this.expression);
            this.CONSUME(T.RBracket);
            expr = { k: 'index', object: expr, index, pos: posOf(t) };
          },
        },
      ]);
    });
    return expr;
  });

  private args = this.RULE('args', (): Expr[] => {
    const args: Expr[] = [];
    this.CONSUME(T.LParen);
    this.MANY_SEP({ SEP: T.Comma, DEF: () => args.push(this.SUBRULE(this.expression)) });
    this.CONSUME(T.RParen);
    return args;
  });

  private primary = this.RULE('primary', (): Expr => {
    return this.OR([
      {
        ALT: () => {
          const t = this.CONSUME(T.LongLiteral);
          return this.ACTION(() => {
            const pos = posOf(t);
            return { k: 'lit', type: 'LONG', value: parseLong(t.image, pos), pos } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.DoubleLiteral);
          return this.ACTION(() => {
            const text = t.image.replace(/[fFdD]$/, '');
            const value = /[fF]$/.test(t.image) ? Math.fround(Number(text)) === Number(text) ? Number(text) : Number(text) : Number(text);
            return { k: 'lit', type: 'DOUBLE', value, pos: posOf(t) } as Expr;
          });
        },
      },
      {
        ALT: () => {
          const t = this.CONSUME(T.StringLiteral);
          return this.ACTION(() => ({ k: 'lit', type: 'STRING', value: unescapeJava(t.image.slice(1, -1)), pos: posOf(t) }) as Expr);
        },
      },
      { ALT: () => ({ k: 'lit', type: 'BOOLEAN', value: true, pos: posOf(this.CONSUME(T.True)) }) as Expr },
      { ALT: () => ({ k: 'lit', type: 'BOOLEAN', value: false, pos: posOf(this.CONSUME(T.False)) }) as Expr },
      { ALT: () => ({ k: 'lit', type: 'NULL', value: null, pos: posOf(this.CONSUME(T.Null)) }) as Expr },
      {
        ALT: () => {
          this.CONSUME(T.LParen);
          const e = this.SUBRULE(this.expression);
          this.CONSUME(T.RParen);
          return e;
        },
      },
      { ALT: () => this.SUBRULE(this.creator) },
      {
        ALT: () => {
          const t = this.CONSUME(T.Identifier);
          return { k: 'name', name: t.image, pos: posOf(t) } as Expr;
        },
      },
    ]);
  });

  private creator = this.RULE('creator', (): Expr => {
    const newTok = this.CONSUME(T.New);
    const cls = this.CONSUME(T.Identifier);
    return this.OR([
      {
        ALT: () => {
          const args = this.SUBRULE(this.args);
          return { k: 'new', className: cls.image, args, pos: posOf(cls) } as Expr;
        },
      },
      {
        ALT: () => {
          this.CONSUME(T.LBracket);
          return this.OR2([
            {
              ALT: () => {
                this.CONSUME(T.RBracket);
                this.CONSUME(T.LBrace);
                const init: Expr[] = [];
                this.MANY_SEP({ SEP: T.Comma, DEF: () => init.push(this.SUBRULE(this.expression)) });
                this.CONSUME(T.RBrace);
                return { k: 'newArray', elemType: cls.image, size: null, init, pos: posOf(newTok) } as Expr;
              },
            },
            {
              ALT: () => {
                const size = this.SUBRULE2(this.expression);
                this.CONSUME2(T.RBracket);
                return { k: 'newArray', elemType: cls.image, size, init: null, pos: posOf(newTok) } as Expr;
              },
            },
          ]);
        },
      },
    ]);
  });
}

function foldUnary(t: IToken, arg: Expr): Expr {
  const op = t.image as '-' | '+' | '!';
  // A negative literal is a literal, so that -9223372036854775808 is in range as in Java.
  if (op === '-' && arg.k === 'lit' && (arg.type === 'LONG' || arg.type === 'DOUBLE')) {
    const value = arg.type === 'LONG' ? BigInt.asIntN(64, -(arg.value as bigint)) : -(arg.value as number);
    return { k: 'lit', type: arg.type, value, pos: posOf(t) };
  }
  return { k: 'unary', op, arg, pos: posOf(t) };
}

function buildBinary(operands: Expr[], ops: IToken[]): Expr {
  if (ops.length === 0) return operands[0]!;
  const out: Expr[] = [];
  const stack: IToken[] = [];
  const reduce = (): void => {
    const opTok = stack.pop()!;
    const right = out.pop()!;
    const left = out.pop()!;
    out.push({ k: 'binary', op: opTok.image as BinaryOperator, left, right, pos: posOf(opTok) });
  };
  out.push(operands[0]!);
  for (let i = 0; i < ops.length; i++) {
    const opTok = ops[i]!;
    const prec = PRECEDENCE[opTok.image]!;
    while (stack.length > 0 && PRECEDENCE[stack[stack.length - 1]!.image]! >= prec) reduce();
    stack.push(opTok);
    out.push(operands[i + 1]!);
  }
  while (stack.length > 0) reduce();
  return out[0]!;
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

export function parse(source: string, maxNesting = DEFAULT_MAX_NESTING): ProgramAst {
  const tokens = T.tokenize(source);
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

function lastLine(tokens: IToken[]): number {
  const t = tokens[tokens.length - 1];
  return t?.endLine ?? 1;
}

function lastColumn(tokens: IToken[]): number {
  const t = tokens[tokens.length - 1];
  return t ? (t.endColumn ?? 0) + 1 : 1;
}
