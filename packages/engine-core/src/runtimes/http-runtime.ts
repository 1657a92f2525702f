import type { ParamValue } from '../definition/model.js';
import type { StepResult, StepRuntime, StepRuntimeContext } from '../runtime/step-runtime.js';
import { HostAllowList } from './host-allow-list.js';
import { evaluateStateExpr } from './http-state.js';
import type { SelEvaluate } from '../runtime/sel-port.js';
import { readCapped, ResponseTooLargeError } from './read-capped.js';
import { isParamMap, optionalDurationMs, optionalStringMap, optionalText, requiredText, StepParamError } from './step-params.js';

export interface HttpRuntimeOptions {
  /** Hosts requests (and redirects) may go to; see HostAllowList. Empty = every request refused. */
  allowedHosts: readonly string[];
  /** When the step gives no `http.timeout`. Default 60 s. Not scaled by `timeScale`: it bounds real work. */
  defaultTimeoutMs?: number;
  /** Largest response body read; a larger one fails the step. Default 1 MiB. */
  maxResponseBytes?: number;
  /** Redirects followed (each checked against the allow-list); 0 returns the 3xx itself. Default 5. */
  maxRedirects?: number;
  /** Evaluates `state_expr` (the engine's `evaluateSel`: worker pool, wall-clock limit); default inline with the default limit. */
  evaluateSel?: SelEvaluate;
}

interface HttpRequest {
  url: URL;
  method: string;
  headers: Record<string, string>;
  body: string | undefined;
  timeoutMs: number;
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);
/** Maestro's default `http.headers` (used when the step gives none). */
const DEFAULT_HEADERS: Readonly<Record<string, string>> = { 'Content-Type': 'application/json', Accept: 'application/json' };
const CREDENTIAL_HEADERS = ['authorization', 'cookie', 'proxy-authorization'];
const BODY_HEADERS = ['content-type', 'content-length', 'content-encoding', 'content-language', 'content-location'];

class TimeoutReason extends Error {}

/**
 * Maestro's Http step: the `http` map param (`url`, `method`, `headers`, `body`, plus Baton's
 * `timeout`), outputs `status_code` (LONG), `response_body` (STRING) and `response_headers`
 * (STRING_MAP, lower-case names). The step fails as a user failure on a non-2xx answer unless it
 * has a `state_expr` (Maestro's SEL program returning DONE / USER_ERROR / FATAL_ERROR / ...).
 *
 * Hosts are checked against the allow-list before any connection, and again at every redirect.
 * A refused host is FATALLY_FAILED (retrying cannot help); a connection error PLATFORM_FAILED
 * (retryable); the timeout TIMED_OUT. The request is idempotent from the runtime's point of view:
 * a resumed attempt simply sends it again.
 */
export function httpRuntime(options: HttpRuntimeOptions): StepRuntime {
  const allowList = new HostAllowList(options.allowedHosts);
  const defaultTimeoutMs = options.defaultTimeoutMs ?? 60_000;
  const maxBytes = options.maxResponseBytes ?? 1024 * 1024;
  const maxRedirects = options.maxRedirects ?? 5;
  if (!(defaultTimeoutMs > 0) || !(maxBytes > 0) || !(maxRedirects >= 0)) {
    throw new Error('httpRuntime: defaultTimeoutMs and maxResponseBytes must be positive, maxRedirects not negative');
  }

  return {
    async run(params, ctx) {
      let req: HttpRequest;
      try {
        req = readRequest(params, defaultTimeoutMs);
      } catch (e) {
        if (e instanceof StepParamError) return { status: 'USER_FAILED', message: `Http step: ${e.message}` };
        throw e;
      }
      const refused = refusal(req.url, allowList);
      if (refused) return { status: 'FATALLY_FAILED', message: refused };

      const timeout = new AbortController();
      const timer = setTimeout(() => timeout.abort(new TimeoutReason(`timed out after ${req.timeoutMs} ms`)), req.timeoutMs);
      const signal = AbortSignal.any([ctx.signal, timeout.signal]);
      await ctx.timeline(`HTTP ${req.method} ${redact(req.url)}`);
      try {
        return await send(req, ctx, signal, { allowList, maxBytes, maxRedirects, evaluateSel: options.evaluateSel }, params);
      } catch (e) {
        if (ctx.signal.aborted) return { status: 'PLATFORM_FAILED', message: `HTTP ${req.method} ${redact(req.url)} stopped` };
        if (timeout.signal.aborted) return { status: 'TIMED_OUT', message: `HTTP ${req.method} ${redact(req.url)} ${(timeout.signal.reason as Error).message}` };
        if (e instanceof ResponseTooLargeError) return { status: 'USER_FAILED', message: `HTTP ${req.method} ${redact(req.url)}: ${e.message}` };
        return { status: 'PLATFORM_FAILED', message: `HTTP ${req.method} ${redact(req.url)} failed: ${describeFetchError(e)}` };
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

async function send(
  first: HttpRequest,
  ctx: StepRuntimeContext,
  signal: AbortSignal,
  limits: { allowList: HostAllowList; maxBytes: number; maxRedirects: number; evaluateSel?: SelEvaluate },
  params: Readonly<Record<string, ParamValue>>,
): Promise<StepResult> {
  let req = first;
  for (let hop = 0; ; hop++) {
    const res = await fetch(req.url, { method: req.method, headers: req.headers, body: req.body, redirect: 'manual', signal });
    const location = res.headers.get('location');
    if (limits.maxRedirects > 0 && REDIRECTS.has(res.status) && location !== null) {
      await res.body?.cancel();
      if (hop >= limits.maxRedirects) return { status: 'USER_FAILED', message: `HTTP ${first.method} ${redact(first.url)}: more than ${limits.maxRedirects} redirects` };
      let next: URL;
      try {
        next = new URL(location, req.url);
      } catch {
        return { status: 'USER_FAILED', message: `HTTP ${req.method} ${redact(req.url)}: redirect to an invalid URL ${JSON.stringify(location)}` };
      }
      const refused = refusal(next, limits.allowList);
      if (refused) return { status: 'FATALLY_FAILED', message: `redirect from ${redact(req.url)} refused: ${refused}` };
      await ctx.timeline(`HTTP ${res.status} redirect to ${redact(next)}`);
      req = redirected(req, res.status, next);
      continue;
    }
    const headers: Record<string, string> = {};
    res.headers.forEach((value, name) => {
      Object.defineProperty(headers, name, { value, enumerable: true, writable: true, configurable: true });
    });
    const record = (raw: Buffer, bodyBytes: number, truncated: boolean): Promise<void> =>
      ctx.logs.recordHttpResponse({ method: req.method, url: redact(req.url), statusCode: res.status, statusText: res.statusText, headers, body: raw, bodyBytes, truncated });
    let raw: Buffer;
    try {
      raw = await readCapped(res, limits.maxBytes);
    } catch (e) {
      if (e instanceof ResponseTooLargeError) await record(e.head, e.bytes, true);
      throw e;
    }
    await record(raw, raw.length, false);
    const body = new TextDecoder('utf-8').decode(raw);
    const outputs: Record<string, ParamValue> = { status_code: BigInt(res.status), response_body: body, response_headers: headers };
    const what = `HTTP ${req.method} ${redact(req.url)} answered ${res.status}`;
    await ctx.timeline(what);
    const stateExpr = optionalText(params.state_expr, 'state_expr');
    if (stateExpr !== undefined && stateExpr.trim() !== '') {
      const verdict = await evaluateStateExpr(stateExpr, { ...params, ...outputs }, limits.evaluateSel);
      if (!verdict.ok) return { status: 'USER_FAILED', outputs, message: `${what}; ${verdict.message}` };
      return verdict.outcome === 'SUCCEEDED' ? { status: 'SUCCEEDED', outputs } : { status: verdict.outcome, outputs, message: `${what}; state_expr chose ${verdict.outcome}` };
    }
    if (res.status >= 200 && res.status < 300) return { status: 'SUCCEEDED', outputs };
    return { status: 'USER_FAILED', outputs, message: `${what} ${res.statusText}: ${snippet(body)}` };
  }
}

function readRequest(params: Readonly<Record<string, ParamValue>>, defaultTimeoutMs: number): HttpRequest {
  const http = params.http;
  if (http === undefined) throw new StepParamError('the map param `http` (url, method, headers, body) is required');
  if (!isParamMap(http)) throw new StepParamError('param `http` must be a map with url, method, headers, body');
  const urlText = requiredText(http.url, 'http.url');
  let url: URL;
  try {
    url = new URL(urlText);
  } catch {
    throw new StepParamError(`http.url is not a valid absolute URL: ${JSON.stringify(urlText)}`);
  }
  const method = (optionalText(http.method, 'http.method') ?? 'GET').trim().toUpperCase();
  if (!/^[A-Z]+$/.test(method)) throw new StepParamError(`http.method is not an HTTP method: ${JSON.stringify(method)}`);
  const headers = http.headers === undefined ? { ...DEFAULT_HEADERS } : optionalStringMap(http.headers, 'http.headers');
  for (const [k, v] of Object.entries(headers)) {
    if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) throw new StepParamError(`http.headers: ${JSON.stringify(k)} is not a header name`);
    if (/[\r\n\0]/.test(v)) throw new StepParamError(`http.headers.${k}: header values cannot contain line breaks`);
  }
  const body = optionalText(http.body, 'http.body');
  if (body !== undefined && (method === 'GET' || method === 'HEAD')) throw new StepParamError(`http.body cannot be sent with ${method}`);
  const timeoutMs = optionalDurationMs(http.timeout, 'http.timeout') ?? defaultTimeoutMs;
  return { url, method, headers, body, timeoutMs };
}

/** Why the URL may not be contacted, or undefined when it may. */
function refusal(url: URL, allowList: HostAllowList): string | undefined {
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return `only http and https URLs are allowed, not ${url.protocol.replace(/:$/, '')}`;
  if (!allowList.allows(url)) return `host ${url.host} is not in the Http step allow-list`;
  return undefined;
}

/** The request a redirect asks for: 303 (and 301/302 after POST) become GET without a body, as browsers do. */
function redirected(req: HttpRequest, status: number, next: URL): HttpRequest {
  const headers = { ...req.headers };
  const drop = (names: readonly string[]): void => {
    for (const k of Object.keys(headers)) if (names.includes(k.toLowerCase())) delete headers[k];
  };
  let { method, body } = req;
  if ((status === 303 && method !== 'HEAD') || ((status === 301 || status === 302) && method === 'POST')) {
    method = 'GET';
    body = undefined;
    drop(BODY_HEADERS);
  }
  // Credentials were meant for the first origin only.
  if (next.origin !== req.url.origin) drop(CREDENTIAL_HEADERS);
  return { ...req, url: next, method, body, headers };
}

/** The URL without user info or query (which may carry secrets), for messages and the timeline. */
function redact(url: URL): string {
  return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?…' : ''}`;
}

function snippet(body: string): string {
  const text = body.trim();
  if (text === '') return '(empty body)';
  return text.length > 500 ? `${text.slice(0, 500)}…` : text;
}

function describeFetchError(e: unknown): string {
  if (!(e instanceof Error)) return String(e);
  const cause = e.cause as { code?: unknown; message?: unknown } | undefined;
  if (cause && typeof cause === 'object') {
    const code = typeof cause.code === 'string' ? cause.code : undefined;
    const message = typeof cause.message === 'string' ? cause.message : undefined;
    if (code || message) return [code, message].filter(Boolean).join(': ');
  }
  return e.message;
}
