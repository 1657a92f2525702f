import { el, enc, parseJson, runLink, sendJson } from './ui.js';

const ARRAY_OR_MAP = /_ARRAY$|^MAP$/;

/**
 * A typed value from a field's text by the param's declared type; throws a message naming what is
 * wrong. An empty field means "use the default" and yields undefined.
 */
export function fieldValue(text, type) {
  const t = text.trim();
  if (t === '') return undefined;
  switch (type) {
    case 'LONG':
      if (!/^-?\d+$/.test(t)) throw new Error(`"${t}" is not a whole number (LONG)`);
      return parseJson(t);
    case 'DOUBLE':
      if (!Number.isFinite(Number(t))) throw new Error(`"${t}" is not a number (DOUBLE)`);
      return Number(t);
    case 'BOOLEAN':
      if (t !== 'true' && t !== 'false') throw new Error('must be true or false (BOOLEAN)');
      return t === 'true';
    default:
      if (type && ARRAY_OR_MAP.test(type)) {
        try {
          return parseJson(t);
        } catch {
          throw new Error(`is not JSON (${type} takes a JSON ${type === 'MAP' ? 'object' : 'array'})`);
        }
      }
      return text;
  }
}

/** The param a server message names (`param pct: value 150 fails ...`), if any. */
export function paramNamed(message, names) {
  const m = /\bparam ([^\s:]+)/.exec(message ?? '');
  return m && names.includes(m[1]) ? m[1] : undefined;
}

/**
 * "Start run": one field per workflow param (empty = its default), or the run params as JSON.
 * Types are checked before sending; the server's 400 is shown next to the param it names.
 */
export function startForm(workflowId, params, onStarted) {
  const names = Object.keys(params);
  const fields = new Map();
  const form = el('form', { id: 'start-form', novalidate: 'novalidate' });
  const jsonBox = el('textarea', { name: 'run_params_json', 'aria-label': 'Run params as JSON', placeholder: '{"name": value}' });
  const jsonField = el('div', { class: 'field', 'data-field': 'run_params', hidden: 'hidden' }, el('label', null, 'Run params (JSON)'), jsonBox, el('div', { class: 'field-error' }));
  const toggle = el('label', { class: 'muted' }, el('input', { type: 'checkbox', name: 'as_json' }), ' edit as JSON');
  const general = el('p', { class: 'error', id: 'start-error', hidden: 'hidden', role: 'alert' });
  const done = el('p', { class: 'notice', id: 'start-done', hidden: 'hidden' });

  for (const name of names) {
    const p = params[name] ?? {};
    const input = el('input', { type: 'text', name: `param-${name}`, placeholder: p.expression !== undefined ? `= ${p.expression}` : JSON.stringify(p.value) ?? '', 'aria-label': `param ${name}` });
    const field = el('div', { class: 'field', 'data-field': name }, el('label', null, el('span', { class: 'mono' }, name), el('span', { class: 'muted' }, ` ${p.type ?? ''}`)), input, el('div', { class: 'field-error' }));
    fields.set(name, field);
  }

  const setError = (field, message) => {
    field.classList.toggle('invalid', Boolean(message));
    field.querySelector('.field-error').textContent = message ?? '';
  };
  const clear = () => {
    for (const f of [...fields.values(), jsonField]) setError(f, undefined);
    general.hidden = true;
    done.hidden = true;
  };
  const showGeneral = (message) => {
    general.textContent = message;
    general.hidden = false;
  };

  toggle.querySelector('input').addEventListener('change', (ev) => {
    const asJson = ev.target.checked;
    jsonField.hidden = !asJson;
    for (const f of fields.values()) f.hidden = asJson;
  });

  /** The run params to send, or undefined after marking what is wrong. */
  function collect() {
    if (!jsonField.hidden) {
      const text = jsonBox.value.trim();
      if (text === '') return {};
      let value;
      try {
        value = parseJson(text);
      } catch (err) {
        setError(jsonField, `not JSON: ${err.message}`);
        return undefined;
      }
      if (value === null || typeof value !== 'object' || Array.isArray(value)) {
        setError(jsonField, 'must be a JSON object of param name → value');
        return undefined;
      }
      return value;
    }
    const out = {};
    let ok = true;
    for (const [name, field] of fields) {
      try {
        const v = fieldValue(field.querySelector('input').value, params[name]?.type);
        if (v !== undefined) out[name] = params[name]?.type ? { value: v, type: params[name].type } : v;
      } catch (err) {
        setError(field, err.message);
        ok = false;
      }
    }
    return ok ? out : undefined;
  }

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear();
    const runParams = collect();
    if (runParams === undefined) return;
    const button = form.querySelector('button[type="submit"]');
    button.disabled = true;
    try {
      const r = await sendJson('POST', `/api/v3/workflows/${enc(workflowId)}/versions/active/actions/start`, { run_params: runParams });
      done.replaceChildren('Started ', el('a', { href: runLink(workflowId, r.workflow_instance_id), id: 'started-run' }, `#${r.workflow_instance_id}`), ` (${r.status}).`);
      done.hidden = false;
      onStarted?.(r);
    } catch (err) {
      const message = err.problem?.errors?.[0]?.message ?? err.message;
      const name = paramNamed(message, names);
      if (name && jsonField.hidden) setError(fields.get(name), message);
      else if (!jsonField.hidden && err.problem?.errors?.[0]?.field === 'run_params') setError(jsonField, message);
      else showGeneral(err.message);
    } finally {
      button.disabled = false;
    }
  });

  form.append(
    ...(names.length === 0 ? [el('p', { class: 'muted' }, 'This workflow has no params.')] : [...fields.values(), toggle]),
    jsonField,
    el('div', { class: 'actions' }, el('button', { type: 'submit', class: 'primary' }, 'Start run'), el('span', { class: 'muted' }, 'of the active version; empty fields take their defaults')),
    general,
    done,
  );
  return el('section', { class: 'card', id: 'start-run' }, el('h2', null, 'Start a run'), form);
}
