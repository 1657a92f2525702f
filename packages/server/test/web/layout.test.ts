import { describe, expect, it } from 'vitest';
import { layoutGraph, NODE_HEIGHT } from '../../src/web/layout.js';

const nodes = (...ids: string[]) => ids.map((id) => ({ id, width: 100 }));

describe('layoutGraph', () => {
  it('puts every node one layer after its furthest predecessor (longest path)', () => {
    // sample-signal-trigger-wf: job.1 → job.2, job.5; job.2 → job.3, job.6; job.5 → job.3; job.3, job.6 → job.4
    const edges = [
      ['job.1', 'job.5'], ['job.1', 'job.2'], ['job.2', 'job.3'], ['job.2', 'job.6'], ['job.5', 'job.3'], ['job.3', 'job.4'], ['job.6', 'job.4'],
    ].map(([from, to]) => ({ from: from!, to: to! }));
    const l = layoutGraph({ nodes: nodes('job.1', 'job.2', 'job.3', 'job.4', 'job.5', 'job.6'), edges });
    const layer = Object.fromEntries(l.nodes.map((n) => [n.id, n.layer]));
    expect(layer).toEqual({ 'job.1': 0, 'job.2': 1, 'job.5': 1, 'job.3': 2, 'job.6': 2, 'job.4': 3 });
    for (const e of edges) {
      const a = l.nodes.find((n) => n.id === e.from)!;
      const b = l.nodes.find((n) => n.id === e.to)!;
      expect(b.x).toBeGreaterThan(a.x + a.width);
    }
    // Nodes of one layer never overlap.
    for (const a of l.nodes) for (const b of l.nodes) if (a !== b && a.layer === b.layer) expect(Math.abs(a.y - b.y)).toBeGreaterThanOrEqual(NODE_HEIGHT);
    expect(l.width).toBeGreaterThan(4 * 100);
  });

  it('orders a layer by the barycenter of its predecessors, removing a crossing', () => {
    // a above b; a → y, b → x, input order puts x above y: the sweep swaps them.
    const l = layoutGraph({ nodes: nodes('a', 'b', 'x', 'y'), edges: [{ from: 'a', to: 'y' }, { from: 'b', to: 'x' }] });
    const y = Object.fromEntries(l.nodes.map((n) => [n.id, n.y]));
    expect(y.a! < y.b!).toBe(y.y! < y.x!);
  });

  it('routes an edge that spans layers around the nodes in between', () => {
    // signal → run → step, and signal → step directly (a lineage UNBLOCKED edge).
    const l = layoutGraph({ nodes: nodes('sig', 'run', 'step'), edges: [{ from: 'sig', to: 'run' }, { from: 'run', to: 'step' }, { from: 'sig', to: 'step' }] });
    const run = l.nodes.find((n) => n.id === 'run')!;
    const long = l.edges.find((e) => e.from === 'sig' && e.to === 'step')!;
    expect(long.points).toHaveLength(1);
    const p = long.points[0]!;
    expect(p.x).toBeGreaterThanOrEqual(run.x);
    expect(p.x).toBeLessThanOrEqual(run.x + run.width);
    expect(p.y < run.y || p.y > run.y + run.height).toBe(true);
    expect(l.edges.filter((e) => e !== long).every((e) => e.points.length === 0)).toBe(true);
    expect(l.height).toBeGreaterThanOrEqual(run.y + run.height);
  });

  it('survives cycles, self loops, duplicate and dangling edges', () => {
    const l = layoutGraph({
      nodes: nodes('a', 'b', 'c'),
      edges: [{ from: 'a', to: 'b' }, { from: 'b', to: 'c' }, { from: 'c', to: 'a' }, { from: 'a', to: 'a' }, { from: 'a', to: 'b' }, { from: 'a', to: 'zz' }],
    });
    expect(l.nodes.map((n) => [n.id, n.layer])).toEqual([['a', 0], ['b', 1], ['c', 2]]);
  });

  it('lays out an empty graph and a long chain without recursion limits', () => {
    expect(layoutGraph({ nodes: [], edges: [] })).toEqual({ nodes: [], edges: [], width: 0, height: 0 });
    const ids = Array.from({ length: 20_000 }, (_, i) => `n${i}`);
    const l = layoutGraph({ nodes: nodes(...ids), edges: ids.slice(1).map((id, i) => ({ from: ids[i]!, to: id })) });
    expect(l.nodes.at(-1)!.layer).toBe(19_999);
  });
});
