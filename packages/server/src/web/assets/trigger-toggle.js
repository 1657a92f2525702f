import { confirmAction } from './actions.js';
import { el, enc, sendJson } from './ui.js';

/**
 * Pause / activate a workflow's triggers (`POST /api/v3/workflows/{id}/triggers/pause|activate`).
 * `paused` is the list's field; a server without those routes (404) or without the field says so
 * instead of pretending. `onChanged` reloads the list.
 */
export function triggerToggle(w, onChanged) {
  const note = el('span', { class: 'muted toggle-note' });
  const pausing = w.paused !== true;
  const button = el('button', { type: 'button', class: pausing ? undefined : 'primary', 'data-action': pausing ? 'pause' : 'activate' }, pausing ? 'Pause' : 'Activate');
  button.addEventListener('click', async () => {
    const answer = await confirmAction(pausing ? 'Pause triggers' : 'Activate triggers', pausing
      ? `The time and signal triggers of ${w.workflow_id} start nothing until activated; runs already going are not touched.`
      : `The triggers of ${w.workflow_id} start runs again.`);
    if (!answer) return;
    button.disabled = true;
    try {
      await sendJson('POST', `/api/v3/workflows/${enc(w.workflow_id)}/triggers/${pausing ? 'pause' : 'activate'}`, pausing && answer.reason ? { reason: answer.reason } : {});
      onChanged();
    } catch (err) {
      note.textContent = err.status === 404 ? ' this server cannot pause triggers (no such route)' : ` ${err.message}`;
      note.className = 'error toggle-note';
      button.disabled = false;
    }
  });
  return el('span', { class: 'trigger-toggle' }, w.paused === true ? el('span', { class: 'badge st-waiting', 'data-paused': 'true' }, 'paused') : null, ' ', button, note);
}
