import { createTokenInstance, type IToken, type TokenType } from 'chevrotain';
import { SelError, limitError } from '../errors.js';
import type { ProgramAst } from './ast.js';
import { DEFAULT_MAX_NESTING } from './expression-grammar.js';
import { fastParse } from './fast-parser.js';
import * as T from './lexer.js';
import { scan } from './scanner.js';
import { SelGrammar } from './statement-grammar.js';

export { DEFAULT_MAX_NESTING };

/**
 * Parsing a SEL program: the fast path (scanner.ts and fast-parser.ts) for valid programs, the
 * Chevrotain grammar (statement-grammar.ts over expression-grammar.ts) for the rest and for every
 * syntax error, whose messages are made here.
 */

let shared: SelGrammar | undefined;

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
  const parser = (shared ??= new SelGrammar());
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
