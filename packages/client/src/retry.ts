/**
 * How a call retries connection errors, 5xx and 429: exponential backoff from `backoffInitialMs`
 * doubling up to `backoffMaxMs`, each wait uniform between half and all of the step (jitter), at
 * least the server's Retry-After, all within `deadlineMs` for the whole call. The same rules as
 * the Python client's RetryPolicy.
 */
export interface RetryPolicy {
  deadlineMs: number;
  attemptTimeoutMs: number;
  backoffInitialMs: number;
  backoffMaxMs: number;
  /** undefined: unlimited within the deadline */
  maxAttempts?: number;
}

export const DEFAULT_RETRY: RetryPolicy = { deadlineMs: 60_000, attemptTimeoutMs: 30_000, backoffInitialMs: 100, backoffMaxMs: 5_000 };

/** Statuses worth trying again: overloaded, restarting, or behind a failing gateway. */
export const RETRY_STATUSES: ReadonlySet<number> = new Set([429, 500, 502, 503, 504]);

export function backoffMs(policy: RetryPolicy, attempt: number, random: () => number = Math.random): number {
  const step = Math.min(policy.backoffMaxMs, policy.backoffInitialMs * 2 ** (attempt - 1));
  return step / 2 + random() * (step / 2);
}

/** Milliseconds from a Retry-After header (delta seconds or an HTTP date), or undefined. */
export function retryAfterMs(value: string | null): number | undefined {
  if (value === null) return undefined;
  const text = value.trim();
  if (/^\d+(\.\d+)?$/.test(text)) return Number(text) * 1000;
  const at = Date.parse(text);
  return Number.isNaN(at) ? undefined : Math.max(0, at - Date.now());
}

export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
