/* global FormData, history, location, URLSearchParams */
import { triggerToggle } from './trigger-toggle.js';
import { el, errorBox, fmtTime, getJson, header, main, qs, runLink, session, statusBadge, table, workflowLink } from './ui.js';

header('/ui/workflows');

const STATUSES = ['CREATED', 'IN_PROGRESS', 'PAUSED', 'SUCCEEDED', 'FAILED', 'STOPPED', 'TIMED_OUT'];
const PAGE_SIZES = [25, 50, 100];
const query = new URLSearchParams(location.search);
const state = {
  q: query.get('q') ?? '',
  trigger: query.get('trigger') ?? '',
  lastStatus: query.get('last_status') ?? '',
  limit: Number(query.get('limit')) || PAGE_SIZES[0],
  /** Cursors of the pages before this one (the first page has none), for "Previous". */
  before: [],
  cursor: undefined,
  page: undefined,
  error: undefined,
  who: undefined,
};

function select(name, label, value, options) {
  return el('label', null, `${label} `,
    el('select', { name }, options.map(([v, text]) => el('option', { value: v, selected: v === String(value) ? 'selected' : undefined }, text))));
}

function filterForm() {
  const form = el('form', { id: 'workflow-filters', class: 'toolbar' },
    el('input', { type: 'search', name: 'q', value: state.q, placeholder: 'Search id, name or description', 'aria-label': 'Search workflows', class: 'grow' }),
    select('trigger', 'Trigger', state.trigger, [['', 'any'], ['signal', 'signal'], ['time', 'time']]),
    select('last_status', 'Last run', state.lastStatus, [['', 'any'], ...STATUSES.map((s) => [s, s])]),
    select('limit', 'Per page', state.limit, PAGE_SIZES.map((n) => [String(n), String(n)])),
    el('button', { type: 'submit' }, 'Search'),
  );
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = new FormData(form);
    state.q = String(data.get('q') ?? '').trim();
    state.trigger = String(data.get('trigger') ?? '');
    state.lastStatus = String(data.get('last_status') ?? '');
    state.limit = Number(data.get('limit')) || PAGE_SIZES[0];
    state.before = [];
    state.cursor = undefined;
    const u = new URL(location.href);
    u.search = qs({ q: state.q || undefined, trigger: state.trigger || undefined, last_status: state.lastStatus || undefined, limit: state.limit === PAGE_SIZES[0] ? undefined : state.limit });
    history.replaceState(null, '', u);
    void load();
  });
  // Choosing a filter applies it at once.
  for (const s of form.querySelectorAll('select')) s.addEventListener('change', () => form.requestSubmit());
  return form;
}

function row(w) {
  const last = w.last_run;
  return el('tr', { 'data-workflow': w.workflow_id },
    el('td', null, el('a', { href: workflowLink(w.workflow_id), class: 'mono' }, w.workflow_id), w.name ? el('div', { class: 'muted' }, w.name) : null),
    el('td', null, w.owner ?? '—'),
    el('td', { class: 'triggers' }, w.trigger_kinds.length
      ? [w.trigger_kinds.join(', '), ' ', state.who?.may_act ? triggerToggle(w, () => void load()) : w.paused ? el('span', { class: 'badge st-waiting', 'data-paused': 'true' }, 'paused') : null]
      : el('span', { class: 'muted' }, 'manual only')),
    el('td', { class: 'num' }, w.active_version_id ?? el('span', { class: 'muted', title: 'no active version: triggers do not start runs' }, 'inactive')),
    el('td', { class: 'num' }, w.latest_version_id),
    el('td', { class: 'last-run' }, last
      ? [el('a', { href: runLink(w.workflow_id, last.workflow_instance_id) }, `#${last.workflow_instance_id}`), ' ', statusBadge(last.status), ' ', el('span', { class: 'muted' }, fmtTime(last.create_time))]
      : el('span', { class: 'muted' }, 'no runs yet')),
  );
}

function pager() {
  const prev = el('button', { type: 'button', id: 'prev-page', disabled: state.before.length === 0 ? 'disabled' : undefined }, '← Previous');
  const next = el('button', { type: 'button', id: 'next-page', disabled: state.page?.next_cursor ? undefined : 'disabled' }, 'Next →');
  prev.addEventListener('click', () => {
    state.cursor = state.before.pop();
    void load();
  });
  next.addEventListener('click', () => {
    state.before.push(state.cursor);
    state.cursor = state.page.next_cursor;
    void load();
  });
  return el('div', { class: 'toolbar pager' }, prev, el('span', { class: 'muted', id: 'page-number' }, `page ${state.before.length + 1}`), next);
}

// The filter form is drawn once and kept: a redraw while the list loads must not replace the search
// box the user is typing in (what was typed would be lost, and the next Search would send the old query).
let filters;
let results;

function draw() {
  const body = state.error
    ? errorBox(state.error)
    : !state.page
      ? el('p', { class: 'muted' }, 'Loading…')
      : state.page.items.length === 0
        ? el('p', { class: 'muted', id: 'no-workflows' }, state.q || state.trigger || state.lastStatus ? 'No workflow matches these filters.' : 'No workflows pushed yet.')
        : table(['Workflow', 'Owner', 'Triggers', 'Active', 'Latest', 'Last run'], state.page.items.map(row), { id: 'workflows' });
  if (!filters) {
    filters = filterForm();
    results = el('div', { id: 'workflow-results' });
    main(el('h1', null, 'Workflows'), filters, results);
  }
  results.replaceChildren(...[body, state.page ? pager() : null].filter(Boolean));
}

async function load() {
  state.page = undefined;
  state.error = undefined;
  draw();
  try {
    state.who ??= await session();
    state.page = await getJson(`/api/v3/workflows?${qs({ q: state.q || undefined, trigger: state.trigger || undefined, last_status: state.lastStatus || undefined, limit: state.limit, cursor: state.cursor })}`);
  } catch (err) {
    state.error = err;
  }
  draw();
}

void load();
