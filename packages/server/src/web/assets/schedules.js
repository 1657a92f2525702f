import { ago, el, errorBox, getJson, header, main, table, fmtTime } from './ui.js';

header('/ui/schedules');

async function render() {
  try {
    const { schedules, now } = await getJson('/api/v3/ui/schedules');
    const rows = schedules.map((s) =>
      el('tr', { 'data-workflow': s.workflow_id, 'data-trigger': s.trigger_key },
        el('td', { class: 'mono' }, s.workflow_id, el('div', { class: 'muted' }, `v${s.workflow_version} · ${s.trigger_key}`)),
        el('td', { class: 'mono' }, s.expression, el('div', { class: 'muted' }, s.timezone)),
        el('td', { class: 'status' }, s.paused ? el('strong', null, 'paused') : s.enabled ? 'yes' : el('span', { class: 'muted' }, 'no')),
        el('td', { class: 'next-fire' }, s.next_fire_ms === null ? (s.due_fire_ms === null ? '—' : el('span', { class: 'muted' }, `due since ${fmtTime(s.due_fire_ms)}`)) : [fmtTime(s.next_fire_ms), el('div', { class: 'muted' }, ago(s.next_fire_ms, now))]),
        el('td', { class: 'upcoming' }, el('ul', { class: 'plain mono' }, s.upcoming.map((u) => el('li', null, u.fire_time)))),
        el('td', { class: 'num' }, s.started_count),
        el('td', null, s.last_error ? el('span', { class: 'error' }, s.last_error) : ''),
      ));
    main(
      el('h1', null, 'Schedules'),
      el('p', { class: 'muted' }, 'Time triggers of the active workflow versions; upcoming times are in each trigger\'s zone.'),
      schedules.length === 0 ? el('p', { class: 'muted' }, 'No time triggers.') : table(['Workflow', 'Trigger', 'Enabled', 'Next fire', 'Upcoming', 'Started', 'Last error'], rows, { id: 'schedules' }),
    );
  } catch (err) {
    main(el('h1', null, 'Schedules'), errorBox(err));
  }
}

void render();
