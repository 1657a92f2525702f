import { createServer, connect, type Server, type Socket } from 'node:net';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { sleep, spawnBaton, stop, tempDir, waitUntilReady, type BatonProcess } from './helpers/baton-process.js';

const running: BatonProcess[] = [];
const dirs: Array<{ remove(): Promise<void> }> = [];

function start(env: Record<string, string>): BatonProcess {
  const proc = spawnBaton({ PORT: '0', LOG_LEVEL: 'info', ...env });
  running.push(proc);
  return proc;
}

async function dataDir(): Promise<string> {
  const dir = await tempDir();
  dirs.push(dir);
  return dir.path;
}

afterAll(async () => {
  await Promise.all(running.map(stop));
  await Promise.all(dirs.map((d) => d.remove()));
});

describe('baton serve on PGlite', () => {
  it('becomes ready on a cold data folder and again on the warm one', async () => {
    const dir = await dataDir();
    const cold = start({ BATON_DATA_DIR: dir });
    const coldMs = await waitUntilReady(cold);
    cold.child.kill('SIGTERM');
    expect((await cold.exited).code).toBe(0);

    const warm = start({ BATON_DATA_DIR: dir });
    const warmMs = await waitUntilReady(warm);
    const url = await warm.ready;
    const res = await fetch(`${url}/readyz`);
    expect(await res.json()).toEqual({ status: 'ready' });
    // Each phase is said as it begins, the first line before any of them.
    // (Fastify's own "Server listening at" line aside; the service's lines go on to say what it stops.)
    const phases = (p: BatonProcess) => {
      const msgs = p.logs.map((l) => String(l.msg)).filter((m) => m !== 'migration applied' && !m.startsWith('Server listening at'));
      return msgs.slice(0, msgs.indexOf('server ready') + 1);
    };
    expect(phases(cold)).toEqual([
      'Baton starting',
      'server code loaded',
      'creating the embedded database (first start: this takes a few seconds)',
      'database opened',
      'migrating the database',
      'migrations up to date',
      'server listening; starting services',
      'services started',
      'server ready',
    ]);
    expect(cold.logs[0]).toMatchObject({ database: 'pglite', dataDir: dir, node: process.version });
    expect(phases(warm).slice(0, 5)).toEqual(['Baton starting', 'server code loaded', 'opening the embedded database', 'database opened', 'migrations up to date']);
    // The warm start finds every migration in place and applies none.
    expect(warm.logs.filter((l) => l.msg === 'migration applied')).toEqual([]);
    expect(cold.logs.filter((l) => l.msg === 'migration applied').length).toBeGreaterThan(0);
    warm.child.kill('SIGTERM');
    expect((await warm.exited).code).toBe(0);
    console.log(`spawn to /readyz ready on PGlite: cold ${Math.round(coldMs)} ms, warm ${Math.round(warmMs)} ms`);
  });

  it('logs JSON lines carrying the request id of each request', async () => {
    const proc = start({ BATON_DATA_DIR: await dataDir(), REQUEST_LOG_LEVEL: 'info' });
    const url = await proc.ready;
    const res = await fetch(`${url}/no-such-page`, { headers: { 'x-request-id': 'trace-abc.123' } });
    expect(res.status).toBe(404);
    expect(res.headers.get('x-request-id')).toBe('trace-abc.123');
    // The line is written once the answer went out, by a process the machine schedules when it can.
    const line = () => proc.logs.find((l) => l.msg === 'request completed' && l.reqId === 'trace-abc.123');
    for (const until = Date.now() + 5000; !line() && Date.now() < until; ) await sleep(20);
    const completed = line();
    expect(completed).toMatchObject({ level: 30, res: { statusCode: 404 } });
    proc.child.kill('SIGINT');
    expect((await proc.exited).code).toBe(0);
  });

  /** The server has read the request's head (logged at REQUEST_LOG_LEVEL info): a signal now finds it in flight. */
  const headRead = (proc: BatonProcess) => expect.poll(() => proc.logs.some((l) => l.msg === 'incoming request'), { timeout: 10_000 }).toBe(true);

  it('on SIGINT finishes a request still being uploaded, then exits 0', async () => {
    const proc = start({ BATON_DATA_DIR: await dataDir(), REQUEST_LOG_LEVEL: 'info' });
    const { port } = new URL(await proc.ready);
    const body = JSON.stringify({ payload: 'x'.repeat(200) });
    const socket = await openSocket(Number(port));
    const response = readAll(socket);
    socket.write(`POST /api/v3/anything HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: ${body.length}\r\n\r\n`);
    socket.write(body.slice(0, 50));
    await headRead(proc);

    proc.child.kill('SIGINT');
    await sleep(500);
    // The upload is unfinished, so the process must still be waiting for it.
    expect(proc.child.exitCode).toBeNull();
    socket.write(body.slice(50));

    const text = await response;
    expect(text).toMatch(/^HTTP\/1\.1 404 /);
    expect(text).toMatch(/content-type: application\/problem\+json/i);
    expect(text).toContain('"no route for POST /api/v3/anything"');
    expect(await proc.exited, JSON.stringify(proc.logs) + proc.stderr()).toEqual({ code: 0, signal: null });
    expect(proc.logs.map((l) => l.msg)).toEqual(expect.arrayContaining(['shutting down', 'server stopped']));
  });

  it('on a second signal stops at once without waiting for an unfinished request', async () => {
    const proc = start({ BATON_DATA_DIR: await dataDir(), REQUEST_LOG_LEVEL: 'info' });
    const { port } = new URL(await proc.ready);
    const socket = await openSocket(Number(port));
    socket.resume();
    socket.write('POST /api/v3/anything HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{');
    await headRead(proc);
    proc.child.kill('SIGTERM');
    await sleep(300);
    expect(proc.child.exitCode).toBeNull();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 1, signal: null });
    expect(proc.logs.map((l) => l.msg)).toContain('second signal: stopping without waiting for requests');
    socket.destroy();
  });

  it('on SIGTERM closes idle keep-alive connections instead of waiting for their timeout', async () => {
    const proc = start({ BATON_DATA_DIR: await dataDir() });
    const { port } = new URL(await proc.ready);
    const socket = await openSocket(Number(port));
    let closed = false;
    let answered = false;
    socket.on('close', () => (closed = true)).on('data', () => (answered = true)).resume();
    socket.write('GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: keep-alive\r\n\r\n');
    // Answered: the connection is now an idle keep-alive one.
    await expect.poll(() => answered, { timeout: 10_000 }).toBe(true);
    await sleep(50);
    const t0 = performance.now();
    proc.child.kill('SIGTERM');
    expect(await proc.exited).toEqual({ code: 0, signal: null });
    // Not the keep-alive timeout, and not the 25 s grace (which would exit 1); room for a loaded machine.
    expect(performance.now() - t0).toBeLessThan(20_000);
    await sleep(50);
    expect(closed).toBe(true);
  });

  it('refuses a data folder another Baton process holds', async () => {
    const dir = await dataDir();
    const first = start({ BATON_DATA_DIR: dir });
    await first.ready;
    const second = start({ BATON_DATA_DIR: dir });
    expect((await second.exited).code).not.toBe(0);
    expectOneLine(second.stderr(), 'BATON_DATA_DIR', /in use by another Baton process \(pid \d+\)/);
    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(0);
  });
});

describe('baton serve with bad configuration exits non-zero with one line naming the setting', () => {
  const quick: Array<[string, Record<string, string>, string, RegExp]> = [
    ['PORT not a number', { PORT: 'eighty' }, 'PORT', /must be a whole number from 0 to 65535, got "eighty"/],
    ['PORT out of range', { PORT: '70000' }, 'PORT', /got "70000"/],
    ['LOG_LEVEL unknown', { LOG_LEVEL: 'loud' }, 'LOG_LEVEL', /must be one of fatal, error/],
    ['DATABASE_URL unparseable', { DATABASE_URL: 'not a url at all' }, 'DATABASE_URL', /is not a valid URL/],
    ['DATABASE_URL wrong scheme', { DATABASE_URL: 'mysql://u@db/x' }, 'DATABASE_URL', /unsupported scheme "mysql:"/],
    ['HOST malformed', { HOST: 'local host' }, 'HOST', /must be a host name or IP address/],
  ];
  for (const [name, env, setting, message] of quick) {
    it(name, async () => {
      const proc = start({ BATON_DATA_DIR: await dataDir(), ...env });
      expect((await proc.exited).code).toBe(1);
      expectOneLine(proc.stderr(), setting, message);
    });
  }

  it('DATABASE_URL of a database that refuses connections, without leaking the password', async () => {
    const port = await closedPort();
    const proc = start({ DATABASE_URL: `postgres://baton:s3cret@127.0.0.1:${port}/baton` });
    expect((await proc.exited).code).toBe(1);
    expectOneLine(proc.stderr(), 'DATABASE_URL', /cannot connect to PostgreSQL at .*: connection refused/);
    expect(proc.stderr()).not.toContain('s3cret');
    expect(JSON.stringify(proc.logs)).not.toContain('s3cret');
  });

  it('DATABASE_URL of a server that never answers times out within seconds', async () => {
    const silent = createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    try {
      const t0 = performance.now();
      const proc = start({ DATABASE_URL: `postgres://baton@127.0.0.1:${portOf(silent)}/baton` });
      expect((await proc.exited).code).toBe(1);
      expect(performance.now() - t0).toBeLessThan(15_000);
      expectOneLine(proc.stderr(), 'DATABASE_URL', /no answer within 5000 ms/);
    } finally {
      silent.close();
    }
  });

  it('BATON_DATA_DIR that cannot be written', async () => {
    const file = path.join(await dataDir(), 'a-file');
    await writeFile(file, 'not a folder');
    const proc = start({ BATON_DATA_DIR: path.join(file, 'data') });
    expect((await proc.exited).code).toBe(1);
    expectOneLine(proc.stderr(), 'BATON_DATA_DIR', /cannot create data folder ".*a-file\/data": a part of the path is a file/);
  });

  it('HOST that is not an address of this machine', async () => {
    // 203.0.113.0/24 is reserved for documentation, so no machine running the tests owns it.
    const proc = start({ BATON_DATA_DIR: await dataDir(), HOST: '203.0.113.7', PORT: '18080' });
    expect((await proc.exited).code).toBe(1);
    expectOneLine(proc.stderr(), 'HOST', /203\.0\.113\.7 is not an address of this machine/);
  });

  it('PORT already in use', async () => {
    const holder = createServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    try {
      const port = portOf(holder);
      const proc = start({ BATON_DATA_DIR: await dataDir(), PORT: String(port) });
      expect((await proc.exited).code).toBe(1);
      expectOneLine(proc.stderr(), 'PORT', new RegExp(`port ${port} is already in use on 127\\.0\\.0\\.1`));
    } finally {
      holder.close();
    }
  });
});

function expectOneLine(stderr: string, setting: string, message: RegExp): void {
  const lines = stderr.trimEnd().split('\n');
  expect(lines, `stderr was:\n${stderr}`).toHaveLength(1);
  expect(lines[0]).toMatch(new RegExp(`^baton: ${setting}: `));
  expect(lines[0]).toMatch(message);
}

function portOf(server: Server): number {
  const addr = server.address();
  if (addr === null || typeof addr === 'string') throw new Error('server has no TCP address');
  return addr.port;
}

/** A port nothing listens on: bound once to learn a free number, then released. */
async function closedPort(): Promise<number> {
  const s = createServer();
  await new Promise<void>((resolve) => s.listen(0, '127.0.0.1', resolve));
  const port = portOf(s);
  await new Promise<void>((resolve) => s.close(() => resolve()));
  return port;
}

function openSocket(port: number): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1', () => resolve(socket));
    socket.on('error', reject);
  });
}

function readAll(socket: Socket): Promise<string> {
  return new Promise((resolve, reject) => {
    let text = '';
    socket.setEncoding('utf8').on('data', (d: string) => (text += d));
    socket.on('end', () => resolve(text));
    socket.on('error', reject);
  });
}
