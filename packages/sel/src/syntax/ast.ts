/** The SEL syntax tree. Every node keeps the place of the code that errors should point at. */
export interface Pos {
  /** 1-based line. */
  line: number;
  /** 1-based column. */
  column: number;
  /** 0-based offset into the source. */
  offset: number;
}

export type LiteralType = 'LONG' | 'DOUBLE' | 'STRING' | 'BOOLEAN' | 'NULL';
export type BinaryOperator = '+' | '-' | '*' | '/' | '%' | '==' | '!=' | '<' | '>' | '<=' | '>=' | '&&' | '||';
export type AssignOperator = '=' | '+=' | '-=' | '*=' | '/=' | '%=';

export type Expr =
  | { k: 'lit'; type: LiteralType; value: bigint | number | string | boolean | null; pos: Pos }
  | { k: 'name'; name: string; pos: Pos }
  | { k: 'unary'; op: '-' | '+' | '!'; arg: Expr; pos: Pos }
  | { k: 'binary'; op: BinaryOperator; left: Expr; right: Expr; pos: Pos }
  | { k: 'cond'; test: Expr; then: Expr; otherwise: Expr; pos: Pos }
  | { k: 'assign'; op: AssignOperator; target: Expr; value: Expr; pos: Pos }
  | { k: 'field'; object: Expr; name: string; pos: Pos }
  | { k: 'call'; object: Expr; name: string; args: Expr[]; pos: Pos }
  | { k: 'index'; object: Expr; index: Expr; pos: Pos }
  | { k: 'new'; className: string; args: Expr[]; pos: Pos }
  | { k: 'newArray'; elemType: string; size: Expr | null; init: Expr[] | null; pos: Pos };

export interface Declarator {
  name: string;
  init: Expr | null;
  pos: Pos;
}

export type Stmt =
  | { k: 'expr'; expr: Expr; pos: Pos }
  | { k: 'decl'; typeName: string; isArray: boolean; decls: Declarator[]; pos: Pos }
  | { k: 'block'; body: Stmt[]; pos: Pos }
  | { k: 'if'; test: Expr; then: Stmt; otherwise: Stmt | null; pos: Pos }
  | { k: 'while'; test: Expr; body: Stmt; pos: Pos }
  | { k: 'for'; init: Stmt | null; test: Expr | null; update: Expr | null; body: Stmt; pos: Pos }
  | { k: 'break'; pos: Pos }
  | { k: 'continue'; pos: Pos }
  | { k: 'return'; value: Expr | null; pos: Pos }
  | { k: 'throw'; value: Expr; pos: Pos }
  | { k: 'empty'; pos: Pos };

export interface ProgramAst {
  body: Stmt[];
  /**
   * Every name declared or assigned anywhere in the program, when the parser recorded them (the
   * fast parser does); without it the compiler finds them by walking the tree.
   */
  assigned?: string[];
}
