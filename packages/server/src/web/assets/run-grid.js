import { el, enc, errorBox, getJson, qs, runLink, statusGroup } from './ui.js';

const STATUSES = ['CREATED', 'IN_PROGRESS', 'PAUSED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'];
export const GRID_PAGE_SIZES = [20, 50, 100];

/**
 * Airflow's grid: one column per run (newest first), one row per step, each cell coloured by the
 * step's status in that run. A page of runs comes from the instance list (keyset cursor, so it stays
 * fast however many runs there are) and each run's step statuses from its run route.
 */
export function runGrid(workflowId, stepIds, opts = {}) {
  const state = { limit: opts.limit ?? GRID_PAGE_SIZES[0], status: '', before: [], cursor: undefined, runs: undefined, next: undefined, error: undefined };
  const box = el('section', { class: 'card', id: 'run-grid' });

  async function load() {
    state.runs = undefined;
    state.error = undefined;
    draw();
    try {
      const page = await getJson(`/api/v3/workflows/${enc(workflowId)}/instances?${qs({ limit: state.limit, status: state.status || undefined, cursor: state.cursor })}`);
      const details = await Promise.all(page.items.map((i) => getJson(`/api/v3/workflows/${enc(workflowId)}/instances/${i.workflow_instance_id}/runs/latest`)));
      state.runs = details;
      state.next = page.next_cursor;
    } catch (err) {
      state.error = err;
    }
    draw();
    box.dataset.loaded = String(Number(box.dataset.loaded ?? 0) + 1);
  }

  function controls() {
    const status = el('select', { name: 'status', 'aria-label': 'Run status' }, el('option', { value: '' }, 'any status'), STATUSES.map((s) => el('option', { value: s, selected: s === state.status ? 'selected' : undefined }, s)));
    status.addEventListener('change', () => {
      state.status = status.value;
      state.before = [];
      state.cursor = undefined;
      void load();
    });
    const newer = el('button', { type: 'button', id: 'grid-newer', disabled: state.before.length ? undefined : 'disabled' }, '← Newer');
    const older = el('button', { type: 'button', id: 'grid-older', disabled: state.next === undefined || !state.runs ? 'disabled' : undefined }, 'Older →');
    newer.addEventListener('click', () => {
      state.cursor = state.before.pop();
      void load();
    });
    older.addEventListener('click', () => {
      state.before.push(state.cursor);
      state.cursor = state.next;
      void load();
    });
    return el('div', { class: 'toolbar' }, status, newer, el('span', { class: 'muted', id: 'grid-page' }, `page ${state.before.length + 1}`), older);
  }

  function grid(runs) {
    const known = new Set(stepIds);
    // Steps an older version had and this one lacks still get a row.
    const rows = [...stepIds];
    for (const r of runs) {
      for (const s of r.steps) {
        if (known.has(s.step_id)) continue;
        known.add(s.step_id);
        rows.push(s.step_id);
      }
    }
    const byRun = runs.map((r) => new Map(r.steps.map((s) => [s.step_id, s])));
    return el('table', { class: 'grid' },
      el('thead', null, el('tr', null,
        el('th', { class: 'step' }, 'Step \\ run'),
        runs.map((r) => el('th', { class: 'run', 'data-instance': r.workflow_instance_id }, el('a', { href: runLink(workflowId, r.workflow_instance_id), title: `${r.status}${r.reason ? `: ${r.reason}` : ''}` }, `#${r.workflow_instance_id}`))))),
      el('tbody', null,
        el('tr', { class: 'run-status' }, el('td', { class: 'step' }, el('span', { class: 'muted' }, 'run')),
          runs.map((r) => el('td', null, el('a', { href: runLink(workflowId, r.workflow_instance_id), class: `cell st-${statusGroup(r.status)}`, 'data-status': r.status, title: `#${r.workflow_instance_id}: ${r.status}` })))),
        rows.map((stepId) => el('tr', { 'data-step': stepId }, el('td', { class: 'step' }, stepId),
          byRun.map((m, i) => {
            const s = m.get(stepId);
            const iid = runs[i].workflow_instance_id;
            return el('td', { 'data-instance': iid },
              s
                ? el('a', { href: `${runLink(workflowId, iid)}?${qs({ step: stepId })}`, class: `cell st-${statusGroup(s.status)}`, 'data-status': s.status, title: `#${iid} ${stepId}: ${s.status}${s.reason ? ` — ${s.reason}` : ''}` })
                : el('span', { class: 'cell none', title: `#${iid} ${stepId}: not in this run` }));
          })))),
    );
  }

  function draw() {
    const body = state.error ? errorBox(state.error)
      : !state.runs ? el('p', { class: 'muted' }, 'Loading runs…')
        : state.runs.length === 0 ? el('p', { class: 'muted', id: 'no-runs' }, state.status ? `No ${state.status} runs.` : 'No runs yet.')
          : el('div', { class: 'grid-scroll' }, grid(state.runs));
    box.replaceChildren(el('h2', null, 'Runs'), controls(), body);
  }

  draw();
  void load();
  return { element: box, reload: () => { state.before = []; state.cursor = undefined; return load(); } };
}
