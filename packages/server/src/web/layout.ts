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

export interface Layout {
  nodes: PlacedNode[];
  width: number;
  height: number;
}

export const NODE_HEIGHT = 40;
const GAP_X = 64;
const GAP_Y = 22;
const MARGIN = 16;
const SWEEPS = 4;

/** Width a label of `chars` characters needs in a node (13px sans-serif, with padding). */
export function labelWidth(chars: number): number {
  return Math.min(320, Math.max(96, Math.round(chars * 7.4 + 28)));
}

export function layoutGraph(input: LayoutInput): Layout {
  const ids = input.nodes.map((n) => n.id);
  const known = new Set(ids);
  const succ = new Map<string, string[]>(ids.map((id) => [id, []]));
  const pred = new Map<string, string[]>(ids.map((id) => [id, []]));
  const seen = new Set<string>();
  for (const e of input.edges) {
    const key = `${e.from}\u0000${e.to}`;
    if (e.from === e.to || !known.has(e.from) || !known.has(e.to) || seen.has(key)) continue;
    seen.add(key);
    succ.get(e.from)!.push(e.to);
    pred.get(e.to)!.push(e.from);
  }
  const forward = dropBackEdges(ids, succ);
  const layer = longestPathLayers(ids, forward);

  const layers: string[][] = [];
  for (const id of ids) (layers[layer.get(id)!] ??= []).push(id);
  orderByBarycenter(layers, forward, pred);

  const widthOf = new Map(input.nodes.map((n) => [n.id, n.width]));
  const columnWidth = layers.map((l) => Math.max(...l.map((id) => widthOf.get(id)!)));
  const tallest = Math.max(0, ...layers.map((l) => l.length));
  const height = tallest === 0 ? 0 : tallest * NODE_HEIGHT + (tallest - 1) * GAP_Y + 2 * MARGIN;

  const placed: PlacedNode[] = [];
  let x = MARGIN;
  layers.forEach((l, li) => {
    const col = columnWidth[li]!;
    const span = l.length * NODE_HEIGHT + (l.length - 1) * GAP_Y;
    let y = MARGIN + (height - 2 * MARGIN - span) / 2;
    for (const id of l) {
      const w = widthOf.get(id)!;
      placed.push({ id, layer: li, x: x + (col - w) / 2, y, width: w, height: NODE_HEIGHT });
      y += NODE_HEIGHT + GAP_Y;
    }
    x += col + GAP_X;
  });
  const width = layers.length === 0 ? 0 : x - GAP_X + MARGIN;
  const byId = new Map(placed.map((p) => [p.id, p]));
  return { nodes: ids.map((id) => byId.get(id)!), width, height };
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
