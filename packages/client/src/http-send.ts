import type { IncomingMessage } from 'node:http';

export interface SentRequest {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
}

export interface Answer {
  status: number;
  statusText: string;
  /** The answer's header, by lower-case name (the first value of a repeated one). */
  header(name: string): string | undefined;
  text: string;
}

/**
 * One HTTP(S) exchange with node:http, the whole body read as UTF-8. Not `fetch`: on Node 20 its
 * first use loads and compiles undici, which costs a short CLI command more than everything else
 * it does. Rejects with the socket's error (its `code`, e.g. ECONNREFUSED) or ETIMEDOUT when no
 * complete answer came within `timeoutMs`.
 */
export async function send(url: URL, req: SentRequest): Promise<Answer> {
  const { request } = url.protocol === 'https:' ? await import('node:https') : await import('node:http');
  const headers = { ...req.headers };
  if (req.body !== undefined) headers['content-length'] = String(Buffer.byteLength(req.body));
  return new Promise<Answer>((resolve, reject) => {
    const out = request(url, { method: req.method, headers }, (res: IncomingMessage) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', fail);
      res.on('end', () => {
        clearTimeout(timer);
        const headers = res.headers;
        const header = (name: string): string | undefined => {
          const v = headers[name.toLowerCase()];
          return Array.isArray(v) ? v[0] : v;
        };
        resolve({ status: res.statusCode ?? 0, statusText: res.statusMessage ?? '', header, text: Buffer.concat(chunks).toString('utf8') });
      });
    });
    const timer = setTimeout(() => out.destroy(Object.assign(new Error(`no answer within ${req.timeoutMs} ms`), { code: 'ETIMEDOUT' })), req.timeoutMs);
    function fail(err: Error): void {
      clearTimeout(timer);
      reject(err);
    }
    out.on('error', fail);
    out.end(req.body);
  });
}
