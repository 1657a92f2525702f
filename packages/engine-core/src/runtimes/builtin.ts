import type { SelEvaluate } from '../runtime/sel-port.js';
import type { StepRuntime } from '../runtime/step-runtime.js';
import { httpRuntime, type HttpRuntimeOptions } from './http-runtime.js';
import { shellRuntime, type ShellRuntimeOptions } from './shell-runtime.js';

export interface BuiltinRuntimeOptions {
  /** The Http step; without it the step is still registered, with an empty allow-list (every request refused). */
  http?: HttpRuntimeOptions;
  /**
   * The shell-command step runs any program the engine's user may run, so an installation opts in
   * by passing options (`{}` for the defaults); without them `Shell` steps find no runtime.
   */
  shell?: ShellRuntimeOptions;
}

/** A RuntimeRegistry, or an Engine (whose method is `registerRuntime`). */
export type RuntimeTarget = { register(type: string, runtime: StepRuntime): void } | { registerRuntime(type: string, runtime: StepRuntime): void };

/** Registers `Http`, and `Shell`/`ShellCommand` when enabled. */
export function registerBuiltinRuntimes(target: RuntimeTarget, options: BuiltinRuntimeOptions = {}): void {
  const add = (type: string, runtime: StepRuntime): void => {
    if ('registerRuntime' in target) target.registerRuntime(type, runtime);
    else target.register(type, runtime);
  };
  // On an Engine, `state_expr` is evaluated with its SEL pool and wall-clock limit.
  const evaluateSel = 'evaluateSel' in target ? (target as { evaluateSel: SelEvaluate }).evaluateSel : undefined;
  add('Http', httpRuntime({ evaluateSel, ...(options.http ?? { allowedHosts: [] }) }));
  if (options.shell) {
    const shell = shellRuntime(options.shell);
    add('Shell', shell);
    add('ShellCommand', shell);
  }
}
