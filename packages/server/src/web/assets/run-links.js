import { el, enc, runLink, statusBadge, timeEl } from './ui.js';

/** `/ui/workflows/{w}/instances/{i}?step={s}`: a run opened at one of its steps. */
export function stepLink(workflowId, instanceId, stepId) {
  return `${runLink(workflowId, instanceId)}?step=${enc(stepId)}`;
}

/** What a loop iteration's inline workflow id (`<workflow>#<loop step>`) is called on a page. */
export function runTitle(workflowId, instanceId, parent) {
  if (parent && parent.iteration !== null && workflowId.includes('#')) return `${parent.workflow_id} #${parent.instance_id} · ${parent.step_id} iteration ${parent.iteration}`;
  return `${workflowId} #${instanceId}`;
}

/** The banner of a run another run started: a link back to its parent instance and step. */
export function parentBanner(v) {
  const p = v.parent;
  if (!p) return null;
  const href = stepLink(p.workflow_id, p.instance_id, p.step_id);
  const run = p.run_id > 1 ? ` (run ${p.run_id})` : '';
  const what = p.kind === 'SUBWORKFLOW'
    ? ['Subworkflow run started by ', el('a', { href, id: 'parent-link' }, `${p.workflow_id} #${p.instance_id} step ${p.step_id}`), run]
    : [`Iteration ${p.iteration} of ${p.kind.toLowerCase()} step `, el('span', { class: 'mono' }, p.step_id), ' of ', el('a', { href, id: 'parent-link' }, `${p.workflow_id} #${p.instance_id}`), run, ' · ', el('a', { href }, 'all iterations')];
  return el('div', { class: 'banner parent', id: 'parent-banner', 'data-kind': p.kind }, what);
}

/** The subworkflow runs this run started, one link per subworkflow step. */
export function childRuns(v) {
  const subs = v.steps.filter((s) => s.subworkflow);
  if (subs.length === 0) return null;
  return el('div', { class: 'legend', id: 'child-runs' }, el('span', { class: 'muted' }, 'Subworkflow runs:'),
    subs.map((s) => el('span', { 'data-step': s.step_id },
      el('a', { href: runLink(s.subworkflow.workflow_id, s.subworkflow.instance_id), class: 'child-link', 'data-step': s.step_id }, `${s.step_id} → ${s.subworkflow.workflow_id} #${s.subworkflow.instance_id}`),
      ' ', s.subworkflow.status ? statusBadge(s.subworkflow.status) : null)));
}

/** In the step panel of a subworkflow step: the child run it started. */
export function childRunLink(v, stepId) {
  const s = v.steps.find((x) => x.step_id === stepId);
  if (!s?.subworkflow) return null;
  return el('p', { id: 'subworkflow-link' }, 'Subworkflow run: ',
    el('a', { href: runLink(s.subworkflow.workflow_id, s.subworkflow.instance_id) }, `${s.subworkflow.workflow_id} #${s.subworkflow.instance_id}`),
    ' ', s.subworkflow.status ? statusBadge(s.subworkflow.status) : null);
}

/** A time-triggered run: which trigger and fire time, in the viewer's zone and the trigger's. */
export function initiatorLine(v) {
  const i = v.initiator;
  if (!i || typeof i !== 'object' || i.type !== 'TIME') return null;
  return el('p', { class: 'muted', id: 'initiator' }, `Started by time trigger ${i.trigger} (${i.expression}, ${i.timezone}) for `, timeEl(i.fire_time, i.timezone), i.catch_up ? ' (catch-up)' : '');
}
