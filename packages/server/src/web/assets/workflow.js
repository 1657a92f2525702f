/* global location, URLSearchParams */
import { definitionSteps, definitionView } from './definition.js';
import { GRID_PAGE_SIZES, runGrid } from './run-grid.js';
import { startForm } from './start-form.js';
import { el, enc, errorBox, getJson, header, main, session } from './ui.js';
import { whyTriggersWait } from './why-waiting.js';

header('/ui/workflows');

const match = /^\/ui\/workflows\/([^/]+)\/?$/.exec(location.pathname);
const workflowId = match ? decodeURIComponent(match[1]) : '';

async function render() {
  const title = el('h1', null, 'Workflow ', el('span', { class: 'mono' }, workflowId));
  main(title, el('p', { class: 'muted' }, 'Loading…'));
  let version;
  let who;
  try {
    // The active version is what triggers and "start" run; a workflow without one shows its latest.
    version = await getJson(`/api/v3/workflows/${enc(workflowId)}/versions/active`).catch((err) => {
      if (err.status === 404) return getJson(`/api/v3/workflows/${enc(workflowId)}/versions/latest`);
      throw err;
    });
    who = await session();
  } catch (err) {
    main(title, errorBox(err));
    return;
  }
  const wf = version.definition.workflow;
  const limit = Number(new URLSearchParams(location.search).get('runs'));
  const grid = runGrid(workflowId, definitionSteps(wf).map((s) => s.id), { limit: GRID_PAGE_SIZES.includes(limit) || (limit > 0 && limit <= 100) ? limit : undefined });
  const start = !who.may_act
    ? el('section', { class: 'card', id: 'start-run' }, el('h2', null, 'Start a run'), el('p', { class: 'muted', id: 'read-only' }, `Token "${who.token_name}" (role ${who.role}) may read but not start runs.`))
    : version.active_version_id === null
      ? el('section', { class: 'card', id: 'start-run' }, el('h2', null, 'Start a run'), el('p', { class: 'muted' }, 'No version is active: activate one to start runs.'))
      : startForm(workflowId, wf.params ?? {}, () => void grid.reload());
  main(
    title,
    wf.name ? el('p', { class: 'muted' }, wf.name) : null,
    whyTriggersWait(workflowId),
    grid.element,
    el('div', { class: 'columns even' }, start, definitionView(version)),
  );
}

if (!match) main(el('h1', null, 'Workflow'), errorBox('the address must look like /ui/workflows/<workflow id>'));
else void render();
