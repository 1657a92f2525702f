import type { ProgramAst } from './syntax/ast.js';
import type { CompiledProgram } from './compile/closures.js';
import { CompileContext } from './compile/context.js';
import { compileExpression } from './compile/expressions.js';
import { block } from './compile/statements.js';

export { asSelError, locate, BREAK, CONTINUE, NORMAL, RETURN, type CompiledProgram, type Ev, type Ex } from './compile/closures.js';
export { MAX_EXPRESSION_DEPTH } from './compile/context.js';

/**
 * Compiles a parsed program to closures (see compile/: the compile context, statements,
 * expressions, binary operators, assignments, calls and members, and the closures' runtime).
 */
export function compileAst(ast: ProgramAst): CompiledProgram {
  const c = new CompileContext(ast.body, ast.assigned, compileExpression);
  const run = block(c, ast.body);
  const declared = c.declared;
  const inputNames = declared === undefined ? c.inputNames : c.inputNames.filter((n) => !declared.includes(n));
  return { run, slotNames: c.slotNames, inputNames, readsParams: c.readsParams, stackNeed: c.stackNeed, stackPos: c.stackPos, writesSlots: c.writesSlots };
}
