/* global clearInterval, document, setInterval */
import { ago, el, errorBox, getJson, header, main, table, timeEl, viewerZone, workflowLink } from './ui.js';

header('/ui/schedules');

/** How often the list is read again; a next fire that comes due reloads it at once. */
const RELOAD_MS = 30_000;
const state = { offsetMs: 0, loadedAt: 0, timer: undefined, loading: false };

/** Server time now, from the clock offset seen at the last load (the viewer's clock may be off). */
function serverNow() {
  return Date.now() + state.offsetMs;
}

/**
 * "in 12s" until the next fire; once it is reached the row says "due now" (never "… ago") and
 * the list is read again, so the next fire shown moves on.
 */
function relative(ms) {
  const now = serverNow();
  // Under a second to go rounds to "0s ago" in `ago`: that is "due now" here.
  return ms - now >= 1000 ? ago(ms, now) : 'due now';
}

function tick() {
  let due = false;
  for (const cell of document.querySelectorAll('[data-next-fire-ms]')) {
    const ms = Number(cell.getAttribute('data-next-fire-ms'));
    cell.textContent = relative(ms);
    if (ms <= serverNow()) due = true;
  }
  if ((due && serverNow() - state.loadedAt > 2000) || serverNow() - state.loadedAt > RELOAD_MS) void render();
}

function nextFireCell(s) {
  if (s.paused) return el('td', { class: 'next-fire' }, el('span', { class: 'muted' }, 'none while paused'));
  if (s.next_fire_ms === null) {
    return el('td', { class: 'next-fire' }, s.due_fire_ms === null ? '—' : el('span', { class: 'muted' }, 'due since ', timeEl(s.due_fire_ms, s.timezone)));
  }
  return el('td', { class: 'next-fire' }, timeEl(s.next_fire_ms, s.timezone), el('div', { class: 'muted relative', 'data-next-fire-ms': String(s.next_fire_ms) }, relative(s.next_fire_ms)));
}

function row(s) {
  return el('tr', { 'data-workflow': s.workflow_id, 'data-trigger': s.trigger_key },
    el('td', { class: 'mono' }, el('a', { href: workflowLink(s.workflow_id) }, s.workflow_id), el('div', { class: 'muted' }, `v${s.workflow_version} · ${s.trigger_key}`)),
    el('td', { class: 'mono' }, s.expression, el('div', { class: 'muted trigger-zone' }, s.timezone)),
    el('td', { class: 'status' }, s.paused ? el('strong', null, 'paused') : s.enabled ? 'yes' : el('span', { class: 'muted' }, 'no')),
    nextFireCell(s),
    el('td', { class: 'upcoming' }, el('ul', { class: 'plain' }, s.upcoming.map((u) => el('li', null, timeEl(u.epoch_ms, s.timezone))))),
    el('td', { class: 'num' }, s.started_count),
    el('td', null, s.last_error ? el('span', { class: 'error' }, s.last_error) : ''),
  );
}

async function render() {
  if (state.loading) return;
  state.loading = true;
  try {
    const { schedules, now } = await getJson('/api/v3/ui/schedules');
    state.offsetMs = now - Date.now();
    state.loadedAt = serverNow();
    main(
      el('h1', null, 'Schedules'),
      el('p', { class: 'muted', id: 'zone-note' }, `Times in your zone (${viewerZone()}); where a trigger runs in another zone, its own time follows.`),
      schedules.length === 0 ? el('p', { class: 'muted' }, 'No time triggers.') : table(['Workflow', 'Trigger', 'Enabled', 'Next fire', 'Upcoming', 'Started', 'Last error'], schedules.map(row), { id: 'schedules' }),
    );
    document.body.dataset.loads = String(Number(document.body.dataset.loads ?? 0) + 1);
  } catch (err) {
    main(el('h1', null, 'Schedules'), errorBox(err));
    clearInterval(state.timer);
  } finally {
    state.loading = false;
  }
}

void render();
state.timer = setInterval(tick, 1000);
