/* global document */
import { stepLink } from './run-links.js';
import { el, enc, sendJson } from './ui.js';

const STEP_ENDED = new Set(['UNSATISFIED', 'SKIPPED', 'SUCCEEDED', 'COMPLETED_WITH_ERROR', 'USER_FAILED', 'PLATFORM_FAILED', 'FATALLY_FAILED', 'INTERNALLY_FAILED', 'STOPPED', 'TIMED_OUT']);
const RESTARTABLE = new Set(['FAILED', 'STOPPED', 'TIMED_OUT']);

/**
 * Asks before an action, with an optional reason recorded with it. Resolves to `{reason}` or
 * null when cancelled.
 */
export function confirmAction(title, text) {
  return new Promise((resolve) => {
    const reason = el('input', { type: 'text', name: 'reason', placeholder: 'Reason (optional, recorded with the action)', maxlength: '1000', 'aria-label': 'Reason' });
    const ok = el('button', { type: 'submit', class: 'primary', id: 'confirm-ok' }, title);
    const cancel = el('button', { type: 'button', id: 'confirm-cancel' }, 'Cancel');
    const form = el('form', { method: 'dialog' }, el('h2', null, `${title}?`), el('p', null, text), reason, el('div', { class: 'actions' }, ok, cancel));
    const dialog = el('dialog', { class: 'confirm', id: 'confirm' }, form);
    const close = (value) => {
      dialog.close();
      dialog.remove();
      resolve(value);
    };
    form.addEventListener('submit', (ev) => {
      ev.preventDefault();
      close({ reason: reason.value.trim() || undefined });
    });
    cancel.addEventListener('click', () => close(null));
    dialog.addEventListener('cancel', () => close(null));
    document.body.append(dialog);
    dialog.showModal();
  });
}

/**
 * A button that confirms, calls the action and reports what came back: `onDone(message)` after
 * success, `onError(err)` with the server's refusal.
 */
function actionButton({ id, label, title, text, danger, call, onDone, onError }) {
  const button = el('button', { type: 'button', id, class: danger ? 'danger' : undefined }, label);
  button.addEventListener('click', async () => {
    const answer = await confirmAction(title, text);
    if (!answer) return;
    button.disabled = true;
    try {
      onDone(await call(answer.reason));
    } catch (err) {
      onError(err);
    } finally {
      button.disabled = false;
    }
  });
  return button;
}

const body = (reason) => (reason ? { reason } : {});

/**
 * In place of the restart button of a run another run started: a disabled button saying why,
 * and a link to the parent run at the step that started it (restarting that run runs it again).
 */
function restartViaParent(parent) {
  const what = parent.kind === 'SUBWORKFLOW' ? 'A subworkflow run' : 'A loop iteration';
  const href = stepLink(parent.workflow_id, parent.instance_id, parent.step_id);
  const why = `${what} is not restarted on its own: restart ${parent.workflow_id} #${parent.instance_id} from its failed steps and step ${parent.step_id} runs it again.`;
  return el('span', { class: 'restart-via-parent', id: 'action-restart-parent' }, [
    el('button', { type: 'button', disabled: 'disabled', title: why }, 'Restart failed steps'),
    el('span', { class: 'muted' }, ` ${what.toLowerCase()} is restarted through its parent: `),
    el('a', { href, title: why }, `open ${parent.workflow_id} #${parent.instance_id} at step ${parent.step_id}`),
    el('span', { class: 'muted' }, ' and restart it there'),
  ]);
}

/** Stop, kill and restart of an instance, as its status allows. */
export function instanceActions(workflowId, instanceId, view, handlers) {
  const base = `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}`;
  const name = `${workflowId} #${instanceId}`;
  const buttons = [];
  if (!view.terminal) {
    buttons.push(actionButton({ ...handlers, id: 'action-stop', label: 'Stop', title: 'Stop the run', text: `Running steps of ${name} are aborted and end STOPPED; the run ends STOPPED.`, call: async (reason) => {
      const r = await sendJson('PUT', `${base}/actions/stop`, body(reason));
      return r.stopped ? `Stopped: ${r.status}.` : `Already ended (${r.status}).`;
    } }));
    buttons.push(actionButton({ ...handlers, id: 'action-kill', label: 'Kill', danger: true, title: 'Kill the run', text: `${name} ends FAILED: every step that has not ended ends FATALLY_FAILED and is never retried.`, call: async (reason) => {
      const r = await sendJson('PUT', `${base}/actions/kill`, body(reason));
      return r.killed ? `Killed: ${r.status}.` : `Already ended (${r.status}).`;
    } }));
  }
  // A loop iteration or subworkflow run is restarted through the parent run that started it.
  const iteration = view.parent && view.parent.kind !== 'SUBWORKFLOW';
  if (RESTARTABLE.has(view.status) && view.parent) buttons.push(restartViaParent(view.parent));
  if (RESTARTABLE.has(view.status) && !view.parent) {
    buttons.push(actionButton({ ...handlers, id: 'action-restart', label: 'Restart failed steps', title: 'Restart from the failed steps', text: `A new run of ${name}: steps that ended well are carried over; failed, stopped and never-started steps run again.`, call: async (reason) => {
      const r = await sendJson('POST', `${base}/actions/restart`, body(reason));
      return `Run ${r.workflow_run_id} started; carried over: ${r.carried_over_steps.join(', ') || 'nothing'}.`;
    } }));
  }
  if (view.terminal && !iteration) {
    buttons.push(actionButton({ ...handlers, id: 'action-rerun', label: 'Run again from the start', title: 'Run again from the start', text: `A new instance of ${workflowId} with the same run params as #${instanceId}, every step run from the start.`, call: async () => {
      const run = await sendJson('GET', `${base}/runs/latest`);
      const r = await sendJson('POST', `/api/v3/workflows/${enc(workflowId)}/versions/${run.workflow_version_id}/actions/start`, { run_params: run.run_params ?? {} });
      return { message: `Started #${r.workflow_instance_id}.`, instance: r.workflow_instance_id };
    } }));
  }
  return el('div', { class: 'actions', id: 'instance-actions' }, buttons);
}

/** Skip, stop, kill, resume and restart-from-here for one step, as its status allows. */
export function stepActions(workflowId, instanceId, attempt, view, handlers) {
  const base = `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/steps/${enc(attempt.step_id)}/actions`;
  const step = `step ${attempt.step_id} of ${workflowId} #${instanceId}`;
  const stepCall = (action) => async (reason) => {
    const r = await sendJson('POST', `${base}/${action}`, body(reason));
    return `Step ${r.step_id}: ${r.status}.`;
  };
  const buttons = [];
  if (!STEP_ENDED.has(attempt.status) && !view.terminal) {
    if (attempt.status === 'PAUSED') buttons.push(actionButton({ ...handlers, id: 'step-resume', label: 'Resume', title: 'Resume the step', text: `${step} is paused at a breakpoint; it runs now.`, call: stepCall('resume') }));
    buttons.push(actionButton({ ...handlers, id: 'step-skip', label: 'Skip', title: 'Skip the step', text: `${step} ends SKIPPED and the run goes on as if it had succeeded.`, call: stepCall('skip') }));
    buttons.push(actionButton({ ...handlers, id: 'step-stop', label: 'Stop step', title: 'Stop the step', text: `${step} ends STOPPED; the run ends STOPPED once nothing else runs.`, call: stepCall('stop') }));
    buttons.push(actionButton({ ...handlers, id: 'step-kill', label: 'Kill step', danger: true, title: 'Kill the step', text: `${step} ends FATALLY_FAILED and is never retried.`, call: stepCall('kill') }));
  }
  if (STEP_ENDED.has(attempt.status) && attempt.status !== 'SUCCEEDED' && attempt.status !== 'SKIPPED' && RESTARTABLE.has(view.status) && !view.parent) {
    buttons.push(actionButton({ ...handlers, id: 'step-restart', label: 'Restart from here', title: 'Restart from the failed steps', text: `A new run of ${workflowId} #${instanceId} from ${attempt.step_id} (and any other failed step); steps that ended well are carried over.`, call: async (reason) => {
      const r = await sendJson('POST', `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/actions/restart`, body(reason));
      return `Run ${r.workflow_run_id} started from ${attempt.step_id}.`;
    } }));
  }
  return buttons.length ? el('div', { class: 'actions', id: 'step-actions' }, buttons) : null;
}
