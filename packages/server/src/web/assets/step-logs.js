import { el, enc, errorBox, getJson } from './ui.js';

const STREAMS = ['stdout', 'stderr'];
/** One viewer per attempt, so the page's redraws (it polls a live run) keep logs already shown. */
const viewers = new Map();

/**
 * What a step attempt printed (Shell steps), both streams, read from the logs route on demand.
 * `run` and `attempt` name the attempt shown in the step panel.
 */
export function stepLogs(workflowId, instanceId, run, stepId, attempt) {
  const key = JSON.stringify([workflowId, instanceId, run, stepId, attempt]);
  if (!viewers.has(key)) viewers.set(key, logViewer(workflowId, instanceId, run, stepId, attempt));
  return viewers.get(key);
}

function logViewer(workflowId, instanceId, run, stepId, attempt) {
  const box = el('div', { id: 'step-logs' });
  const button = el('button', { type: 'button', id: 'show-logs' }, 'Show logs');
  const base = `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/runs/${run}/steps/${enc(stepId)}/attempts/${attempt}/logs`;
  button.addEventListener('click', async () => {
    button.disabled = true;
    box.replaceChildren(el('p', { class: 'muted' }, 'Loading logs…'));
    try {
      const reads = await Promise.all(STREAMS.map((stream) => getJson(`${base}?stream=${stream}`)));
      box.replaceChildren(...reads.map((r) => el('div', { 'data-stream': r.stream },
        el('h2', null, r.stream, el('span', { class: 'muted' }, ` ${r.total_bytes ?? r.text.length} bytes${r.complete ? '' : ' so far'}`)),
        r.text ? el('pre', { class: 'logs' }, r.text) : el('p', { class: 'muted' }, 'printed nothing'))));
    } catch (err) {
      box.replaceChildren(errorBox(err));
    } finally {
      button.disabled = false;
      button.textContent = 'Reload logs';
    }
  });
  return el('div', null, button, box);
}
