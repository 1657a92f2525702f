/* global history, location, URLSearchParams, window */
import { ago, el, enc, errorBox, fmtTime, getJson, header, lineageOfSignal, main, qs, showJson, table } from './ui.js';

header('/ui/signals');

const state = { names: [], filter: '' };

function current() {
  const p = new URLSearchParams(location.search);
  return { name: p.get('name') ?? undefined, seq: p.get('seq') ?? undefined };
}

function go(name, seq) {
  history.pushState(null, '', `/ui/signals?${qs({ name, seq })}`);
  void render();
}

function paramsText(params) {
  return Object.entries(params ?? {}).map(([k, v]) => `${k}=${typeof v === 'string' ? v : String(v)}`).join(', ');
}

function sourceText(source) {
  if (!source || typeof source !== 'object') return '';
  if (source.type === 'STEP_OUTPUT') return `step ${source.step_id} of ${source.workflow_id} #${source.workflow_instance_id}`;
  return String(source.type ?? '');
}

function namesPanel(selected) {
  const list = el('ul', { class: 'plain', id: 'signal-names' });
  const fill = () => {
    const f = state.filter.toLowerCase();
    list.replaceChildren(...state.names.filter((n) => n.name.toLowerCase().includes(f)).map((n) =>
      el('li', { 'data-name': n.name, class: n.name === selected ? 'selected' : undefined },
        el('a', { href: `/ui/signals?${qs({ name: n.name })}`, onclick: (ev) => { ev.preventDefault(); go(n.name); } }, n.name),
        ' ', el('span', { class: 'badge st-idle count' }, n.count),
        el('div', { class: 'muted' }, n.last_seen === null ? 'never' : `last seen ${ago(n.last_seen)}`))));
    if (list.childElementCount === 0) list.append(el('li', { class: 'muted' }, state.names.length === 0 ? 'No signals published yet.' : 'No name matches.'));
  };
  const input = el('input', { type: 'search', placeholder: 'Filter names', value: state.filter, 'aria-label': 'Filter signal names' });
  input.addEventListener('input', () => { state.filter = input.value; fill(); });
  fill();
  return el('section', { class: 'card' }, el('h2', null, `Names (${state.names.length})`), input, list);
}

async function instancesPanel(name, seq) {
  const box = el('section', { class: 'card', id: 'instances' });
  if (!name) {
    box.append(el('p', { class: 'muted' }, 'Pick a signal name to see its recent instances.'));
    return box;
  }
  box.append(el('h2', null, 'Recent instances of ', el('span', { class: 'mono', id: 'selected-name' }, name)));
  try {
    const page = await getJson(`/api/v3/signals/${enc(name)}/instances?limit=50`);
    const rows = page.instances.map((i) => el('tr', {
      class: `clickable${String(i.seq_id) === seq ? ' selected' : ''}`, 'data-seq': String(i.seq_id),
      onclick: () => go(name, String(i.seq_id)),
    },
      el('td', { class: 'num' }, `#${i.seq_id}`),
      el('td', null, fmtTime(i.create_time)),
      el('td', { class: 'mono params' }, paramsText(i.params)),
      el('td', null, sourceText(i.source)),
    ));
    box.append(page.instances.length === 0 ? el('p', { class: 'muted' }, 'No instances.') : table(['Seq', 'Created', 'Params', 'Source'], rows));
  } catch (err) {
    box.append(errorBox(err));
  }
  return box;
}

async function detailPanel(name, seq) {
  if (!name || !seq) return null;
  const box = el('section', { class: 'card', id: 'instance-detail' });
  try {
    const i = await getJson(`/api/v3/signals/${enc(name)}/instances/${enc(seq)}`);
    box.append(
      el('h2', null, `${i.name} #${i.seq_id}`),
      el('p', null, el('a', { href: lineageOfSignal(i.name, String(i.seq_id)), id: 'lineage-link' }, 'Open its lineage')),
      el('dl', { class: 'props' },
        el('dt', null, 'Instance id'), el('dd', { class: 'mono' }, i.instance_id),
        el('dt', null, 'Created'), el('dd', null, fmtTime(i.create_time)),
        el('dt', null, 'Request id'), el('dd', { class: 'mono' }, i.request_id ?? '—'),
        el('dt', null, 'Source'), el('dd', null, sourceText(i.source) || '—'),
      ),
      el('h2', null, 'Params'), el('pre', { id: 'detail-params' }, showJson(i.params)),
      el('h2', null, 'Payload'), el('pre', null, showJson(i.payload ?? null)),
    );
  } catch (err) {
    box.append(errorBox(err));
  }
  return box;
}

async function render() {
  const { name, seq } = current();
  try {
    state.names = (await getJson('/api/v3/ui/signal-names')).names;
  } catch (err) {
    main(el('h1', null, 'Signals'), errorBox(err));
    return;
  }
  const [instances, detail] = await Promise.all([instancesPanel(name, seq), detailPanel(name, seq)]);
  main(el('h1', null, 'Signals'), el('div', { class: 'columns' }, namesPanel(name), el('div', null, instances, detail)));
}

window.addEventListener('popstate', () => void render());
void render();
