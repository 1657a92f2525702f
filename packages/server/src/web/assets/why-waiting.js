/* global document */
// "Why is this waiting?": a step in WAITING_FOR_SIGNALS (instance page) and a signal trigger with
// a partial join (workflow page), explained condition by condition from the REST API. Met
// conditions in green with the signal that met them; unmet ones with the closest signals that did
// not match and the operator, key and value that failed.
import { el, enc, errorBox, fmtTime, getJson, signalsLink } from './ui.js';

/** The panels' styles, from their own file (the pages' CSP allows no inline style). */
function addStyle() {
  if (document.getElementById('why-waiting-style')) return;
  document.head.append(el('link', { id: 'why-waiting-style', rel: 'stylesheet', href: '/ui/assets/why-waiting.css' }));
}

/** JSON on one line, bigint exact. */
function compact(v) {
  if (typeof v === 'bigint') return v.toString();
  if (Array.isArray(v)) return `[${v.map(compact).join(', ')}]`;
  if (v !== null && typeof v === 'object') return `{${Object.entries(v).map(([k, x]) => `${JSON.stringify(k)}: ${compact(x)}`).join(', ')}}`;
  return JSON.stringify(v) ?? 'null';
}
const text = (v) => (v === null || v === undefined ? 'absent' : typeof v === 'string' ? JSON.stringify(v) : compact(v));

function specText(c) {
  const parts = Object.entries(c.match_params).map(([p, conds]) => conds.map((x, i) => `${i === 0 ? `${p} ` : 'and '}${x.operator} ${text(x.value)}`).join(' '));
  return parts.length ? parts.join(', ') : 'any params';
}

function signalLink(s) {
  return el('a', { href: signalsLink(s.name, s.seq_id), class: 'mono', 'data-seq': String(s.seq_id) }, `${s.name} #${s.seq_id}`);
}

function mismatchItem(m) {
  const kind = el('span', { class: 'kind' }, m.kind.replace('_', ' '));
  if (m.kind === 'param' || m.kind === 'join_key') {
    return el('li', { 'data-kind': m.kind, 'data-param': m.param ?? '', title: m.message }, kind,
      el('span', { class: 'mono' }, m.param, ' ', m.operator ?? '=', ' ', el('span', { class: 'want' }, text(m.expected))),
      ' — actual ', el('span', { class: 'got mono' }, text(m.actual)));
  }
  return el('li', { 'data-kind': m.kind }, kind, m.message);
}

/** One awaited signal: met (green, by which instance) or unmet (with its closest misses). */
export function conditionView(c) {
  const join = c.expected_join ? el('span', { class: 'muted' }, 'join ', el('span', { class: 'mono' }, Object.entries(c.expected_join).map(([k, v]) => `${k} = ${text(v)}`).join(', '))) : null;
  const head = el('div', { class: 'why-head' },
    el('span', { class: `badge ${c.met ? 'st-ok' : 'st-waiting'}` }, c.met ? 'met' : 'unmet'),
    el('strong', { class: 'mono' }, c.signal_name), el('span', { class: 'mono muted' }, specText(c)), join);
  const box = el('div', { class: `why-cond ${c.met ? 'met' : 'unmet'}`, 'data-signal': c.signal_name, 'data-met': String(c.met) }, head);
  if (c.met && c.matched_by) {
    box.append(el('div', { class: 'why-by' }, 'met by ', signalLink(c.matched_by), ` at ${fmtTime(c.matched_by.create_time)} `, el('span', { class: 'mono muted' }, compact(c.matched_by.params))));
  } else if (c.closest.length === 0) {
    box.append(el('div', { class: 'why-by muted' }, `No signal named ${c.signal_name} among the ${c.scanned} newest.`));
  } else {
    box.append(el('div', { class: 'why-by muted' }, `Closest signals that did not match (of the ${c.scanned} newest):`),
      el('table', { class: 'why-closest' },
        el('thead', null, el('tr', null, el('th', null, 'Signal'), el('th', null, 'Published'), el('th', null, 'Params'), el('th', null, 'Why not'))),
        el('tbody', null, c.closest.map((m) => el('tr', { 'data-seq': String(m.signal.seq_id) },
          el('td', null, signalLink(m.signal)), el('td', null, fmtTime(m.signal.create_time)), el('td', { class: 'mono params' }, compact(m.signal.params)),
          el('td', null, el('ul', { class: 'why-miss' }, m.mismatches.map(mismatchItem))))))));
  }
  return box;
}

/** A join's key values, named as the signal it holds names them. */
function joinText(j) {
  const keys = (j.conditions.find((c) => c.met) ?? j.conditions[0])?.join_keys ?? [];
  return keys.length === j.join_values.length ? keys.map((k, i) => `${k} = ${text(j.join_values[i])}`).join(', ') : compact(j.join_values);
}

/** A card that loads an explanation, shows it, and reloads it on demand. */
function panel(id, title, url, render) {
  addStyle();
  const body = el('div', null, el('p', { class: 'muted' }, 'Loading…'));
  const reload = el('button', { type: 'button', class: 'why-reload' }, 'Refresh');
  const card = el('section', { class: 'card why', id }, el('h2', null, title, ' ', reload), body);
  const load = async () => {
    reload.disabled = true;
    try {
      body.replaceChildren(...[render(await getJson(url))].flat(Infinity).filter(Boolean));
    } catch (err) {
      body.replaceChildren(errorBox(err));
    } finally {
      reload.disabled = false;
    }
  };
  reload.addEventListener('click', () => void load());
  void load();
  return card;
}

const stepPanels = new Map();

/** The instance page's panel for a step attempt in WAITING_FOR_SIGNALS (kept across redraws). */
export function whyStepWaits(workflowId, instanceId, stepId, attempt) {
  const key = JSON.stringify([workflowId, instanceId, stepId, attempt]);
  if (!stepPanels.has(key)) {
    const url = `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/steps/${enc(stepId)}/waiting`;
    stepPanels.set(key, panel('why-waiting', 'Why is this waiting?', url, (w) => {
      if (w.waiter_status === null) return el('p', { class: 'muted' }, 'This step has no signal dependencies: it waits for another gate.');
      const unmet = w.conditions.filter((c) => !c.met).length;
      return [
        el('p', { id: 'why-summary' }, w.waiter_status === 'WAITING'
          ? `Waiting since ${fmtTime(w.waiting_since)} for ${unmet} of ${w.conditions.length} signal dependencies.`
          : `Signal gate ${w.waiter_status}.`),
        w.conditions.map(conditionView),
      ];
    }));
  }
  return stepPanels.get(key);
}

/**
 * The workflow page's panel for its signal triggers with a partial join: each join's signals,
 * met and unmet. Hidden while no trigger holds part of a join.
 */
export function whyTriggersWait(workflowId) {
  const url = `/api/v3/workflows/${enc(workflowId)}/triggers/signals/waiting`;
  const card = panel('why-trigger-waiting', 'Why has this trigger not fired?', url, (w) => {
    const partial = w.triggers.filter((t) => t.partial_joins > 0);
    card.hidden = partial.length === 0;
    return partial.map((t) => el('div', { class: 'why-trigger', 'data-trigger': t.trigger_id },
      el('p', null, el('strong', null, `Signal trigger #${t.trigger_index}`), ' on ', el('span', { class: 'mono' }, t.signal_names.join(' + ')),
        `: ${t.partial_joins} partial join${t.partial_joins === 1 ? '' : 's'}`, t.paused ? ' (paused: it counts no signal)' : '',
        t.join_window_seconds !== null ? `, join window ${t.join_window_seconds} s` : ''),
      t.joins.filter((j) => !j.complete && j.join_values !== null).map((j) => el('div', { class: 'why-join', 'data-join': compact(j.join_values) },
        el('div', { class: 'muted' }, 'Join ', el('span', { class: 'mono' }, joinText(j)), `, first signal ${fmtTime(j.first_signal_time)}`, j.expires_at ? `, expires ${fmtTime(j.expires_at)}` : ''),
        j.conditions.map(conditionView)))));
  });
  card.hidden = true;
  return card;
}
