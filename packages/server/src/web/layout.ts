/**
 * Layered drawing of a directed graph, left to right: longest-path layering, then crossing
 * reduction by barycenters (a few sweeps each way). Good enough for workflow DAGs and lineage
 * graphs of a few hundred nodes; the pages draw the result as SVG.
 */

export interface LayoutInput {
  /** Node ids with the width the label needs; input order is the tie-breaker within a layer. */
  nodes: readonly { id: string; width: number }[];
  edges: readonly { from: string; to: string }[];
}

export interface PlacedNode {
  id: string;
  layer: number;
  /** Top-left corner and size, in SVG user units. */
  x: number;
  y: number;
  width: number;
  height: number;
}

export interface PlacedEdge {
  from: string;
  to: string;
  /** Bend points between the two nodes (edges spanning several layers go around the nodes between). */
  points: { x: number; y: number }[];
}

export interface Layout {
  nodes: PlacedNode[];
  /** The input edges between known distinct nodes, without duplicates, in input order. */
  edges: PlacedEdge[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 40;
const GAP_X = 64;
const GAP_Y = 22;
const MARGIN = 16;
const SWEEPS = 4;
/** Height a long edge takes where it passes a layer. */
const DUMMY_HEIGHT = 10;
const DUMMY = '\u0000dummy:';

/** Width a label of `chars` characters needs in a node (13px sans-serif, with padding). */
export function labelWidth(chars: number): number {
  return Math.min(440, Math.max(96, Math.round(chars * 7.4 + 28)));
}

export function layoutGraph(input: LayoutInput): Layout {
  const ids = input.nodes.map((n) => n.id);
  const known = new Set(ids);
  const succ = new Map<string, string[]>(ids.map((id) => [id, []]));
  const seen = new Set<string>();
  const kept: { from: string; to: string }[] = [];
  for (const e of input.edges) {
    const key = `${e.from}\u0000${e.to}`;
    if (e.from === e.to || !known.has(e.from) || !known.has(e.to) || seen.has(key)) continue;
    seen.add(key);
    kept.push({ from: e.from, to: e.to });
    succ.get(e.from)!.push(e.to);
  }
  const forward = dropBackEdges(ids, succ);
  const layer = longestPathLayers(ids, forward);

  // A forward edge spanning several layers gets a chain of dummy nodes, one per layer it passes,
  // so crossing reduction and placement keep it clear of the real nodes.
  const chains = new Map<string, string[]>();
  const ordSucc = new Map<string, string[]>(ids.map((id) => [id, []]));
  const ordPred = new Map<string, string[]>(ids.map((id) => [id, []]));
  const link = (a: string, b: string): void => {
    ordSucc.get(a)!.push(b);
    ordPred.get(b)!.push(a);
  };
  for (const e of kept) {
    const from = layer.get(e.from)!;
    const to = layer.get(e.to)!;
    if (to <= from) continue;
    const chain: string[] = [];
    for (let l = from + 1; l < to; l++) {
      const d = `${DUMMY}${chains.size}:${l}`;
      chain.push(d);
      layer.set(d, l);
      ordSucc.set(d, []);
      ordPred.set(d, []);
    }
    chains.set(`${e.from}\u0000${e.to}`, chain);
    const path = [e.from, ...chain, e.to];
    for (let i = 1; i < path.length; i++) link(path[i - 1]!, path[i]!);
  }

  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id);
  for (const chain of chains.values()) for (const d of chain) layers[layer.get(d)!]!.push(d);
  orderByBarycenter(layers, ordSucc, ordPred);

  const isDummy = (id: string): boolean => id.startsWith(DUMMY);
  const widthOf = new Map(input.nodes.map((n) => [n.id, n.width]));
  const heightOf = (id: string): number => (isDummy(id) ? DUMMY_HEIGHT : NODE_HEIGHT);
  const span = (l: readonly string[]): number => l.reduce((sum, id) => sum + heightOf(id), 0) + Math.max(0, l.length - 1) * GAP_Y;
  const columnWidth = layers.map((l) => Math.max(0, ...l.filter((id) => !isDummy(id)).map((id) => widthOf.get(id)!)));
  const tallest = Math.max(0, ...layers.map(span));
  const height = ids.length === 0 ? 0 : tallest + 2 * MARGIN;

  const placed = new Map<string, PlacedNode>();
  let x = MARGIN;
  layers.forEach((l, li) => {
    const col = columnWidth[li]!;
    let y = MARGIN + (tallest - span(l)) / 2;
    for (const id of l) {
      const w = isDummy(id) ? 0 : widthOf.get(id)!;
      placed.set(id, { id, layer: li, x: x + (col - w) / 2, y, width: w, height: heightOf(id) });
      y += heightOf(id) + GAP_Y;
    }
    x += col + GAP_X;
  });
  const width = layers.length === 0 ? 0 : x - GAP_X + MARGIN;
  const edges = kept.map((e) => ({
    from: e.from,
    to: e.to,
    points: (chains.get(`${e.from}\u0000${e.to}`) ?? []).map((d) => {
      const p = placed.get(d)!;
      return { x: p.x, y: p.y + p.height / 2 };
    }),
  }));
  return { nodes: ids.map((id) => placed.get(id)!), edges, width, height };
}

/** Successor lists without the edges that close a cycle (found by depth-first search). */
function dropBackEdges(ids: readonly string[], succ: Map<string, string[]>): Map<string, string[]> {
  const state = new Map<string, 1 | 2>();
  const forward = new Map<string, string[]>(ids.map((id) => [id, []]));
  for (const root of ids) {
    if (state.has(root)) continue;
    // Iterative, so a long chain cannot overflow the stack.
    const stack: { id: string; next: number }[] = [{ id: root, next: 0 }];
    state.set(root, 1);
    while (stack.length > 0) {
      const top = stack[stack.length - 1]!;
      const out = succ.get(top.id)!;
      if (top.next >= out.length) {
        state.set(top.id, 2);
        stack.pop();
        continue;
      }
      const to = out[top.next++]!;
      const s = state.get(to);
      if (s === 1) continue;
      forward.get(top.id)!.push(to);
      if (s === undefined) {
        state.set(to, 1);
        stack.push({ id: to, next: 0 });
      }
    }
  }
  return forward;
}

function longestPathLayers(ids: readonly string[], forward: Map<string, string[]>): Map<string, number> {
  const indegree = new Map<string, number>(ids.map((id) => [id, 0]));
  for (const outs of forward.values()) for (const to of outs) indegree.set(to, indegree.get(to)! + 1);
  const layer = new Map<string, number>(ids.map((id) => [id, 0]));
  const queue = ids.filter((id) => indegree.get(id) === 0);
  for (let i = 0; i < queue.length; i++) {
    const id = queue[i]!;
    for (const to of forward.get(id)!) {
      layer.set(to, Math.max(layer.get(to)!, layer.get(id)! + 1));
      const left = indegree.get(to)! - 1;
      indegree.set(to, left);
      if (left === 0) queue.push(to);
    }
  }
  return layer;
}

function orderByBarycenter(layers: string[][], forward: Map<string, string[]>, pred: Map<string, string[]>): void {
  const position = new Map<string, number>();
  const record = (l: readonly string[]): void => l.forEach((id, i) => position.set(id, i));
  layers.forEach(record);
  const reorder = (l: string[], neighbours: (id: string) => readonly string[]): void => {
    const keyed = l.map((id, i) => {
      const ps = neighbours(id).map((n) => position.get(n)).filter((p): p is number => p !== undefined);
      return { id, i, key: ps.length === 0 ? i : ps.reduce((a, b) => a + b, 0) / ps.length };
    });
    keyed.sort((a, b) => a.key - b.key || a.i - b.i);
    l.splice(0, l.length, ...keyed.map((k) => k.id));
    record(l);
  };
  const predecessors = (id: string): string[] => pred.get(id)!;
  const successors = (id: string): string[] => forward.get(id)!;
  for (let s = 0; s < SWEEPS; s++) {
    for (let i = 1; i < layers.length; i++) reorder(layers[i]!, predecessors);
    for (let i = layers.length - 2; i >= 0; i--) reorder(layers[i]!, successors);
  }
}
