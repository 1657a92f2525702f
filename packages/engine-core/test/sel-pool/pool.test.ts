import { afterAll, describe, expect, it } from 'vitest';
import { SelError } from '@baton/sel';
import { mayRunInline } from '../../src/sel-pool/inline.js';
import { SelWorkerPool } from '../../src/sel-pool/pool.js';
import { SelPoolFullError, SelWallClockError } from '../../src/sel-pool/protocol.js';
import type { ParamsHost } from '../../src/runtime/expressions.js';
import { selExpressionPort } from '../../src/runtime/sel-port.js';

const pool = new SelWorkerPool({ workers: 2, queueLimit: 4 });
afterAll(() => pool.close());

const host: ParamsHost = {
  get: () => undefined,
  containsKey: () => false,
  getFromStep: (step, name) => (step === 'job1' && name === 'out' ? 7n : undefined),
  getFromInstance: (name) => (name === 'owner' ? 'me' : undefined),
  extension: (name) => (name === 'echo' ? (...args: unknown[]) => ({ args, big: 9007199254740993n }) : undefined),
};
const port = selExpressionPort(() => ['echo'], { pool, timeoutMs: 300 });

/** Counts event-loop turns of a 10 ms interval while `work` runs: the loop must keep turning. */
async function ticksDuring<T>(work: Promise<T>): Promise<{ ticks: number; result: PromiseSettledResult<T>; ms: number }> {
  let ticks = 0;
  const t = setInterval(() => ticks++, 10);
  const t0 = performance.now();
  const [result] = await Promise.allSettled([work]);
  clearInterval(t);
  return { ticks, result, ms: performance.now() - t0 };
}

describe('which programs run inline', () => {
  it('small loop-free programs without patterns stay inline; loops, regexes and large programs go to a worker', () => {
    expect(mayRunInline('return x + 1;')).toBe(true);
    expect(mayRunInline("params.getFromStep('a', 'b') + 'x'")).toBe(true);
    expect(mayRunInline('int s = 0; for (int i = 0; i < 10; i++) { s += i; } return s;')).toBe(false);
    expect(mayRunInline("return 'aaa'.replaceAll('(a|a)*$', 'x');")).toBe(false);
    expect(mayRunInline(Array.from({ length: 40 }, () => 'x').join(' + '))).toBe(false);
  });
});

describe('SEL in the worker pool', () => {
  it('evaluates off the event loop with the same values: LONG, lists, maps, params.* answered by the main thread', async () => {
    const c = port.compile("int s = 0; for (int i = 0; i < 10; i = i + 1) { s = s + i; } Map m = new HashMap(); m.put('s', s); long[] l = new long[]{1, 2}; m.put('l', l); m.put('step', params.getFromStep('job1', 'out')); m.put('who', params.getFromInstance('owner')); m.put('echo', params.echo('a', 'b')); return m;");
    const v = await c.evaluate({}, host);
    expect(v).toEqual({ s: 45n, l: [1n, 2n], step: 7n, who: 'me', echo: { args: ['a', 'b'], big: 9007199254740993n } });
  });

  it('reports SEL errors with their kind', async () => {
    const c = port.compile('int s = 0; for (int i = 0; i < 3; i = i + 1) { s = s + i; } return s / 0;');
    await expect(c.evaluate({}, host)).rejects.toBeInstanceOf(SelError);
  });

  it('a 100M-step loop ends at the wall-clock limit while the event loop keeps turning', async () => {
    const c = port.compile('long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 25000; j = j + 1) { s = s + 1; } } return s;');
    const r = await ticksDuring(c.evaluate({}, host));
    expect(r.result.status).toBe('rejected');
    expect((r.result as PromiseRejectedResult).reason).toBeInstanceOf(SelWallClockError);
    expect(String((r.result as PromiseRejectedResult).reason.message)).toBe('evaluation exceeded the wall-clock limit of 300 ms');
    expect(r.ticks).toBeGreaterThanOrEqual(3); // ~30 on an idle machine, fewer on a loaded one; a blocked event loop gives at most 1
  });

  it('a regex search that scans for long (quadratic find-all, even on the linear-time engine) is cut off at the deadline, and the pool still answers', async () => {
    const c = port.compile("String s = 'a'; for (int i = 0; i < 17; i = i + 1) { s = s + s; } return s.replaceAll('a*b|a', 'x');");
    const r = await ticksDuring(c.evaluate({}, host));
    expect((r.result as PromiseRejectedResult).reason).toBeInstanceOf(SelWallClockError);
    expect(r.ms).toBeLessThan(5000); // the 300 ms deadline, with room for a loaded machine; unbounded, the search takes far longer
    expect(r.ticks).toBeGreaterThanOrEqual(3); // ~30 on an idle machine, fewer on a loaded one; a blocked event loop gives at most 1
    // The pool still answers afterwards.
    expect(await port.compile('int s = 0; for (int i = 0; i < 3; i = i + 1) { s = s + 2; } return s;').evaluate({}, host)).toBe(6n);
  });

  it('inline programs keep the wall-clock limit too', async () => {
    const inline = selExpressionPort(() => [], { timeoutMs: 50 });
    await expect(inline.compile('long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 25000; j = j + 1) { s = s + 1; } } return s;').evaluate({}, host)).rejects.toBeInstanceOf(SelWallClockError);
  });

  it('a full queue refuses more evaluations instead of holding them all', async () => {
    const small = new SelWorkerPool({ workers: 1, queueLimit: 1 });
    try {
      const slow = selExpressionPort(() => [], { pool: small, timeoutMs: 400 }).compile('long s = 0; for (int i = 0; i < 25000; i = i + 1) { for (int j = 0; j < 25000; j = j + 1) { s = s + 1; } } return s;');
      // Once the worker is up: one evaluation runs, one waits, the third finds the queue full.
      await slow.evaluate({}, host).catch(() => undefined);
      const runs = [slow.evaluate({}, host), slow.evaluate({}, host), slow.evaluate({}, host)];
      const settled = await Promise.allSettled(runs);
      const reasons = settled.map((s) => (s.status === 'rejected' ? (s.reason as Error).constructor : undefined));
      // Usually one is refused; more when the worker was replaced meanwhile (its replacement starting).
      expect(reasons.filter((r) => r === SelPoolFullError).length).toBeGreaterThanOrEqual(1);
      expect(reasons.every((r) => r === SelPoolFullError || r === SelWallClockError)).toBe(true);
      expect(small.stats().queued).toBe(0);
    } finally {
      await small.close();
    }
  });
});
