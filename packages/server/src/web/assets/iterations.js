/* global URLSearchParams */
import { el, enc, errorBox, fmtTime, getJson, runLink, showJson, statusBadge, table } from './ui.js';

const PAGE_SIZES = [25, 50, 100];
const STATUSES = ['', 'IN_PROGRESS', 'SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT', 'CREATED'];
/** One viewer per loop attempt shown, so the page's redraws (it polls a live run) keep its paging. */
const viewers = new Map();

/**
 * The iterations of a foreach or while step, a page at a time (keyset paging by index, so a loop
 * of thousands pages as fast as a small one): index, loop params, status, times, and a link to
 * each iteration's own page (its inner steps, their attempts and logs). `refresh()` re-reads the
 * page shown (the instance page calls it while the run is live).
 */
export function iterationList(workflowId, instanceId, run, stepId) {
  const key = JSON.stringify([workflowId, instanceId, run, stepId]);
  if (!viewers.has(key)) viewers.set(key, iterationViewer(workflowId, instanceId, run, stepId));
  return viewers.get(key);
}

function duration(a, b) {
  if (!a || !b) return '';
  const s = Math.max(0, Math.round((new Date(b).getTime() - new Date(a).getTime()) / 1000));
  return s < 120 ? `${s}s` : s < 7200 ? `${Math.round(s / 60)} min` : `${Math.round(s / 3600)} h`;
}

/** `item=a, n=3` from an iteration's loop params. */
function loopParamsText(p) {
  if (!p || typeof p !== 'object') return '—';
  return Object.entries(p).map(([k, v]) => `${k}=${typeof v === 'string' ? v : showJson(v).replace(/\s+/g, ' ')}`).join(', ');
}

function iterationViewer(workflowId, instanceId, run, stepId) {
  const base = `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/runs/${run}/steps/${enc(stepId)}/iterations`;
  /** `after` of each page seen, so "← Previous" goes back without an offset. */
  const state = { afters: [-1], status: '', limit: PAGE_SIZES[0], page: undefined, error: undefined, loading: false };
  const box = el('section', { class: 'card', id: 'iterations', 'data-step': stepId });

  const statusPick = el('select', { name: 'status', 'aria-label': 'Iteration status' }, STATUSES.map((s) => el('option', { value: s }, s || 'any status')));
  const sizePick = el('select', { name: 'limit', 'aria-label': 'Iterations a page' }, PAGE_SIZES.map((n) => el('option', { value: String(n) }, `${n} a page`)));
  statusPick.addEventListener('change', () => {
    state.status = statusPick.value;
    state.afters = [-1];
    void load();
  });
  sizePick.addEventListener('change', () => {
    state.limit = Number(sizePick.value);
    state.afters = [-1];
    void load();
  });
  const prev = el('button', { type: 'button', id: 'iterations-prev' }, '← Previous');
  const next = el('button', { type: 'button', id: 'iterations-next' }, 'Next →');
  prev.addEventListener('click', () => {
    if (state.afters.length > 1) state.afters.pop();
    void load();
  });
  next.addEventListener('click', () => {
    if (state.page?.next_cursor === undefined) return;
    state.afters.push(state.page.next_cursor);
    void load();
  });

  function draw() {
    const p = state.page;
    const c = p?.counts;
    const rows = (p?.items ?? []).map((it) =>
      el('tr', { 'data-iteration': String(it.iteration), 'data-status': it.status },
        el('td', { class: 'num' }, it.iteration),
        el('td', { class: 'mono loop-params' }, loopParamsText(it.loop_params)),
        el('td', null, statusBadge(it.status), it.from_run_id !== p.workflow_run_id ? el('span', { class: 'muted', title: 'succeeded in an earlier run; a restart carried it over' }, ` from run ${it.from_run_id}`) : null),
        el('td', null, fmtTime(it.start_time)),
        el('td', null, fmtTime(it.end_time)),
        el('td', { class: 'num' }, duration(it.start_time, it.end_time)),
        el('td', { class: 'message' }, it.reason ?? ''),
        el('td', null, el('a', { href: runLink(it.workflow_id, it.workflow_instance_id), class: 'open-iteration' }, 'Open')),
      ));
    box.replaceChildren(...[
      el('h2', null, p?.step_type === 'while' ? 'Iterations (while)' : 'Iterations'),
      c ? el('p', { class: 'muted', id: 'iteration-counts' }, `${c.total} in all: ${c.launched} launched, ${c.succeeded} succeeded, ${c.failed} failed, ${c.stopped} stopped`) : null,
      el('div', { class: 'toolbar' }, statusPick, sizePick, prev, el('span', { class: 'muted', id: 'iterations-page' }, `page ${state.afters.length}`), next),
      state.error ? errorBox(state.error) : null,
      p && p.items.length === 0 ? el('p', { class: 'muted', id: 'no-iterations' }, state.status ? `No ${state.status} iterations.` : 'No iterations yet.') : null,
      p && p.items.length ? table(['#', 'Loop params', 'Status', 'Started', 'Ended', 'Took', 'Reason', ''], rows, { id: 'iteration-table' }) : null,
      p ? null : el('p', { class: 'muted' }, 'Loading iterations…'),
    ].filter(Boolean));
    prev.disabled = state.afters.length <= 1;
    next.disabled = p?.next_cursor === undefined;
  }

  async function load() {
    if (state.loading) return;
    state.loading = true;
    const after = state.afters[state.afters.length - 1];
    const q = new URLSearchParams({ limit: String(state.limit) });
    if (after >= 0) q.set('after', String(after));
    if (state.status) q.set('status', state.status);
    try {
      state.page = await getJson(`${base}?${q}`);
      state.error = undefined;
    } catch (err) {
      state.error = err;
    } finally {
      state.loading = false;
    }
    draw();
  }

  draw();
  void load();
  return { element: box, refresh: load };
}
