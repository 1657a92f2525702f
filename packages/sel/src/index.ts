/**
 * SEL — Baton's sandboxed expression language (Maestro-compatible). Pure: no I/O.
 *
 *   const program = compile("return x + 1;");           // parse + check once (cached)
 *   const r = program.evaluate({ x: 41n });              // { ok: true, type: 'LONG', value: 42n }
 *
 * Values: LONG = bigint, DOUBLE = number, STRING = string, BOOLEAN = boolean, NULL = null,
 * arrays = SelArray, MAP = Map<string, Value>, host objects (DateTime...) from the Java library.
 */
export { compile, evaluate, clearCompileCache, Program, COMPILE_CACHE_SIZE } from './program.js';
export type { CompileOptions, EvaluateOptions, EvalResult, SelErrorInfo } from './program.js';
export { SelError, runtimeError, limitError } from './errors.js';
export type { SelErrorKind } from './errors.js';
export type { HostContext } from './host-context.js';
export type { HostExtensions, ExtensionFunction, ExtensionCall } from './extensions.js';
export { DEFAULT_LIMITS, resolveLimits } from './limits.js';
export type { Limits } from './limits.js';
export { SelArray, typeOf, javaString } from './runtime/values.js';
export { javaRegex } from './java/java-regex.js';
export type { JavaPattern } from './java/java-regex.js';
export type { Value, SelMap, SelTypeName, ElementType } from './runtime/values.js';
export { fromJson, varsFromJson, toJson, importValue, checkWorkflowResult } from './convert.js';
export type { ToJsonOptions, ImportMode } from './convert.js';
export { parseJsonPreservingLongs, selValuesFromJsonText, stringifySel } from './json-text.js';
export { toJsonExtension } from './util-extensions.js';
export { parse } from './syntax/parser.js';
export type { ProgramAst, Stmt, Expr, Pos } from './syntax/ast.js';
