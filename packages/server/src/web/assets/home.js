import { el, errorBox, getJson, header, lineageOfRun, main, runLink, statusBadge, table, fmtTime } from './ui.js';

header('/ui');

async function render() {
  const pages = el('div', { class: 'card' },
    el('h1', null, 'Baton'),
    el('ul', { class: 'plain' },
      el('li', null, el('a', { href: '/ui/workflows' }, 'Workflows'), el('span', { class: 'muted' }, ' — search workflows, their runs by step, start, stop and restart runs')),
      el('li', null, el('a', { href: '/ui/signals' }, 'Signals'), el('span', { class: 'muted' }, ' — names, counts, recent instances and their params')),
      el('li', null, el('a', { href: '/ui/lineage' }, 'Lineage'), el('span', { class: 'muted' }, ' — what a signal started, and what started a run')),
      el('li', null, el('a', { href: '/ui/schedules' }, 'Schedules'), el('span', { class: 'muted' }, ' — time triggers and their next fire times')),
    ),
  );
  main(pages, el('p', { class: 'muted' }, 'Loading workflows…'));
  try {
    const { workflows } = await getJson('/api/v3/ui/workflows');
    const rows = workflows.map((w) =>
      el('tr', { 'data-workflow': w.workflow_id },
        el('td', null, el('div', { class: 'mono' }, w.workflow_id), w.name ? el('div', { class: 'muted' }, w.name) : null),
        el('td', { class: 'num' }, w.active_version ?? '—'),
        el('td', { class: 'num' }, w.latest_version),
        el('td', null, w.recent.length === 0
          ? el('span', { class: 'muted' }, 'no runs yet')
          : el('ul', { class: 'plain' }, w.recent.map((r) => el('li', null,
              el('a', { href: runLink(w.workflow_id, r.instance_id) }, `#${r.instance_id}`), ' ', statusBadge(r.status), ' ',
              el('span', { class: 'muted' }, fmtTime(r.created_at)), ' · ',
              el('a', { href: lineageOfRun(w.workflow_id, r.instance_id) }, 'lineage'))))),
      ));
    main(pages, el('h2', null, 'Workflows'), workflows.length === 0
      ? el('p', { class: 'muted' }, 'No workflows pushed yet.')
      : table(['Workflow', 'Active', 'Latest', 'Recent runs'], rows, { id: 'workflows' }));
  } catch (err) {
    main(pages, errorBox(err));
  }
}

void render();
