import type { Queryable } from '@baton/engine-core';
import { parseJson } from './json.js';
import type { ConsumedSignal } from './ports.js';
import type { ParamValue } from './model.js';

/** Raised by the SEL functions below when the asked-for signal or param is not there. */
export class SignalParamError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SignalParamError';
  }
}

/**
 * `params.getFromSignal(signalName, param)` and `params.getFromSignal(param)` for a run started
 * by a signal trigger. `signals` are the consumed instances (the start request's initiator, or
 * `loadFiringSignals`). The one-argument form looks the param up in the trigger's signals in
 * definition order.
 */
export function getFromSignal(signals: readonly ConsumedSignal[], first: string, second?: string): ParamValue {
  if (second === undefined) {
    for (const s of signals) if (Object.prototype.hasOwnProperty.call(s.params, first)) return s.params[first]!;
    throw new SignalParamError(`no signal that started this run has a param named ${first}`);
  }
  const s = signals.find((x) => x.name === first);
  if (!s) {
    const by = signals.length > 0 ? `it was triggered by ${signals.map((x) => x.name).join(', ')}` : 'no signal triggered it';
    throw new SignalParamError(`no signal named ${first} triggered this run (${by})`);
  }
  if (!Object.prototype.hasOwnProperty.call(s.params, second)) throw new SignalParamError(`signal ${first}#${s.seq_id} has no param named ${second}`);
  return s.params[second]!;
}

/**
 * `params.getFromSignalDependency(index, param)`: the matched instance of the step's dependency
 * at `index` (a string like '0', as Maestro writes it, or a number).
 */
export function getFromSignalDependency(matched: readonly (ConsumedSignal | null)[], index: string | number, param: string): ParamValue {
  const i = typeof index === 'number' ? index : Number(index);
  if (!Number.isInteger(i) || i < 0 || i >= matched.length) throw new SignalParamError(`the step has no signal dependency ${index} (it has ${matched.length})`);
  const s = matched[i];
  if (!s) throw new SignalParamError(`signal dependency ${index} has not matched any signal`);
  if (!Object.prototype.hasOwnProperty.call(s.params, param)) throw new SignalParamError(`signal ${s.name}#${s.seq_id} has no param named ${param}`);
  return s.params[param]!;
}

/** The signals a trigger firing consumed, by the start request id (for a run's SEL context). */
export async function loadFiringSignals(q: Queryable, requestId: string): Promise<ConsumedSignal[] | undefined> {
  const res = await q.query<{ signals: string }>('SELECT signals::text AS signals FROM signal_trigger_firings WHERE request_id = $1', [requestId]);
  const row = res.rows[0];
  return row ? (parseJson(row.signals) as unknown as ConsumedSignal[]) : undefined;
}
