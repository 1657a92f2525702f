import type { ParamDef, ParamMode } from '../definition/model.js';
import { RESERVED_PARAM_NAMES } from './defaults.js';

/**
 * The layers of a step's params, lowest first (WORKFLOWS.md "Merge order"): reserved defaults →
 * runtime-injected → type defaults (foreach loop_index, loop_params) → workflow and step info →
 * new run params → step definition params → run/restart overrides.
 */
export const STEP_MERGE_ORDER = ['reserved', 'runtime', 'typeDefaults', 'info', 'runParams', 'definition', 'overrides'] as const;
export type StepParamLayer = (typeof STEP_MERGE_ORDER)[number];

/** A workflow's params, lowest first: defaults → definition → start-request params → restart overrides. */
export const WORKFLOW_MERGE_ORDER = ['defaults', 'definition', 'runParams', 'overrides'] as const;
export type WorkflowParamLayer = (typeof WORKFLOW_MERGE_ORDER)[number];

/** Only a param's name, type and mode matter to merging; works for definitions and evaluated params. */
export type Mergeable = Pick<ParamDef, 'name' | 'type' | 'mode'>;

export interface MergeIssue {
  name: string;
  layer: string;
  message: string;
}

export interface MergeResult<P> {
  params: Record<string, P>;
  /** Refused changes; the earlier value is kept for each. */
  errors: MergeIssue[];
}

/** Which layers may set a reserved name: only the engine's own. */
const ENGINE_LAYERS = new Set(['reserved', 'runtime', 'typeDefaults', 'info', 'defaults']);
/** Layers that come from a user request (start or restart), where modes are enforced. */
const REQUEST_LAYERS = new Set(['runParams', 'overrides']);

/** May a request change a param of this mode? `restart` is stricter than a fresh start. */
function modeAllows(mode: ParamMode | undefined, phase: 'start' | 'restart'): boolean {
  switch (mode ?? 'MUTABLE') {
    case 'CONSTANT':
    case 'IMMUTABLE':
      return false;
    case 'MUTABLE_ON_START':
      return phase === 'start';
    case 'MUTABLE_ON_START_RESTART':
    case 'MUTABLE':
      return true;
  }
}

function mergeLayers<P extends Mergeable>(
  order: readonly string[],
  layers: Partial<Record<string, Readonly<Record<string, P>>>>,
  phase: 'start' | 'restart',
): MergeResult<P> {
  const params: Record<string, P> = Object.create(null) as Record<string, P>;
  const errors: MergeIssue[] = [];
  for (const layer of order) {
    const given = layers[layer];
    if (!given) continue;
    for (const [name, p] of Object.entries(given)) {
      if (RESERVED_PARAM_NAMES.has(name) && !ENGINE_LAYERS.has(layer)) {
        errors.push({ name, layer, message: `"${name}" is reserved and cannot be set` });
        continue;
      }
      const prev = params[name];
      if (prev && REQUEST_LAYERS.has(layer)) {
        if (!modeAllows(prev.mode, phase)) {
          errors.push({ name, layer, message: `"${name}" is ${prev.mode ?? 'MUTABLE'} and cannot be changed on ${phase}` });
          continue;
        }
        if (prev.type !== undefined && p.type !== undefined && prev.type !== p.type) {
          errors.push({ name, layer, message: `"${name}" is ${prev.type}; an override of type ${p.type} is not allowed` });
          continue;
        }
      }
      params[name] = p;
    }
  }
  return { params: { ...params }, errors };
}

/** Merges a step's param layers (later wins), enforcing reserved names, modes and types. */
export function mergeStepParams<P extends Mergeable>(
  layers: Partial<Record<StepParamLayer, Readonly<Record<string, P>>>>,
  phase: 'start' | 'restart' = 'start',
): MergeResult<P> {
  return mergeLayers(STEP_MERGE_ORDER, layers, phase);
}

/** Merges a workflow's param layers (later wins), enforcing reserved names, modes and types. */
export function mergeWorkflowParams<P extends Mergeable>(
  layers: Partial<Record<WorkflowParamLayer, Readonly<Record<string, P>>>>,
  phase: 'start' | 'restart' = 'start',
): MergeResult<P> {
  return mergeLayers(WORKFLOW_MERGE_ORDER, layers, phase);
}
