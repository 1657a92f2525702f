/* global history, location, URLSearchParams, window */
// The lineage catalog: which signals start or unblock which workflows, which signals those
// publish, and which time triggers fire them, across every active workflow.
import { drawGraph } from './graph.js';
import { el, errorBox, getJson, header, main, qs, signalsLink, workflowLink } from './ui.js';

header('/ui/catalog');

const DEPTHS = [1, 2, 3, 4, 6, 10];
/** Larger graphs take dagre seconds to lay out and are unreadable anyway: centre them instead. */
const MAX_DRAWN = 300;

function focus() {
  const p = new URLSearchParams(location.search);
  const depth = p.get('depth') ?? undefined;
  if (p.get('workflow')) return { workflow: p.get('workflow'), depth };
  if (p.get('signal')) return { signal: p.get('signal'), depth };
  return undefined;
}

function go(url) {
  history.pushState(null, '', url);
  void render();
}

function picker(f) {
  const kind = el('select', { name: 'kind', 'aria-label': 'Centre on' }, el('option', { value: 'workflow' }, 'workflow'), el('option', { value: 'signal' }, 'signal'));
  if (f && 'signal' in f) kind.value = 'signal';
  const name = el('input', { type: 'text', name: 'name', placeholder: 'workflow id or signal name', value: f ? (f.workflow ?? f.signal) : '' });
  const depth = el('select', { name: 'depth', 'aria-label': 'Depth' }, DEPTHS.map((d) => el('option', { value: d }, `${d} hop${d === 1 ? '' : 's'}`)));
  depth.value = String(f?.depth ?? 2);
  const form = el(
    'form',
    { class: 'toolbar', id: 'catalog-form' },
    el('label', null, 'Centre on ', kind),
    el('label', null, 'Name ', name),
    el('label', null, 'up/downstream ', depth),
    el('button', { type: 'submit' }, 'Show'),
    f ? el('a', { href: '/ui/catalog', id: 'catalog-all', onclick: (ev) => { ev.preventDefault(); go('/ui/catalog'); } }, 'Whole catalog') : null,
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const v = name.value.trim();
    go(v ? `/ui/catalog?${qs({ [kind.value]: v, depth: depth.value })}` : '/ui/catalog');
  });
  return form;
}

const LEGEND = [
  ['edge-fires', 'time trigger → workflow'],
  ['edge-triggers', 'signal → workflow it starts'],
  ['edge-unblocks', 'signal → workflow whose steps wait for it'],
  ['edge-emits', 'workflow → signal its steps publish'],
];

/** The catalog's nodes and edges in the shape drawGraph takes. */
export function toGraph(catalog) {
  const nodes = catalog.nodes.map((n) => {
    if (n.type === 'signal') return { id: n.id, kind: 'signal', label: n.name, ref: n };
    if (n.type === 'workflow') return { id: n.id, kind: 'workflow', label: n.workflow_id, sublabel: n.name && n.name !== n.workflow_id ? n.name : `version ${n.version}`, ref: n };
    const zone = n.timezone ? ` · ${n.timezone}` : '';
    return { id: n.id, kind: 'time_trigger', label: n.expression, sublabel: `${n.trigger_type.toLowerCase()}${zone}${n.disabled ? ' · disabled' : ''}`, ref: n };
  });
  const edges = catalog.edges.map((e) => ({ from: e.from, to: e.to, kind: e.kind, title: e.steps ? `${e.kind} (steps ${e.steps.join(', ')})` : e.kind }));
  return { nodes, edges };
}

function nodeTitle(n) {
  const r = n.ref;
  if (r.type === 'signal') return `signal ${r.name} (click to open its instances)`;
  if (r.type === 'workflow') return `workflow ${r.workflow_id}${r.name ? ` — ${r.name}` : ''}, version ${r.version} (click to open it)`;
  return `${r.trigger_type} time trigger of ${r.workflow_id}: ${r.expression}${r.timezone ? ` in ${r.timezone}` : ''} (click to open the schedules)`;
}

async function render() {
  const f = focus();
  const heading = f ? `Lineage catalog around ${f.workflow ? `workflow ${f.workflow}` : `signal ${f.signal}`}` : 'Lineage catalog';
  main(el('h1', null, heading), picker(f), el('p', { class: 'muted' }, 'Loading…'));
  try {
    const catalog = await getJson(`/api/v3/lineage/catalog${f ? `?${qs(f)}` : ''}`);
    if (catalog.nodes.length > MAX_DRAWN) {
      const workflows = catalog.nodes.filter((n) => n.type === 'workflow');
      main(
        el('h1', null, heading),
        picker(f),
        el('p', { class: 'error', id: 'catalog-too-large' }, `${catalog.nodes.length} nodes are too many to draw (at most ${MAX_DRAWN}): centre the graph on a workflow or a signal, or fewer hops.`),
        el('ul', { class: 'plain' }, workflows.slice(0, 500).map((w) => el('li', null, el('a', { href: `/ui/catalog?${qs({ workflow: w.workflow_id, depth: 1 })}` }, w.workflow_id)))),
      );
      return;
    }
    const graph = drawGraph(toGraph(catalog), {
      center: catalog.focus ?? undefined,
      label: heading,
      title: nodeTitle,
      onClick: (n) => {
        const r = n.ref;
        if (r.type === 'workflow') window.location.assign(workflowLink(r.workflow_id));
        else if (r.type === 'signal') window.location.assign(signalsLink(r.name));
        else window.location.assign('/ui/schedules');
      },
    });
    main(
      el('h1', null, heading),
      picker(f),
      el('p', { class: 'muted' }, 'From the active workflow definitions: signal triggers, step signal dependencies, step signal outputs and time triggers. Click a workflow or a signal to open it.'),
      el('div', { class: 'legend' }, LEGEND.map(([cls, text]) => el('span', { class: cls }, text))),
      catalog.nodes.length === 0 ? el('p', { class: 'muted', id: 'catalog-empty' }, 'No active workflow yet.') : null,
      catalog.truncated ? el('p', { class: 'error' }, 'The graph is cut short: too many nodes. Centre it on a workflow or a signal.') : null,
      el('div', { class: 'graph-box', id: 'catalog-graph' }, graph),
    );
  } catch (err) {
    main(el('h1', null, heading), picker(f), errorBox(err));
  }
}

window.addEventListener('popstate', () => void render());
void render();
