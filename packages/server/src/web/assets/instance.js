/* global clearTimeout, document, history, location, URLSearchParams, setTimeout */
import { instanceActions, stepActions } from './actions.js';
import { drawGraph } from './graph.js';
import { iterationList } from './iterations.js';
import { childRunLink, childRuns, initiatorLine, parentBanner, runTitle } from './run-links.js';
import { stepLogs } from './step-logs.js';
import { whyStepWaits } from './why-waiting.js';
import { el, enc, errorBox, fmtTime, getJson, header, lineageOfRun, main, runLink, session, showJson, statusBadge, statusGroup, table, workflowLink } from './ui.js';

header('');

const POLL_MS = 1000;
const match = /^\/ui\/workflows\/([^/]+)\/instances\/([^/]+)\/?$/.exec(location.pathname);
const workflowId = match ? decodeURIComponent(match[1]) : '';
const instanceId = match ? decodeURIComponent(match[2]) : '';
/** An earlier run chosen with ?run=N; the latest otherwise. */
const chosenRun = /^[1-9][0-9]{0,8}$/.test(new URLSearchParams(location.search).get('run') ?? '') ? Number(new URLSearchParams(location.search).get('run')) : undefined;
const api = `/api/v3/ui/workflows/${enc(workflowId)}/instances/${enc(instanceId)}`;
const runQuery = chosenRun === undefined ? '' : `?run=${chosenRun}`;
const state = { latestRun: undefined, view: undefined, selected: new URLSearchParams(location.search).get('step') ?? undefined, attempt: undefined, error: undefined, polls: 0, who: undefined, notice: undefined, timer: undefined };

/** What the action buttons report back: a notice (or the refusal), then a fresh look at the run. */
const handlers = {
  onDone(result) {
    const message = typeof result === 'string' ? result : result.message;
    state.notice = { ok: true, message, instance: typeof result === 'object' ? result.instance : undefined };
    void poll();
  },
  onError(err) {
    state.notice = { ok: false, message: err.message };
    draw();
  },
};

function isEarlierRun() {
  return chosenRun !== undefined && chosenRun !== state.latestRun;
}

function actionsOrNote(v) {
  if (isEarlierRun()) return el('p', { class: 'muted', id: 'earlier-run' }, `An earlier run of this instance (the latest is run ${state.latestRun}): read only.`);
  if (state.who?.may_act) return instanceActions(workflowId, instanceId, v, handlers);
  return el('p', { class: 'muted', id: 'read-only' }, state.who ? `Token "${state.who.token_name}" (role ${state.who.role}) may read but not act.` : '');
}

/** Picks a run of the instance (restarts add runs); an earlier one opens read-only. */
function runPicker(v) {
  if (!state.latestRun || state.latestRun < 2) return el('span', { class: 'muted' }, `run ${v.run_id}`);
  const pick = el('select', { id: 'run-picker', 'aria-label': 'Run' },
    Array.from({ length: state.latestRun }, (_, i) => state.latestRun - i).map((r) =>
      el('option', { value: String(r), selected: r === v.run_id ? 'selected' : undefined }, `run ${r}${r === state.latestRun ? ' (latest)' : ''}`)));
  pick.addEventListener('change', () => {
    const u = new URL(location.href);
    if (Number(pick.value) === state.latestRun) u.searchParams.delete('run');
    else u.searchParams.set('run', pick.value);
    location.assign(u);
  });
  return pick;
}

function noticeLine() {
  const n = state.notice;
  if (!n) return null;
  return el('p', { class: n.ok ? 'notice' : 'error', id: 'action-result', role: n.ok ? 'status' : 'alert' }, n.message,
    n.instance ? [' ', el('a', { href: runLink(workflowId, n.instance), id: 'new-instance' }, `Open #${n.instance}`)] : null);
}

/** The failure reason on top of the page, with the steps that failed and why. */
function failureBanner(v) {
  const group = statusGroup(v.status);
  if (group !== 'failed' && group !== 'stopped') return null;
  const failed = v.steps.filter((s) => ['failed', 'stopped'].includes(statusGroup(s.status)));
  return el('div', { class: `banner ${group}`, id: 'failure-banner', role: 'alert' },
    el('strong', null, `${v.status}: `), v.reason ?? 'no reason recorded',
    failed.length ? el('ul', { class: 'plain' }, failed.map((s) => el('li', { 'data-step': s.step_id },
      el('a', { href: `?step=${enc(s.step_id)}`, 'data-step': s.step_id, onclick: (ev) => { ev.preventDefault(); select(s.step_id); } }, s.step_id), ` ${s.status}`, s.reason ? `: ${s.reason}` : ''))) : null);
}

/** `2026-12-07` and `08:59:16 GMT+9` on lines of their own when the column is narrow, never broken inside. */
function splitTime(text) {
  const i = text.indexOf(' ');
  return i < 0 ? text : [el('span', { class: 'nw' }, text.slice(0, i)), ' ', el('span', { class: 'nw' }, text.slice(i + 1))];
}

function timelineTable(entries, id) {
  return table(['At', 'From', 'To', 'Message'], entries.map((t) =>
    el('tr', null, el('td', { class: 'time' }, splitTime(fmtTime(t.at))), el('td', null, t.from ?? ''), el('td', null, t.to ?? ''), el('td', { class: 'message' }, t.message))), { id });
}

function select(stepId) {
  state.selected = stepId;
  state.pickedAttempt = undefined;
  const u = new URL(location.href);
  u.searchParams.set('step', stepId);
  history.replaceState(null, '', u);
  void refreshStep().then(draw);
}

async function refreshStep() {
  if (!state.selected) return;
  try {
    const q = new URLSearchParams(runQuery.slice(1));
    if (state.pickedAttempt !== undefined) q.set('attempt', String(state.pickedAttempt));
    state.attempt = await getJson(`${api}/steps/${enc(state.selected)}${q.size ? `?${q}` : ''}`);
  } catch (err) {
    // A step that has not started yet has no attempt to show.
    state.attempt = err.status === 404 ? null : { error: err };
  }
}

/** The attempt shown; a step retried has a picker of its earlier attempts. */
function attemptPicker(a) {
  const latest = state.view?.steps.find((s) => s.step_id === a.step_id)?.attempt_id ?? a.attempt_id;
  if (latest < 2) return String(a.attempt_id);
  const pick = el('select', { id: 'attempt-picker', 'aria-label': 'Attempt' },
    Array.from({ length: latest }, (_, i) => latest - i).map((n) => el('option', { value: String(n), selected: n === a.attempt_id ? 'selected' : undefined }, `attempt ${n}${n === latest ? ' (latest)' : ''}`)));
  pick.addEventListener('change', () => {
    state.pickedAttempt = Number(pick.value) === latest ? undefined : Number(pick.value);
    void refreshStep().then(draw);
  });
  return pick;
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
        el('dt', null, 'Attempt'), el('dd', { id: 'step-attempt' }, attemptPicker(a)),
        el('dt', null, 'Type'), el('dd', null, a.step_type ?? '—'),
        el('dt', null, 'Status'), el('dd', null, statusBadge(a.status), a.reason ? ` ${a.reason}` : ''),
        el('dt', null, 'Started'), el('dd', null, fmtTime(a.started_at)),
        el('dt', null, 'Ended'), el('dd', null, fmtTime(a.ended_at)),
      ),
      state.view ? childRunLink(state.view, state.selected) : null,
      state.who?.may_act && state.view && !isEarlierRun() ? stepActions(workflowId, instanceId, a, state.view, handlers) : null,
      a.status === 'WAITING_FOR_SIGNALS' && !isEarlierRun() ? whyStepWaits(workflowId, instanceId, a.step_id, a.attempt_id) : null,
      el('h2', null, 'Timeline'), timelineTable(a.timeline, 'step-timeline'),
      Object.keys(a.outputs ?? {}).length ? [el('h2', null, 'Outputs'), el('pre', null, showJson(a.outputs))] : null,
      el('h2', null, 'Logs'), stepLogs(workflowId, instanceId, a.run_id, a.step_id, a.attempt_id),
    ));
  }
  return box;
}

/** The selected step's iterations when it is a foreach or while loop. */
function loopViewer() {
  const v = state.view;
  if (!v || !state.selected) return undefined;
  const kind = v.steps.find((s) => s.step_id === state.selected)?.kind ?? state.attempt?.step_type;
  if (kind !== 'foreach' && kind !== 'while') return undefined;
  if (!state.attempt || state.attempt.error) return undefined;
  return iterationList(workflowId, instanceId, v.run_id, state.selected);
}

function draw() {
  const v = state.view;
  const title = el('h1', null, runTitle(workflowId, instanceId, v?.parent));
  if (!v) {
    main(title, state.error ? errorBox(state.error) : el('p', { class: 'muted' }, 'Loading…'));
    return;
  }
  const rollup = Object.entries(v.rollup).map(([s, n]) => el('span', null, statusBadge(s), ` ${n}`));
  main(
    title,
    parentBanner(v),
    failureBanner(v),
    el('div', { class: 'toolbar' },
      el('span', { id: 'instance-status' }, statusBadge(v.status)),
      v.workflow_name ? el('span', { class: 'muted' }, v.workflow_name) : null,
      el('a', { href: workflowLink(workflowId.split('#')[0]), id: 'workflow-link' }, 'Workflow'),
      el('span', { class: 'muted' }, `version ${v.version}`), runPicker(v),
      el('a', { href: lineageOfRun(workflowId, instanceId), id: 'lineage-link' }, 'Lineage'),
      v.terminal ? null : el('span', { class: 'muted', id: 'live' }, 'live'),
    ),
    initiatorLine(v),
    actionsOrNote(v),
    noticeLine(),
    failureBanner(v) ? null : v.reason ? el('p', { class: 'muted' }, v.reason) : null,
    el('div', { class: 'legend', id: 'rollup' }, rollup),
    childRuns(v),
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
    loopViewer()?.element,
  );
}

async function poll() {
  clearTimeout(state.timer);
  try {
    state.who ??= await session();
    state.view = await getJson(`${api}${runQuery}`);
    // Viewing an earlier run: the latest run's number, once, for the run selector.
    state.latestRun ??= chosenRun === undefined ? state.view.run_id : (await getJson(`/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/runs/latest`)).workflow_run_id;
    if (chosenRun === undefined) state.latestRun = state.view.run_id;
    state.error = undefined;
  } catch (err) {
    state.error = err;
    if (err.status === 404 || err.status === 401) {
      draw();
      return;
    }
  }
  await refreshStep();
  // A live loop's iterations move on: the page shown is read again with the run.
  if (state.polls > 0) await loopViewer()?.refresh();
  state.polls++;
  document.body.dataset.polls = String(state.polls);
  draw();
  if (!state.view?.terminal) state.timer = setTimeout(() => void poll(), POLL_MS);
}

if (!match) main(el('h1', null, 'Workflow instance'), errorBox('the address must look like /ui/workflows/<workflow id>/instances/<instance id>'));
else void poll();
