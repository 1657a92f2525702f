/** A problem document (RFC 9457), the body of every error answer. */
export interface Problem {
  type?: string;
  title?: string;
  status?: number;
  detail?: string;
  instance?: string;
  errors?: Array<{ field: string; message: string }>;
}

/** The server could not be reached at all (refused, reset, DNS, timeout), also after retries. */
export class ServerUnreachableError extends Error {
  override readonly name: string = 'ServerUnreachableError';
  /** Attempts made (1 when the call does not retry). */
  attempts = 1;
}

/**
 * The server answered with an error status; `problem` is its problem document when it sent one.
 * Subclasses name the failure class; a 5xx or 429 is this class itself (or RateLimitedError)
 * once the retries ran out.
 */
export class ApiError extends Error {
  override readonly name: string = 'ApiError';
  /** Attempts made (1 when the call does not retry). */
  attempts = 1;
  /** The answer's Retry-After, in milliseconds. */
  retryAfterMs: number | undefined;
  constructor(
    readonly status: number,
    readonly problem: Problem | undefined,
    message: string,
  ) {
    super(message);
  }
}

/** 400: `problem.errors` names each field at fault. */
export class ValidationError extends ApiError {
  override readonly name: string = 'ValidationError';
  get errors(): Array<{ field: string; message: string }> {
    return this.problem?.errors ?? [];
  }
}

/** 401 (missing or unknown token) or 403 (the token's role may not call the route). */
export class AuthError extends ApiError {
  override readonly name: string = 'AuthError';
}

/** 404. */
export class NotFoundError extends ApiError {
  override readonly name: string = 'NotFoundError';
}

/** 429 until the deadline; `retryAfterSeconds` is the server's last Retry-After. */
export class RateLimitedError extends ApiError {
  override readonly name: string = 'RateLimitedError';
  retryAfterSeconds: number | undefined;
}

/** A wait helper's timeout passed first. */
export class WaitTimeoutError extends Error {
  override readonly name: string = 'WaitTimeoutError';
}

export function apiError(status: number, problem: Problem | undefined, message: string): ApiError {
  if (status === 400 || status === 422) return new ValidationError(status, problem, message);
  if (status === 401 || status === 403) return new AuthError(status, problem, message);
  if (status === 404) return new NotFoundError(status, problem, message);
  if (status === 429) return new RateLimitedError(status, problem, message);
  return new ApiError(status, problem, message);
}
