import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { SignalTrigger, Workflow } from '@baton/engine-core';
import { parseJson } from '../src/json.js';
import type { ActiveDefinition } from '../src/ports.js';

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const samplesDir = path.resolve(repoRoot, '../shared/maestro-samples');

type Raw = Record<string, unknown>;

/** The signal_triggers of a Maestro JSON trigger list in the definition model's shape. */
export function triggersFromMaestro(raw: Raw[]): SignalTrigger[] {
  return raw.map((t) => {
    const defs = t.definitions as Record<string, Raw>;
    const out: SignalTrigger = {
      definitions: Object.fromEntries(
        Object.entries(defs).map(([name, d]) => [
          name,
          {
            matchParams: Object.fromEntries(
              Object.entries((d.match_params ?? {}) as Record<string, Raw>).map(([k, mp]) => {
                const { value, operator, ...extra } = mp;
                return [k, { value: value as never, operator: operator as string, ...(Object.keys(extra).length ? { extra: extra as never } : {}) }];
              }),
            ),
            joinKeys: (d.join_keys ?? []) as string[],
          },
        ]),
      ),
      params: (t.params ?? {}) as never,
    };
    if (typeof t.condition === 'string') out.condition = t.condition;
    if (typeof t.dedup_expr === 'string') out.dedupExpr = t.dedup_expr;
    if (t.join_window_seconds !== undefined) out.extra = { join_window_seconds: t.join_window_seconds as number };
    return out;
  });
}

export function definitionWith(workflowId: string, triggers: SignalTrigger[], version = 1): ActiveDefinition {
  const workflow: Workflow = { id: workflowId, tags: [], params: {}, timeTriggers: [], signalTriggers: triggers, steps: [] };
  return { workflowId, version, workflow };
}

export function sampleSignalTriggerWorkflow(): ActiveDefinition {
  const raw = parseJson(readFileSync(path.join(samplesDir, 'sample-signal-trigger-wf.json'), 'utf8')) as { workflow: { id: string; signal_triggers: Raw[] } };
  return definitionWith(raw.workflow.id, triggersFromMaestro(raw.workflow.signal_triggers));
}
