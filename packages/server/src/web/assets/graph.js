// Draws a laid-out graph (nodes with x/y/width/height from the server) as SVG, left to right.
import { statusGroup, svg } from './ui.js';

const ARROW_ID = 'arrow';

function curve(x1, y1, x2, y2) {
  const mid = (x1 + x2) / 2;
  return `C ${mid} ${y1}, ${mid} ${y2}, ${x2} ${y2}`;
}

/** From the right side of `a` to the left side of `b`, through the bend points of a long edge. */
function edgePath(a, b, points = []) {
  const x1 = a.x + a.width;
  const y1 = a.y + a.height / 2;
  const x2 = b.x;
  const y2 = b.y + b.height / 2;
  if (x2 <= x1) {
    // A back edge (cycle) loops over the top of both nodes.
    const top = Math.min(a.y, b.y) - 18;
    return `M ${x1} ${y1} C ${x1 + 40} ${top}, ${x2 - 40} ${top}, ${x2} ${y2}`;
  }
  let d = `M ${x1} ${y1}`;
  let [px, py] = [x1, y1];
  for (const p of points) {
    d += ` ${curve(px, py, p.x, p.y)}`;
    [px, py] = [p.x, p.y];
  }
  return `${d} ${curve(px, py, x2, y2)}`;
}

/**
 * Renders `graph` ({nodes, edges, width, height}). Options: `center` (node id drawn emphasised),
 * `selected` (node id), `onClick(node)`, `title(node)` for the hover text.
 */
export function drawGraph(graph, options = {}) {
  const byId = new Map(graph.nodes.map((n) => [n.id, n]));
  const width = Math.max(graph.width, 200);
  const height = Math.max(graph.height, 60);
  const root = svg('svg', { class: 'graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': options.label ?? 'graph' });
  root.append(
    svg('defs', null, svg('marker', { id: ARROW_ID, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))),
  );
  const edges = svg('g', { class: 'edges' });
  for (const e of graph.edges) {
    const a = byId.get(e.from);
    const b = byId.get(e.to);
    if (!a || !b) continue;
    const g = svg('g', { class: `edge edge-${String(e.kind).toLowerCase()}`, 'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind });
    g.append(svg('path', { d: edgePath(a, b, e.points), 'marker-end': `url(#${ARROW_ID})` }, svg('title', null, e.label ? `${e.kind}: ${e.label}` : e.kind)));
    const first = e.points?.[0];
    if (e.label) g.append(svg('text', { x: first ? (a.x + a.width + first.x) / 2 : (a.x + a.width + b.x) / 2, y: first ? (a.y + a.height / 2 + first.y) / 2 - 4 : (a.y + b.y + a.height) / 2 - 4, class: 'edge-label', 'text-anchor': 'middle' }, e.label.length > 24 ? `${e.label.slice(0, 23)}…` : e.label));
    edges.append(g);
  }
  root.append(edges);
  const nodes = svg('g', { class: 'nodes' });
  for (const n of graph.nodes) {
    const classes = ['node', `kind-${n.kind}`];
    if (n.status) classes.push(`st-${statusGroup(n.status)}`);
    if (n.id === options.center) classes.push('center');
    if (n.id === options.selected) classes.push('selected');
    const g = svg('g', {
      class: classes.join(' '),
      'data-id': n.id,
      'data-kind': n.kind,
      'data-label': n.label,
      'data-status': n.status,
      transform: `translate(${n.x} ${n.y})`,
      tabindex: options.onClick ? 0 : undefined,
      role: options.onClick ? 'button' : undefined,
    });
    const rx = n.kind === 'signal' ? n.height / 2 : 6;
    g.append(svg('rect', { width: n.width, height: n.height, rx, ry: rx }));
    // Matches the widest node the server lays out (440 units); the full label is in the tooltip.
    const text = n.label.length > 56 ? `${n.label.slice(0, 55)}…` : n.label;
    g.append(svg('text', { x: n.width / 2, y: n.status ? n.height / 2 - 3 : n.height / 2 + 4, 'text-anchor': 'middle', class: 'label' }, text));
    if (n.status) g.append(svg('text', { x: n.width / 2, y: n.height / 2 + 12, 'text-anchor': 'middle', class: 'status' }, n.status));
    g.append(svg('title', null, options.title ? options.title(n) : n.label));
    if (options.onClick) {
      g.addEventListener('click', () => options.onClick(n));
      g.addEventListener('keydown', (ev) => {
        if (ev.key === 'Enter' || ev.key === ' ') {
          ev.preventDefault();
          options.onClick(n);
        }
      });
    }
    nodes.append(g);
  }
  root.append(nodes);
  return root;
}
