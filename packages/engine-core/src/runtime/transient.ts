/**
 * Which errors are passing platform problems, worth retrying the same work later: the database
 * connection failed or was shut down, a deadlock or serialization conflict, a lock or resource
 * shortage, a concurrent insert of the same key by another process. Everything else (an
 * expression that throws, a value the database refuses, a bug) fails the same way every time,
 * so retrying it only keeps a step or an instance from ever ending.
 */
const TRANSIENT_SQLSTATE_CLASSES = ['08', '40', '53', '57', '58'];
const TRANSIENT_SQLSTATES = new Set(['55P03', '55006', '23505']);
const TRANSIENT_NODE_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
const TRANSIENT_MESSAGES = [/connection terminated/i, /connection error/i, /timeout exceeded when trying to connect/i, /Client was closed/i, /PGlite is closed/i];

export function isTransientError(e: unknown): boolean {
  if (e === null || typeof e !== 'object') return false;
  const code = (e as { code?: unknown }).code;
  if (typeof code === 'string') {
    if (/^[0-9A-Z]{5}$/.test(code) && (TRANSIENT_SQLSTATE_CLASSES.includes(code.slice(0, 2)) || TRANSIENT_SQLSTATES.has(code))) return true;
    if (TRANSIENT_NODE_CODES.has(code)) return true;
  }
  const message = (e as { message?: unknown }).message;
  if (typeof message === 'string' && TRANSIENT_MESSAGES.some((re) => re.test(message))) return true;
  const cause = (e as { cause?: unknown }).cause;
  return cause !== undefined && cause !== e && isTransientError(cause);
}

export function errorText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}
