import type { BatonNode } from './cluster.js';
import { sleep } from './cluster.js';

export interface Answer {
  status: number;
  body: unknown;
  ms: number;
}

/** One REST call with a bearer token; network failures resolve as status 0. */
export async function call(baseUrl: string, token: string, method: string, path: string, body?: unknown, timeoutMs = 10_000): Promise<Answer> {
  const t0 = performance.now();
  try {
    const r = await fetch(`${baseUrl}${path}`, {
      method,
      headers: { authorization: `Bearer ${token}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
      body: body === undefined ? undefined : JSON.stringify(body),
      signal: AbortSignal.timeout(timeoutMs),
    });
    const text = await r.text();
    let parsed: unknown = text;
    try {
      parsed = text ? JSON.parse(text) : undefined;
    } catch {
      // Not JSON (an HTML error page, say): keep the text for the report.
    }
    return { status: r.status, body: parsed, ms: performance.now() - t0 };
  } catch (err) {
    return { status: 0, body: (err as Error).message, ms: performance.now() - t0 };
  }
}

/**
 * A client that retries a request until some Baton process answers 200, as a real caller of an
 * idempotent API would: each try goes to a random live process, so a retry after a crash lands
 * on another one. Gives up after `deadlineMs` and reports the last answer.
 */
export class RetryingClient {
  constructor(
    private readonly nodes: readonly BatonNode[],
    private readonly token: string,
    private readonly deadlineMs = 60_000,
  ) {}

  /** A live process other than `avoid` when there is one. */
  pick(avoid?: BatonNode): BatonNode {
    const live = this.nodes.filter((n) => n.alive);
    const pool = live.length > 1 && avoid ? live.filter((n) => n !== avoid) : live.length > 0 ? live : this.nodes;
    return pool[Math.floor(Math.random() * pool.length)]!;
  }

  async send(method: string, path: string, body: unknown, first?: BatonNode): Promise<{ ok: boolean; answer: Answer; tries: number; node: BatonNode }> {
    const deadline = Date.now() + this.deadlineMs;
    let node = first ?? this.pick();
    for (let tries = 1; ; tries++) {
      const answer = await call(node.url, this.token, method, path, body);
      if (answer.status === 200) return { ok: true, answer, tries, node };
      // A 4xx other than 429 is a wrong request: retrying cannot help.
      if (answer.status >= 400 && answer.status < 500 && answer.status !== 429) return { ok: false, answer, tries, node };
      if (Date.now() > deadline) return { ok: false, answer, tries, node };
      await sleep(150 + Math.random() * 250);
      node = this.pick(node);
    }
  }
}
