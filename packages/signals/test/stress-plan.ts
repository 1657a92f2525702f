import type { SignalTrigger } from '@baton/engine-core';
import { triggersFromMaestro } from './maestro-sample.js';
import { mulberry32 } from '../../../test/support/rng.js';


export const NAMES = Array.from({ length: 20 }, (_, i) => `stress/n${String(i).padStart(2, '0')}`);
export const PUBLISHERS = 8;

export interface PlannedSignal {
  name: string;
  params: { part: number; kind: string; level: number; uid: number };
}

/** 5,000 signals over 20 names; 30% re-publish an earlier signal (same name and params). */
export function stressSignals(total = 5000, seed = 42): PlannedSignal[] {
  const rnd = mulberry32(seed);
  const out: PlannedSignal[] = [];
  for (let i = 0; i < total; i++) {
    if (out.length > 0 && rnd() < 0.3) {
      out.push(out[Math.floor(rnd() * out.length)]!);
      continue;
    }
    out.push({
      name: NAMES[Math.floor(rnd() * NAMES.length)]!,
      params: { part: Math.floor(rnd() * 8), kind: rnd() < 0.8 ? 'ok' : 'skip', level: Math.floor(rnd() * 100), uid: i },
    });
  }
  return out;
}

export interface StressTrigger {
  workflowId: string;
  left: string;
  right: string;
  minLevel: number;
}

/** 50 workflows, each joining two names on `part` (left.part = right.part). */
export function stressTriggers(): StressTrigger[] {
  return Array.from({ length: 50 }, (_, k) => {
    const left = NAMES[k % 20]!;
    let right = NAMES[(k * 7 + 3) % 20]!;
    if (right === left) right = NAMES[(k + 1) % 20]!;
    return { workflowId: `stress-wf-${k}`, left, right, minLevel: (k * 13) % 60 };
  });
}

export function toSignalTrigger(t: StressTrigger): SignalTrigger[] {
  return triggersFromMaestro([
    {
      definitions: {
        [t.left]: { match_params: { kind: { value: 'ok', operator: '=' }, level: { value: t.minLevel, operator: '>=' } }, join_keys: ['part'] },
        [t.right]: { match_params: { kind: { value: 'ok', operator: '=' } }, join_keys: ['part'] },
      },
      dedup_expr: 'return UUID.randomUUID().toString();',
    },
  ]);
}

/** The signals publisher `p` of `PUBLISHERS` sends, in order. */
export function publisherShare(all: PlannedSignal[], p: number): PlannedSignal[] {
  return all.filter((_, i) => i % PUBLISHERS === p);
}
