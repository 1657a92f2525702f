import { getFromSignal, type TriggerExpressionContext, type TriggerExpressions } from '@baton/signals';
import { evaluateSel, stringArg } from './sel.js';

function evaluate(source: string, ctx: TriggerExpressionContext): Promise<unknown> {
  // The signals' params by name (the first signal of the trigger wins a shared name), plus
  // params.getFromSignal as in a run started by the trigger.
  const vars: Record<string, unknown> = {};
  for (const s of [...ctx.signals].reverse()) Object.assign(vars, s.params);
  return evaluateSel(source, vars, {
    getFromSignal: (args) => getFromSignal(ctx.signals, stringArg(args[0], 'signal name or param'), args[1] === undefined ? undefined : stringArg(args[1], 'param name')),
  });
}

/** A trigger's SEL `condition` and `dedup_expr`, evaluated with `@baton/sel` in Maestro mode. */
export const signalTriggerExpressions: TriggerExpressions = {
  async condition(source, ctx) {
    const v = await evaluate(source, ctx);
    if (typeof v !== 'boolean') throw new Error(`signal trigger condition of ${ctx.workflowId} must be a BOOLEAN, got ${v === null ? 'NULL' : typeof v}`);
    return v;
  },
  async dedupKey(source, ctx) {
    const v = await evaluate(source, ctx);
    return v === null || v === undefined ? undefined : typeof v === 'object' ? JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x)) : String(v);
  },
};
