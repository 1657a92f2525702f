/* global document, history, location, URLSearchParams, setTimeout */
import { drawGraph } from './graph.js';
import { el, enc, errorBox, fmtTime, getJson, header, lineageOfRun, main, showJson, statusBadge, table } from './ui.js';

header('');

const POLL_MS = 1000;
const match = /^\/ui\/workflows\/([^/]+)\/instances\/([^/]+)\/?$/.exec(location.pathname);
const workflowId = match ? decodeURIComponent(match[1]) : '';
const instanceId = match ? decodeURIComponent(match[2]) : '';
const api = `/api/v3/ui/workflows/${enc(workflowId)}/instances/${enc(instanceId)}`;
const state = { view: undefined, selected: new URLSearchParams(location.search).get('step') ?? undefined, attempt: undefined, error: undefined, polls: 0 };

function timelineTable(entries, id) {
  return table(['At', 'From', 'To', 'Message'], entries.map((t) =>
    el('tr', null, el('td', null, fmtTime(t.at)), el('td', null, t.from ?? ''), el('td', null, t.to ?? ''), el('td', { class: 'message' }, t.message))), { id });
}

function select(stepId) {
  state.selected = stepId;
  const u = new URL(location.href);
  u.searchParams.set('step', stepId);
  history.replaceState(null, '', u);
  void refreshStep().then(draw);
}

async function refreshStep() {
  if (!state.selected) return;
  try {
    state.attempt = await getJson(`${api}/steps/${enc(state.selected)}`);
  } catch (err) {
    // A step that has not started yet has no attempt to show.
    state.attempt = err.status === 404 ? null : { error: err };
  }
}

function stepPanel() {
  if (!state.selected) return el('section', { class: 'card', id: 'step-detail' }, el('p', { class: 'muted' }, 'Click a step to see the timeline of its latest attempt.'));
  const a = state.attempt;
  const box = el('section', { class: 'card', id: 'step-detail', 'data-step': state.selected });
  box.append(el('h2', null, 'Step ', el('span', { class: 'mono' }, state.selected)));
  if (a === undefined) box.append(el('p', { class: 'muted' }, 'Loading…'));
  else if (a === null) box.append(el('p', { class: 'muted' }, 'Not started: no attempt yet.'));
  else if (a.error) box.append(errorBox(a.error));
  else {
    box.append(el('div', null,
      el('dl', { class: 'props' },
        el('dt', null, 'Attempt'), el('dd', { id: 'step-attempt' }, a.attempt_id),
        el('dt', null, 'Type'), el('dd', null, a.step_type ?? '—'),
        el('dt', null, 'Status'), el('dd', null, statusBadge(a.status), a.reason ? ` ${a.reason}` : ''),
        el('dt', null, 'Started'), el('dd', null, fmtTime(a.started_at)),
        el('dt', null, 'Ended'), el('dd', null, fmtTime(a.ended_at)),
      ),
      el('h2', null, 'Timeline'), timelineTable(a.timeline, 'step-timeline'),
      Object.keys(a.outputs ?? {}).length ? [el('h2', null, 'Outputs'), el('pre', null, showJson(a.outputs))] : null,
    ));
  }
  return box;
}

function draw() {
  const v = state.view;
  const title = el('h1', null, `${workflowId} #${instanceId}`);
  if (!v) {
    main(title, state.error ? errorBox(state.error) : el('p', { class: 'muted' }, 'Loading…'));
    return;
  }
  const rollup = Object.entries(v.rollup).map(([s, n]) => el('span', null, statusBadge(s), ` ${n}`));
  main(
    title,
    el('div', { class: 'toolbar' },
      el('span', { id: 'instance-status' }, statusBadge(v.status)),
      v.workflow_name ? el('span', { class: 'muted' }, v.workflow_name) : null,
      el('span', { class: 'muted' }, `version ${v.version} · run ${v.run_id}`),
      el('a', { href: lineageOfRun(workflowId, instanceId), id: 'lineage-link' }, 'Lineage'),
      v.terminal ? null : el('span', { class: 'muted', id: 'live' }, 'live'),
    ),
    v.reason ? el('p', { class: 'error' }, v.reason) : null,
    el('div', { class: 'legend', id: 'rollup' }, rollup),
    state.error ? errorBox(state.error) : null,
    el('div', { class: 'graph-box', id: 'dag' }, drawGraph(v.graph, { selected: state.selected, label: `steps of ${workflowId} #${instanceId}`, onClick: (n) => select(n.id), title: (n) => `${n.label}: ${n.status}` })),
    el('div', { class: 'columns even' },
      el('section', { class: 'card' },
        el('h2', null, 'Run'),
        el('dl', { class: 'props' },
          el('dt', null, 'Created'), el('dd', null, fmtTime(v.created_at)),
          el('dt', null, 'Started'), el('dd', null, fmtTime(v.started_at)),
          el('dt', null, 'Ended'), el('dd', null, fmtTime(v.ended_at)),
        ),
        el('h2', null, 'Timeline'), timelineTable(v.timeline, 'run-timeline'),
      ),
      stepPanel(),
    ),
  );
}

async function poll() {
  try {
    state.view = await getJson(api);
    state.error = undefined;
  } catch (err) {
    state.error = err;
    if (err.status === 404 || err.status === 401) {
      draw();
      return;
    }
  }
  await refreshStep();
  state.polls++;
  document.body.dataset.polls = String(state.polls);
  draw();
  if (!state.view?.terminal) setTimeout(() => void poll(), POLL_MS);
}

if (!match) main(el('h1', null, 'Workflow instance'), errorBox('the address must look like /ui/workflows/<workflow id>/instances/<instance id>'));
else void poll();
