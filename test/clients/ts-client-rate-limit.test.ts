import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BatonClient, RateLimitedError } from '@baton/client';
import { allInstances, startServer, TOKENS, type Server } from './servers.js';

/**
 * @baton/client and a real server whose publish rate limit is 3 requests per window of WINDOW_S
 * seconds: long enough that Retry-After outlasts the short client's 5 s deadline, short enough that
 * the patient client does not wait out a whole minute.
 */
const WINDOW_S = 15;

describe('@baton/client and the publish rate limit', () => {
  let server: Server;
  beforeAll(async () => {
    server = await startServer('pglite', { BATON_PUBLISH_RATE_LIMIT: '3', BATON_PUBLISH_RATE_WINDOW: String(WINDOW_S) });
  }, 180_000);
  afterAll(async () => server?.close());

  it('429: fails at once when Retry-After is beyond the deadline, waits it out otherwise', async () => {
    const name = 'ts-limited/x';
    const short = new BatonClient(server.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 5000 } });
    for (let i = 0; i < 3; i++) await short.publish(name, { i });
    const t0 = Date.now();
    const err = await short.publish(name, { i: 3 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RateLimitedError);
    expect(Date.now() - t0).toBeLessThan(4000); // at once: under the 5 s deadline it would otherwise wait out
    const wait = (err as RateLimitedError).retryAfterSeconds!;
    expect(wait).toBeGreaterThanOrEqual(1);
    expect(wait).toBeLessThanOrEqual(WINDOW_S);

    const patient = new BatonClient(server.url, TOKENS.publisher, 30_000, { retry: { deadlineMs: 90_000 } });
    const t1 = Date.now();
    expect((await patient.publish(name, { i: 3 })).duplicate).toBe(false);
    expect(Date.now() - t1).toBeGreaterThanOrEqual((wait - 3) * 1000);
    expect((await allInstances(server, name)).map((s) => s.params.i).sort()).toEqual([0, 1, 2, 3]);
  }, 120_000);
});
