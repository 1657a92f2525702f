/* global document */
// Lays out a graph ({nodes, edges}) with dagre (@dagrejs/dagre, served as dagre.js) and draws it
// as SVG, left to right. Node and edge label sizes are measured in the page's own font, and every
// edge label gets a place of its own in the layout, so labels never overlap nodes or each other.
import { graphlib, layout } from './dagre.js';
import { statusGroup, svg } from './ui.js';

const ARROW_ID = 'arrow';
const NODE_HEIGHT = 40;
const NODE_PAD_X = 28;
const MIN_NODE_WIDTH = 96;
/** Longest label shown in full (characters); longer ones end in … and show whole on hover. */
const MAX_NODE_LABEL = 56;
const MAX_EDGE_LABEL = 72;
const EDGE_LABEL_HEIGHT = 16;
const MARGIN = 16;

const clip = (text, max) => (text.length > max ? `${text.slice(0, max - 1)}…` : text);

/** Widths of texts in the classes the graph draws them with, measured in an off-screen SVG. */
function measurer() {
  const box = svg('svg', { class: 'graph graph-measure', width: 0, height: 0 });
  const layer = svg('g', { class: 'node' });
  box.append(layer);
  document.body.append(box);
  const cache = new Map();
  return {
    width(text, cls) {
      const key = `${cls}\u0000${text}`;
      if (!cache.has(key)) {
        const t = svg('text', { class: cls }, text);
        layer.append(t);
        cache.set(key, t.getComputedTextLength());
        t.remove();
      }
      return cache.get(key);
    },
    done: () => box.remove(),
  };
}

/**
 * Positions for `graph`: nodes get x/y (top-left), width and height; edges get their route
 * (`points`) and, when labelled, the label's centre (`labelX`, `labelY`).
 */
export function layoutGraph(graph, options = {}) {
  const m = measurer();
  const g = new graphlib.Graph({ multigraph: true });
  g.setGraph({ rankdir: 'LR', nodesep: options.nodesep ?? 24, ranksep: options.ranksep ?? 56, edgesep: 14, marginx: MARGIN, marginy: MARGIN });
  g.setDefaultEdgeLabel(() => ({}));
  const nodes = graph.nodes.map((n) => {
    const label = clip(n.label, MAX_NODE_LABEL);
    const second = n.sublabel ?? n.status;
    const width = Math.max(MIN_NODE_WIDTH, Math.ceil(Math.max(m.width(label, 'label'), second ? m.width(second, 'status') : 0)) + NODE_PAD_X);
    g.setNode(n.id, { width, height: NODE_HEIGHT });
    return { ...n, shown: label, width, height: NODE_HEIGHT };
  });
  const known = new Set(nodes.map((n) => n.id));
  const edges = [];
  graph.edges.forEach((e, i) => {
    if (!known.has(e.from) || !known.has(e.to)) return;
    const shown = e.label ? clip(e.label, MAX_EDGE_LABEL) : undefined;
    const name = `e${i}`;
    const labelWidth = shown ? Math.ceil(m.width(shown, 'edge-label')) + 8 : 0;
    g.setEdge(e.from, e.to, shown ? { width: labelWidth, height: EDGE_LABEL_HEIGHT, labelpos: 'c' } : {}, name);
    edges.push({ ...e, shown, name, labelWidth });
  });
  m.done();
  layout(g);
  for (const n of nodes) {
    const p = g.node(n.id);
    n.x = p.x - n.width / 2;
    n.y = p.y - n.height / 2;
  }
  for (const e of edges) {
    const p = g.edge(e.from, e.to, e.name);
    e.points = p.points;
    if (e.shown) {
      e.labelX = p.x;
      e.labelY = p.y;
    }
  }
  const size = g.graph();
  return { nodes, edges, width: Math.ceil(size.width ?? 0), height: Math.ceil(size.height ?? 0) };
}

/** A smooth path through dagre's route points (a straight line when there are only two). */
function edgePath(points) {
  if (points.length === 0) return '';
  let d = `M ${points[0].x} ${points[0].y}`;
  if (points.length === 2) return `${d} L ${points[1].x} ${points[1].y}`;
  for (let i = 1; i < points.length - 1; i++) {
    const c = points[i];
    const next = points[i + 1];
    const end = i === points.length - 2 ? next : { x: (c.x + next.x) / 2, y: (c.y + next.y) / 2 };
    d += ` Q ${c.x} ${c.y} ${end.x} ${end.y}`;
  }
  return d;
}

/**
 * Lays out and renders `graph` ({nodes, edges}). Options: `center` (node id drawn emphasised),
 * `selected` (node id), `onClick(node)`, `title(node)` for the hover text, `label` (aria).
 */
export function drawGraph(graph, options = {}) {
  const placed = layoutGraph(graph, options);
  const width = Math.max(placed.width, 200);
  const height = Math.max(placed.height, 60);
  const root = svg('svg', { class: 'graph', viewBox: `0 0 ${width} ${height}`, width, height, role: 'img', 'aria-label': options.label ?? 'graph' });
  root.append(
    svg('defs', null, svg('marker', { id: ARROW_ID, viewBox: '0 0 10 10', refX: 9, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, svg('path', { d: 'M 0 0 L 10 5 L 0 10 z', class: 'arrowhead' }))),
  );
  const edges = svg('g', { class: 'edges' });
  const labels = svg('g', { class: 'edge-labels' });
  for (const e of placed.edges) {
    const tip = e.label ? `${e.kind}: ${e.label}` : (e.title ?? e.kind);
    const g = svg('g', { class: `edge edge-${String(e.kind).toLowerCase()}`, 'data-from': e.from, 'data-to': e.to, 'data-kind': e.kind });
    g.append(svg('path', { d: edgePath(e.points), 'marker-end': `url(#${ARROW_ID})` }, svg('title', null, tip)));
    edges.append(g);
    if (e.shown) {
      // Drawn above every edge, on a backdrop, so a crossing line never runs through the text.
      const lg = svg('g', { class: 'edge-label-box', 'data-from': e.from, 'data-to': e.to, transform: `translate(${e.labelX} ${e.labelY})` });
      lg.append(svg('rect', { class: 'edge-label-bg', x: -e.labelWidth / 2, y: -EDGE_LABEL_HEIGHT / 2, width: e.labelWidth, height: EDGE_LABEL_HEIGHT, rx: 3, ry: 3 }));
      lg.append(svg('text', { class: 'edge-label', 'text-anchor': 'middle', y: 4 }, e.shown));
      lg.append(svg('title', null, tip));
      labels.append(lg);
    }
  }
  root.append(edges);
  const nodes = svg('g', { class: 'nodes' });
  for (const n of placed.nodes) {
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
    const rx = n.kind === 'signal' ? n.height / 2 : n.kind === 'time_trigger' ? 14 : 6;
    g.append(svg('rect', { width: n.width, height: n.height, rx, ry: rx }));
    const second = n.sublabel ?? n.status;
    g.append(svg('text', { x: n.width / 2, y: second ? n.height / 2 - 3 : n.height / 2 + 4, 'text-anchor': 'middle', class: 'label' }, n.shown));
    if (second) g.append(svg('text', { x: n.width / 2, y: n.height / 2 + 12, 'text-anchor': 'middle', class: 'status' }, second));
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
  root.append(labels);
  return root;
}
