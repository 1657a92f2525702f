import { el, showJson, table } from './ui.js';

/** The steps of a stored definition in order, each as `{id, type, successors, waitsFor}`. */
export function definitionSteps(workflow) {
  return (workflow.steps ?? []).map((s) => {
    const step = s.step ?? s.subworkflow ?? s.foreach ?? s.while ?? s;
    const kind = Object.keys(s).length === 1 ? Object.keys(s)[0] : 'step';
    return {
      id: step.id,
      type: step.type ?? kind,
      successors: Object.entries(step.transition?.successors ?? {}),
      waitsFor: (step.signal_dependencies ?? []).map((d) => d.name),
    };
  });
}

function paramText(p) {
  if (p === null || typeof p !== 'object') return showJson(p);
  if ('expression' in p) return `= ${p.expression}`;
  return showJson(p.value);
}

/** The definition's params, triggers and steps, read-only. */
export function definitionView(version) {
  const wf = version.definition.workflow;
  const params = Object.entries(wf.params ?? {});
  const signalTriggers = (wf.signal_triggers ?? []).flatMap((t) => Object.keys(t.definitions ?? {}));
  const timeTriggers = wf.time_triggers ?? [];
  const steps = definitionSteps(wf);
  return el('section', { class: 'card', id: 'definition' },
    el('h2', null, 'Definition ', el('span', { class: 'muted' }, `version ${version.workflow_version_id}${version.is_active ? ' (active)' : ''}`)),
    wf.description ? el('p', null, wf.description) : null,
    el('h2', null, 'Triggers'),
    signalTriggers.length === 0 && timeTriggers.length === 0
      ? el('p', { class: 'muted' }, 'None: runs start only by request.')
      : el('ul', { class: 'plain', id: 'triggers' },
          signalTriggers.map((name) => el('li', { 'data-kind': 'signal' }, 'signal ', el('span', { class: 'mono' }, name))),
          timeTriggers.map((t) => el('li', { 'data-kind': 'time' }, `${(t.type ?? 'time').toLowerCase()} `, el('span', { class: 'mono' }, t.cron ?? t.expression ?? showJson(t)), t.timezone ? el('span', { class: 'muted' }, ` (${t.timezone})`) : null))),
    el('h2', null, 'Params'),
    params.length === 0
      ? el('p', { class: 'muted' }, 'No workflow params.')
      : table(['Name', 'Type', 'Default', 'Validator'], params.map(([name, p]) =>
          el('tr', { 'data-param': name }, el('td', { class: 'mono' }, name), el('td', null, p?.type ?? '—'), el('td', { class: 'mono' }, paramText(p)), el('td', { class: 'mono' }, p?.validator ?? ''))), { id: 'params' }),
    el('h2', null, 'Steps'),
    table(['Step', 'Type', 'Then', 'Waits for'], steps.map((s) =>
      el('tr', { 'data-step': s.id },
        el('td', { class: 'mono' }, s.id),
        el('td', null, s.type),
        el('td', { class: 'mono' }, s.successors.map(([to, cond]) => (cond === 'true' ? to : `${to} if ${cond}`)).join(', ') || '—'),
        el('td', { class: 'mono' }, s.waitsFor.join(', ') || ''))), { id: 'steps' }),
  );
}
