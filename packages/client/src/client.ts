import { randomUUID } from 'node:crypto';
import { ApiError, apiError, NotFoundError, RateLimitedError, ServerUnreachableError, WaitTimeoutError, type Problem } from './errors.js';
import { send, type Answer } from './http-send.js';
import { parseJsonExact, stringifyExact } from './json.js';
import { backoffMs, DEFAULT_RETRY, RETRY_STATUSES, retryAfterMs, sleep, type RetryPolicy } from './retry.js';
import {
  MAX_BATCH,
  TERMINAL_STATUSES,
  type InstanceLineage,
  type InstanceStatus,
  type Lineage,
  type ParamValue,
  type PublishResult,
  type SignalInput,
  type SignalInstance,
  type SignalInstancePage,
  type StartResult,
} from './types.js';

export const DEFAULT_URL = 'http://127.0.0.1:8080';

export interface ApiResponse {
  status: number;
  /** The body exactly as sent (64-bit integers intact). */
  text: string;
  /** The body parsed with exact integers (bigint beyond 2^53). */
  body: unknown;
}

export interface RequestOptions {
  body?: string;
  contentType?: string;
  query?: Record<string, string | number | undefined>;
  /** Retry connection errors, 5xx and 429 under the client's policy (only for idempotent requests). Default false. */
  retry?: boolean;
  /** The whole call's deadline when retrying; default the policy's. */
  deadlineMs?: number;
}

export interface BatonClientOptions {
  retry?: Partial<RetryPolicy>;
  /** First and longest wait between polls of the wait helpers. */
  pollInitialMs?: number;
  pollMaxMs?: number;
}

type Since = Date | number | undefined;

/**
 * A client for Baton's REST API. `request`/`get` make one attempt (the CLI's behaviour); the typed
 * calls retry connection errors, 5xx and 429 with backoff and jitter, honouring Retry-After, within
 * a total deadline, and publishes and starts carry a request id that stays the same across those
 * retries, so nothing is stored or started twice.
 */
export class BatonClient {
  readonly retryPolicy: RetryPolicy;
  private readonly pollInitialMs: number;
  private readonly pollMaxMs: number;

  constructor(
    readonly baseUrl: string,
    private readonly token: string | undefined,
    private readonly timeoutMs = 30_000,
    opts: BatonClientOptions = {},
  ) {
    this.retryPolicy = { ...DEFAULT_RETRY, attemptTimeoutMs: timeoutMs, ...opts.retry };
    this.pollInitialMs = opts.pollInitialMs ?? 200;
    this.pollMaxMs = opts.pollMaxMs ?? 5_000;
  }

  /** A client for BATON_URL (default http://127.0.0.1:8080) with BATON_TOKEN. */
  static fromEnv(env: Record<string, string | undefined> = process.env, opts: BatonClientOptions = {}): BatonClient {
    return new BatonClient(env.BATON_URL || DEFAULT_URL, env.BATON_TOKEN || undefined, 30_000, opts);
  }

  async request(method: string, path: string, opts: RequestOptions = {}): Promise<ApiResponse> {
    const url = new URL(path.replace(/^\//, ''), this.baseUrl.endsWith('/') ? this.baseUrl : `${this.baseUrl}/`);
    for (const [k, v] of Object.entries(opts.query ?? {})) if (v !== undefined) url.searchParams.set(k, String(v));
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    if (this.token) headers.authorization = `Bearer ${this.token}`;
    if (opts.body !== undefined) headers['content-type'] = opts.contentType ?? 'application/json';
    if (!opts.retry) return this.attempt(method, url, headers, opts.body, this.timeoutMs);

    const policy = this.retryPolicy;
    const end = Date.now() + (opts.deadlineMs ?? policy.deadlineMs);
    for (let attempt = 1; ; attempt++) {
      let error: ApiError | ServerUnreachableError;
      let hint: number | undefined;
      try {
        const res = await this.attempt(method, url, headers, opts.body, Math.max(50, Math.min(policy.attemptTimeoutMs, end - Date.now())));
        return Object.assign(res, { attempts: attempt });
      } catch (err) {
        if (err instanceof ServerUnreachableError) error = err;
        else if (err instanceof ApiError && RETRY_STATUSES.has(err.status)) {
          error = err;
          hint = err.retryAfterMs;
        } else throw err;
      }
      const wait = Math.max(backoffMs(policy, attempt), hint ?? 0);
      if ((policy.maxAttempts !== undefined && attempt >= policy.maxAttempts) || Date.now() + wait >= end) {
        error.attempts = attempt;
        error.message = `${error.message} (gave up after ${attempt} attempt${attempt === 1 ? '' : 's'})`;
        throw error;
      }
      await sleep(wait);
    }
  }

  get(path: string, query?: Record<string, string | number | undefined>): Promise<ApiResponse> {
    return this.request('GET', path, { query });
  }

  private async attempt(method: string, url: URL, headers: Record<string, string>, body: string | undefined, timeoutMs: number): Promise<ApiResponse> {
    // node:http, not fetch: on Node 20 fetch's first use loads undici, which costs a short CLI command more than the rest.
    let res: Answer;
    try {
      res = await send(url, { method, headers, body, timeoutMs });
    } catch (err) {
      const e = err as { code?: string; message?: string };
      throw new ServerUnreachableError(`cannot reach ${this.baseUrl}: ${e.code ?? e.message}`);
    }
    const text = res.text;
    let parsed: unknown;
    try {
      parsed = text ? parseJsonExact(text) : undefined;
    } catch {
      parsed = text;
    }
    if (res.status >= 400) {
      const problem = parsed && typeof parsed === 'object' ? (parsed as Problem) : undefined;
      const detail = problem?.detail ?? (text.slice(0, 200) || res.statusText);
      const err = apiError(res.status, problem, `${res.status} ${problem?.title ?? res.statusText}: ${detail}`);
      err.retryAfterMs = retryAfterMs(res.header('retry-after') ?? null);
      if (err instanceof RateLimitedError && err.retryAfterMs !== undefined) err.retryAfterSeconds = err.retryAfterMs / 1000;
      throw err;
    }
    return { status: res.status, text, body: parsed };
  }

  private async call<T>(method: string, path: string, opts: Omit<RequestOptions, 'retry'> = {}): Promise<{ body: T; attempts: number }> {
    const res = (await this.request(method, path, { ...opts, retry: true })) as ApiResponse & { attempts: number };
    return { body: res.body as T, attempts: res.attempts };
  }

  /**
   * Publishes one signal. Without `requestId` a random one is generated for this call and reused by
   * its retries; a deterministic one (`${table}/${date}`) makes re-runs of a job publish nothing new.
   */
  async publish(name: string, params: Record<string, ParamValue> = {}, opts: { payload?: unknown; requestId?: string; deadlineMs?: number } = {}): Promise<PublishResult> {
    const [result] = await this.publishBatch([{ name, params, payload: opts.payload, requestId: opts.requestId }], { deadlineMs: opts.deadlineMs, single: true });
    return result!;
  }

  /** Publishes signals, up to 1,000 per request (each stored atomically); one result per signal, in order. */
  async publishBatch(signals: readonly SignalInput[], opts: { deadlineMs?: number; single?: boolean } = {}): Promise<PublishResult[]> {
    // One random prefix per call and the signal's index: an id of its own for every signal, stable across retries.
    const prefix = randomUUID();
    const items = signals.map((s, i) => ({
      generated: s.requestId === undefined,
      body: { name: s.name, params: s.params ?? {}, request_id: s.requestId ?? (opts.single ? prefix : `${prefix}-${i}`), ...(s.payload === undefined ? {} : { payload: s.payload }) },
    }));
    const end = Date.now() + (opts.deadlineMs ?? this.retryPolicy.deadlineMs);
    const out: PublishResult[] = [];
    for (let start = 0; start < items.length; start += MAX_BATCH) {
      const chunk = items.slice(start, start + MAX_BATCH);
      const body = opts.single ? chunk[0]!.body : { signals: chunk.map((c) => c.body) };
      const res = await this.call<PublishResult | { signals: PublishResult[] }>('POST', '/api/v3/signals', { body: stringifyExact(body), deadlineMs: end - Date.now() });
      const answers = 'signals' in res.body ? res.body.signals : [res.body];
      // A generated request id is known to no one else: found stored after a retry, it was this call's earlier attempt.
      answers.forEach((a, i) => out.push(a.duplicate && chunk[i]!.generated && res.attempts > 1 ? { ...a, duplicate: false } : a));
    }
    return out;
  }

  /** Starts an instance; the same `requestId` never starts a second one. */
  async startWorkflow(
    workflowId: string,
    opts: { params?: Record<string, unknown>; requestId?: string; version?: string | number; initiator?: Record<string, unknown>; deadlineMs?: number } = {},
  ): Promise<StartResult> {
    const body = { request_id: opts.requestId ?? randomUUID(), ...(opts.params ? { run_params: opts.params } : {}), ...(opts.initiator ? { initiator: opts.initiator } : {}) };
    const path = `/api/v3/workflows/${enc(workflowId)}/versions/${enc(opts.version ?? 'active')}/actions/start`;
    const res = await this.call<StartResult>('POST', path, { body: stringifyExact(body), deadlineMs: opts.deadlineMs });
    return res.body.duplicate && opts.requestId === undefined && res.attempts > 1 ? { ...res.body, duplicate: false } : res.body;
  }

  async instanceStatus(workflowId: string, instanceId: number | bigint, run: string | number = 'latest', opts: { deadlineMs?: number } = {}): Promise<InstanceStatus> {
    return (await this.call<InstanceStatus>('GET', `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/runs/${enc(run)}`, opts)).body;
  }

  /** What a signal instance triggered and unblocked, transitively. */
  async lineage(name: string, seq: string | number | bigint = 'latest', depth = 3): Promise<Lineage> {
    return (await this.call<Lineage>('GET', `/api/v3/signals/${enc(name)}/instances/${enc(seq)}/lineage`, { query: { depth } })).body;
  }

  /** What triggered or unblocked a workflow instance. */
  async instanceLineage(workflowId: string, instanceId: number | bigint, depth = 3): Promise<InstanceLineage> {
    return (await this.call<InstanceLineage>('GET', `/api/v3/workflows/${enc(workflowId)}/instances/${enc(instanceId)}/lineage`, { query: { depth } })).body;
  }

  /** Instances of a signal, newest first, whose params equal `match`, created at or after `since`. */
  async signalInstances(name: string, opts: { match?: Record<string, ParamValue>; since?: Since; limit?: number; deadlineMs?: number } = {}): Promise<SignalInstance[]> {
    const query: Record<string, string | number | undefined> = { limit: opts.limit ?? 100, from: sinceMs(opts.since) };
    if (opts.match && Object.keys(opts.match).length > 0) query.params = stringifyExact(opts.match);
    return (await this.call<SignalInstancePage>('GET', `/api/v3/signals/${enc(name)}/instances`, { query, deadlineMs: opts.deadlineMs })).body.instances;
  }

  /** The newest matching instance, polling with backoff until one exists; WaitTimeoutError after `timeoutMs`. */
  async waitForSignal(name: string, opts: { match?: Record<string, ParamValue>; since?: Since; timeoutMs?: number } = {}): Promise<SignalInstance> {
    const timeoutMs = opts.timeoutMs ?? 3_600_000;
    let last: Error | undefined;
    const found = await this.poll(timeoutMs, async (remaining) => {
      try {
        return (await this.signalInstances(name, { match: opts.match, since: opts.since, limit: 1, deadlineMs: remaining }))[0];
      } catch (err) {
        if (!(err instanceof ServerUnreachableError) && !(err instanceof ApiError && RETRY_STATUSES.has(err.status))) throw err;
        last = err;
        return undefined;
      }
    });
    if (found) return found;
    throw new WaitTimeoutError(`no signal "${name}"${opts.match ? ` with params ${stringifyExact(opts.match)}` : ''} within ${timeoutMs} ms${last ? ` (last poll: ${last.message})` : ''}`);
  }

  /** Polls an instance's latest run until it ends; WaitTimeoutError after `timeoutMs`. Not found yet counts as not ended. */
  async waitForInstance(workflowId: string, instanceId: number | bigint, opts: { timeoutMs?: number } = {}): Promise<InstanceStatus> {
    const timeoutMs = opts.timeoutMs ?? 3_600_000;
    let last: Error | undefined;
    let status: InstanceStatus | undefined;
    const done = await this.poll(timeoutMs, async (remaining) => {
      try {
        status = await this.instanceStatus(workflowId, instanceId, 'latest', { deadlineMs: remaining });
        return TERMINAL_STATUSES.has(status.status) ? status : undefined;
      } catch (err) {
        if (!(err instanceof ServerUnreachableError) && !(err instanceof NotFoundError) && !(err instanceof ApiError && RETRY_STATUSES.has(err.status))) throw err;
        last = err;
        return undefined;
      }
    });
    if (done) return done;
    const now = status ? `still ${status.status}` : `last poll: ${last?.message}`;
    throw new WaitTimeoutError(`workflow "${workflowId}" instance ${instanceId} did not end within ${timeoutMs} ms (${now})`);
  }

  private async poll<T>(timeoutMs: number, once: (remainingMs: number) => Promise<T | undefined>): Promise<T | undefined> {
    const end = Date.now() + timeoutMs;
    for (let polls = 0; ; polls++) {
      const found = await once(Math.max(50, end - Date.now()));
      if (found !== undefined) return found;
      const remaining = end - Date.now();
      if (remaining <= 0) return undefined;
      const step = Math.min(this.pollMaxMs, this.pollInitialMs * 2 ** polls);
      await sleep(Math.min(remaining, step / 2 + Math.random() * (step / 2)));
    }
  }
}

export function enc(segment: string | number | bigint): string {
  return encodeURIComponent(String(segment));
}

function sinceMs(since: Since): number | undefined {
  return since instanceof Date ? since.getTime() : since;
}
