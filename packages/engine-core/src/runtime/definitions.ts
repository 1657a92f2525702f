import type { Queryable } from '../db/db.js';
import type { Properties, Step, Workflow } from '../definition/model.js';
import { getVersion } from '../definition/store.js';

/** One immutable version of a workflow, as the runtime executes it. */
export interface WorkflowVersion {
  workflowId: string;
  version: number;
  properties: Properties;
  workflow: Workflow;
}

export type VersionSelector = 'active' | 'latest' | number;

/**
 * Where the runtime reads definitions from (the versions store implements it). Numbered versions
 * are immutable, so the runtime caches them; 'active' and 'latest' are asked every time.
 */
export interface DefinitionSource {
  /**
   * `q` is the transaction the engine is in, when it asks from inside one: a source that reads the
   * database must use it (PGlite has one connection, so a second one would wait forever).
   */
  getVersion(workflowId: string, version: VersionSelector, q?: Queryable): Promise<WorkflowVersion | undefined>;
}

/**
 * Definitions held in memory: for embedding the engine without the versions store, and for
 * processes that load a fixed set of workflows from files.
 */
export class InMemoryDefinitions implements DefinitionSource {
  private readonly versions = new Map<string, WorkflowVersion[]>();
  private readonly active = new Map<string, number>();

  /** Adds the next version of `workflow.id` and makes it active (unless `activate` is false). */
  add(def: { properties?: Properties; workflow: Workflow }, activate = true): WorkflowVersion {
    const list = this.versions.get(def.workflow.id) ?? [];
    const v: WorkflowVersion = {
      workflowId: def.workflow.id,
      version: list.length + 1,
      properties: def.properties ?? list.at(-1)?.properties ?? {},
      workflow: def.workflow,
    };
    list.push(v);
    this.versions.set(def.workflow.id, list);
    if (activate) this.active.set(def.workflow.id, v.version);
    return v;
  }

  async getVersion(workflowId: string, version: VersionSelector): Promise<WorkflowVersion | undefined> {
    const list = this.versions.get(workflowId);
    if (!list) return undefined;
    if (version === 'latest') return list.at(-1);
    const n = version === 'active' ? this.active.get(workflowId) : version;
    return n === undefined ? undefined : list[n - 1];
  }
}

/** The steps of a version, indexed, with predecessor lists (computed once per version). */
export interface Dag {
  steps: Map<string, Step>;
  /** In definition order. */
  order: string[];
  predecessors: Map<string, string[]>;
  roots: string[];
}

export function buildDag(workflow: Workflow): Dag {
  const steps = new Map<string, Step>();
  const order: string[] = [];
  for (const s of workflow.steps) {
    steps.set(s.id, s);
    order.push(s.id);
  }
  const predecessors = new Map<string, string[]>(order.map((id) => [id, []]));
  for (const s of workflow.steps) {
    for (const succ of Object.keys(s.transition.successors)) {
      const list = predecessors.get(succ);
      if (!list) throw new Error(`step ${s.id} names an unknown successor ${succ}`);
      list.push(s.id);
    }
  }
  return { steps, order, predecessors, roots: order.filter((id) => predecessors.get(id)!.length === 0) };
}

/** The versions store (`definition/store.ts`) as the runtime's definition source. */
export function storeDefinitions(db: Queryable): DefinitionSource {
  return { getVersion: (workflowId, version, q) => getVersion(q ?? db, workflowId, version) };
}
