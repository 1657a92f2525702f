import { activeWorkflowsFingerprint, listActiveWorkflowsFingerprinted, walkSteps, type Queryable, type StoredVersion, type TimeTrigger } from '@baton/engine-core';
import { MAX_LINEAGE_DEPTH } from './lineage.js';

/**
 * The lineage catalog: which signal names feed which workflows and which signals those publish,
 * across every active workflow (an asset graph, from definitions rather than recorded runs).
 */
export type CatalogNode =
  | { id: string; type: 'signal'; name: string }
  | { id: string; type: 'workflow'; workflow_id: string; name: string | null; version: number }
  | { id: string; type: 'time_trigger'; workflow_id: string; trigger_index: number; trigger_type: TimeTrigger['type']; expression: string; timezone: string | null; disabled: boolean };

/**
 * TRIGGERS: a signal of a workflow's signal trigger. UNBLOCKS: a signal some steps of the
 * workflow wait for (`steps`). EMITS: a signal some steps publish when they succeed (`steps`).
 * FIRES: a time trigger of the workflow.
 */
export type CatalogEdgeKind = 'TRIGGERS' | 'UNBLOCKS' | 'EMITS' | 'FIRES';

export interface CatalogEdge {
  from: string;
  to: string;
  kind: CatalogEdgeKind;
  /** The steps (ids) that wait for or publish the signal. */
  steps?: string[];
}

export interface LineageCatalog {
  nodes: CatalogNode[];
  edges: CatalogEdge[];
  /** The node the graph is centred on, when asked for one. */
  focus: string | null;
  depth: number | null;
  /** True when the node limit cut the graph short. */
  truncated: boolean;
}

export interface CatalogQuery {
  /** Centre on a workflow (`workflow`) or a signal name (`signal`), `depth` hops up- and downstream. */
  focus?: { workflow: string } | { signal: string };
  /** 1..MAX_LINEAGE_DEPTH, default 2; only with `focus`. */
  depth?: number;
  /** Most nodes returned (default 2,000). */
  maxNodes?: number;
}

export class CatalogFocusNotFoundError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CatalogFocusNotFoundError';
  }
}

export const CATALOG_DEFAULT_DEPTH = 2;
const DEFAULT_MAX_NODES = 2000;

export const catalogSignalId = (name: string): string => `signal:${name}`;
export const catalogWorkflowId = (workflowId: string): string => `workflow:${workflowId}`;
const timeTriggerId = (workflowId: string, index: number): string => `time:${workflowId}#${index}`;

function timeExpression(t: TimeTrigger): string {
  if (t.type === 'CRON') return t.cron;
  if (t.type === 'PREDEFINED') return t.expression;
  return t.interval;
}

/** The whole catalog graph of the given active versions (pure: no I/O). */
export function buildCatalog(versions: readonly StoredVersion[]): { nodes: Map<string, CatalogNode>; edges: CatalogEdge[] } {
  const nodes = new Map<string, CatalogNode>();
  const edges = new Map<string, CatalogEdge>();
  const signal = (name: string): string => {
    const id = catalogSignalId(name);
    if (!nodes.has(id)) nodes.set(id, { id, type: 'signal', name });
    return id;
  };
  const edge = (from: string, to: string, kind: CatalogEdgeKind, step?: string): void => {
    const key = `${from}\u0000${to}\u0000${kind}`;
    let e = edges.get(key);
    if (!e) {
      e = step === undefined ? { from, to, kind } : { from, to, kind, steps: [] };
      edges.set(key, e);
    }
    if (step !== undefined && !e.steps!.includes(step)) e.steps!.push(step);
  };
  for (const v of versions) {
    const wf = catalogWorkflowId(v.workflowId);
    nodes.set(wf, { id: wf, type: 'workflow', workflow_id: v.workflowId, name: v.workflow.name ?? null, version: v.version });
    v.workflow.timeTriggers.forEach((t, i) => {
      const id = timeTriggerId(v.workflowId, i);
      const timezone = t.type === 'INTERVAL' ? null : (t.timezone ?? null);
      nodes.set(id, { id, type: 'time_trigger', workflow_id: v.workflowId, trigger_index: i, trigger_type: t.type, expression: timeExpression(t), timezone, disabled: v.properties.timeTriggerDisabled === true });
      edge(id, wf, 'FIRES');
    });
    for (const t of v.workflow.signalTriggers) for (const name of Object.keys(t.definitions)) edge(signal(name), wf, 'TRIGGERS');
    walkSteps(v.workflow.steps, (step) => {
      for (const d of step.signalDependencies) edge(signal(d.name), wf, 'UNBLOCKS', step.id);
      for (const o of step.signalOutputs) edge(wf, signal(o.name), 'EMITS', step.id);
    });
  }
  return { nodes, edges: [...edges.values()] };
}

/** The whole graph with its adjacency, as kept between requests (never changed once built). */
interface CatalogGraph {
  fingerprint: string;
  nodes: Map<string, CatalogNode>;
  edges: CatalogEdge[];
  out: Map<string, string[]>;
  inb: Map<string, string[]>;
  /** A workflow node's time trigger nodes. */
  fires: Map<string, string[]>;
  /** Each node's place in `nodes`, and the indexes in `edges` of each node's out-edges. */
  rank: Map<string, number>;
  outEdges: Map<string, number[]>;
  /** The parsed active versions by key (`workflow@version:md5(properties)`), reused by the next rebuild. */
  versions: Map<string, StoredVersion>;
}

function indexGraph(fingerprint: string, versions: Map<string, StoredVersion>): CatalogGraph {
  const { nodes, edges } = buildCatalog([...versions.values()]);
  const out = new Map<string, string[]>();
  const inb = new Map<string, string[]>();
  const fires = new Map<string, string[]>();
  const outEdges = new Map<string, number[]>();
  const add = <T>(m: Map<string, T[]>, k: string, v: T): void => {
    (m.get(k) ?? m.set(k, []).get(k)!).push(v);
  };
  edges.forEach((e, i) => {
    add(out, e.from, e.to);
    add(inb, e.to, e.from);
    add(outEdges, e.from, i);
    if (e.kind === 'FIRES') add(fires, e.to, e.from);
  });
  const rank = new Map([...nodes.keys()].map((id, i) => [id, i]));
  return { fingerprint, nodes, edges, out, inb, fires, rank, outEdges, versions };
}

/**
 * The last graph built per database handle (each process keeps its own). Every request reads the
 * active workflows' fingerprint (one cheap query, no definition read) and rebuilds only when it
 * changed: a push, activation, deactivation or properties change by any process changes it.
 */
const built = new WeakMap<Queryable, CatalogGraph>();
const building = new WeakMap<Queryable, Promise<CatalogGraph>>();

async function catalogGraph(q: Queryable): Promise<CatalogGraph> {
  const fingerprint = await activeWorkflowsFingerprint(q);
  const hit = built.get(q);
  if (hit?.fingerprint === fingerprint) return hit;
  // Concurrent requests after a change share one rebuild; one that started before this change
  // is not reused as it is (its fingerprint is checked again) but its parsed versions are.
  const pending = building.get(q);
  const base = pending ? await pending.catch(() => hit) : hit;
  if (base?.fingerprint === fingerprint) return base;
  const next = rebuild(q, base);
  building.set(q, next);
  try {
    const g = await next;
    built.set(q, g);
    return g;
  } finally {
    if (building.get(q) === next) building.delete(q);
  }
}

/** The graph of the active versions now, parsing only the versions `prev` did not have. */
async function rebuild(q: Queryable, prev: CatalogGraph | undefined): Promise<CatalogGraph> {
  const { fingerprint, versions } = await listActiveWorkflowsFingerprinted(q, prev ? [...prev.versions.keys()] : []);
  const byKey = new Map<string, StoredVersion>();
  for (const v of versions) {
    const stored = v.version ?? prev?.versions.get(v.key);
    if (!stored) throw new Error(`lineage catalog: version ${v.key} was neither read nor kept`);
    byKey.set(v.key, stored);
  }
  return indexGraph(fingerprint, byKey);
}

/** Nodes within `depth` hops of `start`, following edges downstream and, separately, upstream. */
function around(start: string, graph: CatalogGraph, depth: number, limit: number): { keep: Set<string>; truncated: boolean } {
  const keep = new Set([start]);
  let truncated = false;
  for (const next of [graph.out, graph.inb]) {
    let frontier = [start];
    const seen = new Set([start]);
    for (let d = 0; d < depth && frontier.length > 0; d++) {
      const after: string[] = [];
      for (const id of frontier) {
        for (const n of next.get(id) ?? []) {
          if (seen.has(n)) continue;
          seen.add(n);
          after.push(n);
          if (keep.size >= limit && !keep.has(n)) {
            truncated = true;
            continue;
          }
          keep.add(n);
        }
      }
      frontier = after;
    }
  }
  // A workflow's time triggers belong with it wherever it is shown.
  for (const id of [...keep]) for (const t of graph.fires.get(id) ?? []) if (keep.size < limit) keep.add(t);
  return { keep, truncated };
}

/**
 * The lineage catalog of the active workflow versions, whole or around a focus. Throws
 * `CatalogFocusNotFoundError` when the focus is no active workflow or no signal any of them uses,
 * and RangeError for a depth outside 1..MAX_LINEAGE_DEPTH.
 */
export async function lineageCatalog(q: Queryable, query: CatalogQuery = {}): Promise<LineageCatalog> {
  const limit = query.maxNodes ?? DEFAULT_MAX_NODES;
  const depth = query.depth ?? CATALOG_DEFAULT_DEPTH;
  if (!Number.isInteger(depth) || depth < 1 || depth > MAX_LINEAGE_DEPTH) throw new RangeError(`depth must be an integer from 1 to ${MAX_LINEAGE_DEPTH}`);
  const graph = await catalogGraph(q);
  const { nodes } = graph;
  let keep: Set<string>;
  let truncated: boolean;
  let focus: string | null = null;
  if (query.focus) {
    focus = 'workflow' in query.focus ? catalogWorkflowId(query.focus.workflow) : catalogSignalId(query.focus.signal);
    if (!nodes.has(focus)) {
      throw new CatalogFocusNotFoundError(
        'workflow' in query.focus ? `workflow "${query.focus.workflow}" does not exist or has no active version` : `no active workflow uses signal "${query.focus.signal}"`,
      );
    }
    ({ keep, truncated } = around(focus, graph, depth, limit));
  } else {
    keep = new Set([...nodes.keys()].slice(0, limit));
    truncated = nodes.size > limit;
  }
  return {
    nodes: query.focus ? [...keep].sort((a, b) => graph.rank.get(a)! - graph.rank.get(b)!).map((id) => nodes.get(id)!) : [...nodes.values()].filter((n) => keep.has(n.id)),
    edges: keepEdges(graph, keep, !query.focus),
    focus,
    depth: query.focus ? depth : null,
    truncated,
  };
}

/** The edges between kept nodes, in the graph's order: a few kept nodes cost only their own edges. */
function keepEdges(graph: CatalogGraph, keep: Set<string>, whole: boolean): CatalogEdge[] {
  if (whole) return graph.edges.filter((e) => keep.has(e.from) && keep.has(e.to));
  const picked: number[] = [];
  for (const id of keep) for (const i of graph.outEdges.get(id) ?? []) if (keep.has(graph.edges[i]!.to)) picked.push(i);
  return picked.sort((a, b) => a - b).map((i) => graph.edges[i]!);
}
