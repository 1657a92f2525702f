/* global document, fetch, location, sessionStorage, URLSearchParams */
// Shared helpers of the Baton pages. Data only ever reaches the page as text nodes or attribute
// values (never as markup), so signal names and params cannot inject anything.

const SVG_NS = 'http://www.w3.org/2000/svg';

function append(node, children) {
  for (const c of children.flat()) {
    if (c === null || c === undefined || c === false) continue;
    node.append(typeof c === 'string' || typeof c === 'number' || typeof c === 'bigint' ? document.createTextNode(String(c)) : c);
  }
  return node;
}

function setAttrs(node, attrs) {
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on') && typeof v === 'function') node.addEventListener(k.slice(2), v);
    else node.setAttribute(k, String(v));
  }
  return node;
}

/** An HTML element: `el('a', { href }, 'text', child)`. */
export function el(tag, attrs, ...children) {
  return append(setAttrs(document.createElement(tag), attrs), children);
}

/** An SVG element, same shape as `el`. */
export function svg(tag, attrs, ...children) {
  return append(setAttrs(document.createElementNS(SVG_NS, tag), attrs), children);
}

/** Query string of a link; every value is URL-encoded (signal names hold `/`). */
export function qs(params) {
  const u = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) u.set(k, String(v));
  return u.toString();
}

export const enc = encodeURIComponent;

export function signalsLink(name, seq) {
  return `/ui/signals?${qs({ name, seq })}`;
}
export function lineageOfSignal(name, seq) {
  return `/ui/lineage?${qs({ signal: name, seq })}`;
}
export function lineageOfRun(workflow, instance) {
  return `/ui/lineage?${qs({ workflow, instance })}`;
}
export function runLink(workflow, instance) {
  return `/ui/workflows/${enc(workflow)}/instances/${enc(instance)}`;
}

/**
 * JSON with integers beyond 2^53 kept exact as bigint (signal params are 64-bit), using the
 * source text the reviver receives.
 */
export function parseJson(text) {
  return JSON.parse(text, (_key, value, context) => {
    if (typeof value === 'number' && !Number.isSafeInteger(value) && context && /^-?\d+$/.test(context.source)) return BigInt(context.source);
    return value;
  });
}

/** Like JSON.stringify, bigint written as plain digits. */
export function showJson(value) {
  // bigints go out as unique placeholder strings that are swapped back for their digits.
  const token = `bigint-${Math.random().toString(36).slice(2)}-${Date.now()}`;
  const marks = [];
  const text = JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${token}:${marks.push(v.toString()) - 1}` : v), 2);
  if (text === undefined) return 'null';
  return text.replace(new RegExp(`"${token}:(\\d+)"`, 'g'), (_m, i) => marks[Number(i)]);
}

export class HttpError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// When the service requires API tokens, the pages send the one the user entered (kept for this
// browser tab only).
const TOKEN_KEY = 'baton.token';

function tokenForm(message) {
  const input = el('input', { type: 'password', name: 'token', placeholder: 'API token (reader or admin)', autocomplete: 'off', 'aria-label': 'API token' });
  const form = el('form', { class: 'card', id: 'token-form' }, el('h2', null, 'API token needed'), el('p', { class: 'muted' }, message), input, el('button', { type: 'submit' }, 'Use this token'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    if (!input.value.trim()) return;
    sessionStorage.setItem(TOKEN_KEY, input.value.trim());
    location.reload();
  });
  return form;
}

export async function getJson(url) {
  return sendJson('GET', url);
}

/**
 * A call of the JSON API with the tab's token. An error status throws an HttpError that carries the
 * problem document (`problem.errors` names the fields of a 400).
 */
export async function sendJson(method, url, payload) {
  const headers = { accept: 'application/json' };
  const token = sessionStorage.getItem(TOKEN_KEY);
  if (token) headers.authorization = `Bearer ${token}`;
  if (payload !== undefined) headers['content-type'] = 'application/json';
  const res = await fetch(url, { method, headers, body: payload === undefined ? undefined : showJson(payload) });
  if (res.status === 401) {
    if (token) sessionStorage.removeItem(TOKEN_KEY);
    throw new HttpError(401, token ? 'The token was not accepted; enter another one.' : 'This Baton service requires an API token to read its data.');
  }
  const text = await res.text();
  let body;
  try {
    body = text ? parseJson(text) : undefined;
  } catch {
    throw new HttpError(res.status, `${url}: the answer is not JSON (HTTP ${res.status})`);
  }
  if (!res.ok) {
    const err = new HttpError(res.status, body?.detail ?? `${url}: HTTP ${res.status}`);
    err.problem = body;
    throw err;
  }
  return body;
}

let sessionPromise;
/** The caller's token name and role, and whether it may act (`may_act`); asked once per page. */
export function session() {
  sessionPromise ??= getJson('/api/v3/ui/session');
  return sessionPromise;
}

export function workflowLink(workflow) {
  return `/ui/workflows/${enc(workflow)}`;
}

const formatters = new Map();
/** A cached Intl formatter for a zone (undefined: the viewer's own zone). */
function formatter(zone) {
  const key = zone ?? '';
  if (!formatters.has(key)) {
    formatters.set(key, new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }));
  }
  return formatters.get(key);
}

function toDate(value) {
  if (value === null || value === undefined) return undefined;
  const d = new Date(typeof value === 'bigint' ? Number(value) : value);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

/** `2026-12-07 00:30:00 GMT+1`: a time in `zone` (an IANA name), or the viewer's zone when omitted. */
export function fmtInZone(value, zone) {
  const d = toDate(value);
  if (!d) return value === null || value === undefined ? '—' : String(value);
  let f;
  try {
    f = formatter(zone);
  } catch {
    return `${d.toISOString()} (unknown zone ${zone})`;
  }
  const p = Object.fromEntries(f.formatToParts(d).map((x) => [x.type, x.value]));
  return `${p.year}-${p.month}-${p.day} ${p.hour}:${p.minute}:${p.second} ${p.timeZoneName}`;
}

/** The viewer's time zone (the browser's), e.g. `Europe/Paris`. */
export function viewerZone() {
  return Intl.DateTimeFormat().resolvedOptions().timeZone;
}

/** A time in the viewer's zone (the browser's, via Intl). */
export function fmtTime(value) {
  return fmtInZone(value);
}

/**
 * A time in the viewer's zone as a `<time>` element (ISO UTC in its title); with `zone`, the same
 * instant in that zone beside it when it differs (a trigger's zone).
 */
export function timeEl(value, zone, attrs) {
  const d = toDate(value);
  if (!d) return el('span', attrs, fmtTime(value));
  const local = fmtTime(d);
  const other = zone && zone !== viewerZone() ? fmtInZone(d, zone) : undefined;
  return el('span', attrs, el('time', { datetime: d.toISOString(), title: d.toISOString() }, local), other && other !== local ? el('span', { class: 'muted zone-time', title: `in the trigger's zone ${zone}` }, ` · ${other} (${zone})`) : null);
}

export function ago(value, now = Date.now()) {
  if (value === null || value === undefined) return '';
  const s = Math.round((now - new Date(value).getTime()) / 1000);
  if (Math.abs(s) < 60) return s >= 0 ? `${s}s ago` : `in ${-s}s`;
  const m = Math.round(s / 60);
  if (Math.abs(m) < 60) return m >= 0 ? `${m} min ago` : `in ${-m} min`;
  const h = Math.round(m / 60);
  if (Math.abs(h) < 48) return h >= 0 ? `${h} h ago` : `in ${-h} h`;
  const d = Math.round(h / 24);
  return d >= 0 ? `${d} days ago` : `in ${-d} days`;
}

const GROUPS = {
  SUCCEEDED: 'ok',
  SKIPPED: 'skipped',
  RUNNING: 'active',
  STARTING: 'active',
  FINISHING: 'active',
  IN_PROGRESS: 'active',
  CREATED: 'pending',
  INITIALIZED: 'pending',
  EVALUATING_PARAMS: 'pending',
  WAITING_FOR_PERMITS: 'pending',
  PAUSED: 'waiting',
  WAITING_FOR_SIGNALS: 'waiting',
  COMPLETED_WITH_ERROR: 'failed',
  USER_FAILED: 'failed',
  PLATFORM_FAILED: 'failed',
  FATALLY_FAILED: 'failed',
  INTERNALLY_FAILED: 'failed',
  FAILED: 'failed',
  TIMED_OUT: 'failed',
  STOPPED: 'stopped',
};

/** The colour family of a step or instance status (CSS class `st-<group>`). */
export function statusGroup(status) {
  return GROUPS[status] ?? 'idle';
}

export function statusBadge(status) {
  return el('span', { class: `badge st-${statusGroup(status)}`, 'data-status': status }, status);
}

const NAV = [
  ['/ui', 'Home'],
  ['/ui/workflows', 'Workflows'],
  ['/ui/signals', 'Signals'],
  ['/ui/lineage', 'Lineage'],
  ['/ui/catalog', 'Catalog'],
  ['/ui/schedules', 'Schedules'],
];

/** Header with the navigation; `current` is the path of the page shown. */
export function header(current) {
  const top = document.getElementById('top');
  top.replaceChildren(
    el('a', { class: 'brand', href: '/ui' }, 'Baton'),
    el('nav', null, NAV.map(([href, text]) => el('a', { href, class: href === current ? 'current' : undefined }, text))),
  );
}

export function main(...children) {
  const m = document.getElementById('main');
  m.replaceChildren(...children.flat().filter(Boolean));
  return m;
}

/** The message of a failed load; a missing or refused token asks for one instead. */
export function errorBox(err) {
  if (err instanceof HttpError && err.status === 401) return tokenForm(err.message);
  return el('p', { class: 'error', role: 'alert' }, err instanceof Error ? err.message : String(err));
}

export function table(headings, rows, attrs) {
  return el('table', attrs, el('thead', null, el('tr', null, headings.map((h) => el('th', null, h)))), el('tbody', null, rows));
}
