import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from '../../packages/server/test/helpers/baton-process.js';

/**
 * The signal and workflow cases of the bad-input catalogue where the raw bytes matter, sent over
 * a real TCP socket to a spawned `baton serve` (PGlite, auth off on loopback): invalid UTF-8 in
 * bodies and in the request line, NUL and control bytes in paths, deep nesting, oversized
 * bodies. Every answer is a 4xx and the process keeps serving.
 */
let baton: BatonProcess;
let port: number;
let dir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  dir = await tempDir('baton-hostile-');
  baton = spawnBaton({ PORT: '0', HOST: '127.0.0.1', BATON_DATA_DIR: path.join(dir.path, 'data'), LOG_LEVEL: 'info' });
  await waitUntilReady(baton);
  port = Number(new URL(await baton.ready).port);
}, 120_000);

afterAll(async () => {
  if (baton) await stop(baton);
  await dir?.remove();
});

interface RawResponse {
  status: number;
  headers: string;
  body: string;
}

/** Writes the bytes as they are and reads the whole answer (the request asks the server to close). */
function raw(bytes: Buffer, opts: { end?: boolean } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    // `end: false` keeps our side open, for a request whose declared body never comes: the server
    // must answer from the headers alone.
    const sock = net.connect(port, '127.0.0.1', () => (opts.end === false ? sock.write(bytes) : sock.end(bytes)));
    sock.setTimeout(20_000, () => sock.destroy(new Error('no answer within 20 s')));
    sock.on('data', (c: Buffer) => chunks.push(c));
    // A server that answers early (413 on the declared length) and closes makes the rest of the
    // write fail; the answer it sent is still read.
    sock.on('error', (err: NodeJS.ErrnoException) => {
      if (err.code !== 'EPIPE' && err.code !== 'ECONNRESET') reject(err);
    });
    sock.on('close', () => {
      const text = Buffer.concat(chunks).toString('utf8');
      const [head = '', body = ''] = text.split('\r\n\r\n', 2);
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1] ?? 0), headers: head, body });
    });
  });
}

function request(method: string, target: Buffer | string, body?: Buffer, contentType = 'application/json'): Buffer {
  const head = [`${method} `, target, ` HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n`];
  if (body) head.push(`Content-Type: ${contentType}\r\nContent-Length: ${body.length}\r\n`);
  return Buffer.concat([...head.map((p) => (typeof p === 'string' ? Buffer.from(p, 'latin1') : p)), Buffer.from('\r\n'), body ?? Buffer.alloc(0)]);
}

async function stillServing(): Promise<void> {
  expect(baton.child.exitCode).toBeNull();
  const res = await fetch(`http://127.0.0.1:${port}/readyz`);
  expect(res.status).toBe(200);
}

async function instancesOf(name: string): Promise<number> {
  const res = await fetch(`http://127.0.0.1:${port}/api/v3/signals/${encodeURIComponent(name)}/instances`);
  expect(res.status).toBe(200);
  return ((await res.json()) as { instances: unknown[] }).instances.length;
}

const bytes = (...parts: Array<string | number[]>): Buffer => Buffer.concat(parts.map((p) => (typeof p === 'string' ? Buffer.from(p) : Buffer.from(p))));

describe('raw bytes over TCP to baton serve', () => {
  it('refuses invalid UTF-8 in a signal body with a 400 problem and stores nothing', async () => {
    for (const body of [bytes('{"name":"raw/utf8', [0xff], '"}'), bytes('{"name":"raw/utf8","params":{"k":"', [0xed, 0xa0, 0x80], '"}}'), bytes('{"name":"raw/utf8', [0xc3])]) {
      const res = await raw(request('POST', '/api/v3/signals', body));
      expect(res.status, res.body).toBe(400);
      expect(res.headers).toMatch(/content-type: application\/problem\+json/i);
    }
    expect(await instancesOf('raw/utf8')).toBe(0);
    await stillServing();
  });

  it('refuses invalid UTF-8 in a workflow definition', async () => {
    const res = await raw(request('POST', '/api/v3/workflows', bytes('{"workflow":{"id":"raw', [0xfe], '","steps":[{"step":{"id":"s","type":"NoOp"}}]}}')));
    expect(res.status, res.body).toBe(400);
    expect(res.body).toContain('UTF-8');
    const lookup = await fetch(`http://127.0.0.1:${port}/api/v3/workflows/raw%EF%BF%BD/versions/latest`);
    expect(lookup.status).toBe(404);
    await stillServing();
  });

  it('answers 4xx for invalid UTF-8, NUL and control bytes in a signal name in the path', async () => {
    const targets = [
      bytes('/api/v3/signals/a', [0xff], 'b/instances'),
      bytes('/api/v3/signals/a%FFb/instances'),
      bytes('/api/v3/signals/a%00b/instances'),
      bytes('/api/v3/signals/a', [0x00], 'b/instances'),
      bytes('/api/v3/signals/a%1B%5B2J/instances/latest'),
      bytes('/api/v3/signals/%E0%A4%A/instances'),
      bytes('/api/v3/signals/..%2F..%2F..%2Fetc%2Fpasswd/instances/latest'),
    ];
    for (const target of targets) {
      const res = await raw(request('GET', target));
      expect(res.status, `${target.toString('latin1')}: ${res.body}`).toBeGreaterThanOrEqual(400);
      expect(res.status, `${target.toString('latin1')}: ${res.body}`).toBeLessThan(500);
    }
    await stillServing();
  });

  it('answers 400 for a body nested 10,000 deep and 413 for one over the limit, then keeps serving', async () => {
    const deep = await raw(request('POST', '/api/v3/signals', Buffer.from(`{"name":"raw/deep","payload":${'['.repeat(10_000)}${']'.repeat(10_000)}}`)));
    expect(deep.status, deep.body).toBe(400);
    const deepWf = await raw(request('POST', '/api/v3/workflows', Buffer.from(`{"workflow":${'{"a":'.repeat(10_000)}1${'}'.repeat(10_000)}}`)));
    expect(deepWf.status, deepWf.body).toBe(400);
    // Only the head is sent, declaring 9 MiB: the 413 must come from the declared length. (Sending
    // the whole body races the server's early close: a reset can discard the answer in flight.)
    const bigBody = Buffer.from(JSON.stringify({ name: 'raw/big', payload: 'x'.repeat(9 * 1024 * 1024) }));
    const bigHead = request('POST', '/api/v3/signals', bigBody).subarray(0, -bigBody.length);
    const big = await raw(bigHead, { end: false });
    expect(big.status, big.headers).toBe(413);
    expect(await instancesOf('raw/deep')).toBe(0);
    expect(await instancesOf('raw/big')).toBe(0);
    await stillServing();
  });

  it('answers a signal publish that declares more bytes than it sends with a 4xx, not a hang', async () => {
    const body = Buffer.from('{"name":"raw/short"}');
    const lying = Buffer.concat([Buffer.from(`POST /api/v3/signals HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`), body.subarray(0, 10)]);
    const res = await raw(lying);
    // The client half-closes: the server sees a truncated body and answers 400 or just closes.
    expect(res.status === 0 || (res.status >= 400 && res.status < 500), res.body).toBe(true);
    expect(await instancesOf('raw/short')).toBe(0);
    await stillServing();
  });
});
