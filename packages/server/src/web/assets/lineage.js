/* global history, location, URLSearchParams, window */
import { drawGraph } from './graph.js';
import { el, errorBox, getJson, header, lineageOfRun, lineageOfSignal, main, qs, runLink, signalsLink, statusBadge } from './ui.js';

header('/ui/lineage');

function center() {
  const p = new URLSearchParams(location.search);
  if (p.get('signal')) return { signal: p.get('signal'), seq: p.get('seq') ?? 'latest' };
  if (p.get('workflow') && p.get('instance')) return { workflow: p.get('workflow'), instance: p.get('instance') };
  return undefined;
}

function go(url) {
  history.pushState(null, '', url);
  void render();
}

function picker(c) {
  const signal = el('input', { type: 'text', name: 'signal', placeholder: 'signal name, e.g. db/prod/orders', value: c && 'signal' in c ? c.signal : '' });
  const seq = el('input', { type: 'text', name: 'seq', placeholder: 'seq or latest', value: c && 'signal' in c ? c.seq : '' });
  const form = el('form', { class: 'toolbar', id: 'lineage-form' }, el('label', null, 'Signal ', signal), el('label', null, 'Seq ', seq), el('button', { type: 'submit' }, 'Show'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (signal.value.trim()) go(lineageOfSignal(signal.value.trim(), seq.value.trim() || 'latest'));
  });
  return form;
}

const LEGEND = [
  ['edge-triggered', 'signal → run it triggered'],
  ['edge-unblocked', 'signal → step it unblocked'],
  ['edge-contains', 'run → its step'],
  ['edge-emitted', 'step → signal it emitted'],
  ['edge-fired', 'time trigger fire → run it started'],
];

function nodeTitle(n) {
  if (n.kind === 'time_trigger') return `time trigger ${n.label}, ${n.sublabel}`;
  if (n.kind === 'signal') return `signal ${n.label} (click to center on it)`;
  if (n.kind === 'workflow_instance') return `workflow run ${n.label}${n.status ? ` — ${n.status}` : ''} (click to center on it)`;
  return `step ${n.label} (click to center on its run)`;
}

async function render() {
  const c = center();
  if (!c) {
    main(el('h1', null, 'Lineage'), picker(c), el('p', { class: 'muted' }, 'Pick a signal instance, or open the lineage of a run from its page.'));
    return;
  }
  const heading = 'signal' in c ? `Lineage of signal ${c.signal} #${c.seq}` : `Lineage of ${c.workflow} #${c.instance}`;
  main(el('h1', null, heading), picker(c), el('p', { class: 'muted' }, 'Loading…'));
  try {
    const view = await getJson(`/api/v3/ui/lineage?${qs(c)}`);
    const centerNode = view.graph.nodes.find((n) => n.id === view.center);
    const links = [];
    if ('signal' in c && centerNode?.target) links.push(el('a', { href: signalsLink(centerNode.target.signal, centerNode.target.seq) }, 'Open the signal instance'));
    if ('workflow' in c) links.push(el('a', { href: runLink(c.workflow, c.instance), id: 'run-link' }, 'Open the run'));
    if (centerNode?.status) links.push(statusBadge(centerNode.status));
    const graph = drawGraph(view.graph, {
      center: view.center,
      label: heading,
      title: nodeTitle,
      onClick: (n) => {
        if (!n.target) return;
        go('signal' in n.target ? lineageOfSignal(n.target.signal, n.target.seq) : lineageOfRun(n.target.workflow, n.target.instance));
      },
    });
    main(
      el('h1', null, heading),
      picker(c),
      el('div', { class: 'toolbar' }, links, el('a', { href: '/ui/catalog', id: 'catalog-link' }, 'Lineage catalog')),
      el('div', { class: 'legend' }, LEGEND.map(([cls, text]) => el('span', { class: cls }, text))),
      view.graph.nodes.length <= 1 ? el('p', { class: 'muted', id: 'no-lineage' }, 'Nothing recorded yet: no run was triggered or unblocked by it, and it was not emitted by a step.') : null,
      view.truncated ? el('p', { class: 'error' }, 'The graph is cut short: too many edges.') : null,
      el('div', { class: 'graph-box', id: 'lineage-graph' }, graph),
    );
  } catch (err) {
    main(el('h1', null, heading), picker(c), errorBox(err));
  }
}

window.addEventListener('popstate', () => void render());
void render();
