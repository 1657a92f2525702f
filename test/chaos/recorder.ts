import http from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import type { Execution } from './executions.js';
import { socketOwner } from './socket-owner.js';

/** A process that may call the recorder: its name, and its pid while it runs. */
export interface Caller {
  name: string;
  pid: number | undefined;
}

export interface RecorderOptions {
  /** Each answer is held this long (ms), so a kill or a second caller can land inside it. */
  holdMs: () => number;
  /** The processes whose sockets name the executor (looked up once per connection). */
  callers: () => readonly Caller[];
}

const PATH = /^\/exec\/([^/]+)\/(\d+)\/(\d+)\/([^/]+)\/(\d+)$/;

/**
 * The far end of the chaos workflows' Http step: each request is one execution of a step, from
 * its arrival to the answer — or to the connection closing first, as when the calling process is
 * SIGKILLed or aborts the attempt. Only the harness's own clock is used, so the intervals of
 * different Baton processes compare exactly.
 */
export class ExecutionRecorder {
  private readonly server: http.Server;
  private readonly log: Execution[] = [];
  private readonly executors = new WeakMap<Socket, string>();
  /** When each held answer is due. */
  private readonly due = new WeakMap<Execution, number>();
  private port = 0;

  private constructor(private readonly opts: RecorderOptions) {
    this.server = http.createServer((req, res) => this.handle(req, res));
    this.server.on('connection', (socket) => this.executors.set(socket, this.identify(socket)));
  }

  static async start(opts: RecorderOptions): Promise<ExecutionRecorder> {
    const r = new ExecutionRecorder(opts);
    await new Promise<void>((resolve, reject) => {
      r.server.once('error', reject);
      r.server.listen(0, '127.0.0.1', () => resolve());
    });
    r.port = (r.server.address() as AddressInfo).port;
    return r;
  }

  /** For BATON_HTTP_ALLOWED_HOSTS. */
  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  /** The step's URL: Baton fills the reserved params in per attempt. */
  get urlTemplate(): string {
    return `http://${this.host}/exec/\${workflow_id}/\${workflow_instance_id}/\${workflow_run_id}/\${step_id}/\${step_attempt_id}`;
  }

  /** A copy of every execution so far (open ones have endMs null). */
  executions(): Execution[] {
    return this.log.map((e) => ({ ...e }));
  }

  /** An execution `caller` (by name) has in flight now whose answer is due in `leftMs` or later. */
  inFlight(caller: string, leftMs = 0): Execution | undefined {
    const t = now();
    return this.log.findLast((e) => e.endMs === null && e.executor.startsWith(`${caller} pid `) && (this.due.get(e) ?? Infinity) - t >= leftMs);
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private identify(socket: Socket): string {
    // Unnamed when no caller holds the socket any more: a process SIGKILLed before the harness's
    // event loop got round to accepting its connection.
    const fallback = `unidentified (connection :${socket.remotePort ?? '?'})`;
    const callers = this.opts.callers().filter((c): c is { name: string; pid: number } => c.pid !== undefined);
    if (socket.remotePort === undefined) return fallback;
    const pid = socketOwner(socket.remotePort, this.port, callers.map((c) => c.pid));
    const caller = callers.find((c) => c.pid === pid);
    return caller ? `${caller.name} pid ${caller.pid}` : fallback;
  }

  private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
    const startMs = now();
    const m = PATH.exec(req.url ?? '');
    if (!m) {
      res.writeHead(404, { 'content-type': 'application/json' }).end(JSON.stringify({ error: `not an execution path: ${req.url}` }));
      return;
    }
    const e: Execution = {
      workflowId: decodeURIComponent(m[1]!),
      instanceId: Number(m[2]),
      runId: Number(m[3]),
      stepId: decodeURIComponent(m[4]!),
      attemptId: Number(m[5]),
      executor: this.executors.get(req.socket) ?? `unidentified (connection :${req.socket.remotePort ?? '?'})`,
      startMs,
      endMs: null,
      dropped: false,
    };
    this.log.push(e);
    req.resume();
    const holdMs = this.opts.holdMs();
    this.due.set(e, startMs + holdMs);
    const timer = setTimeout(() => {
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ recorded: true }));
      // After the answer went out: an overlap is judged against the latest possible end.
      e.endMs = now();
    }, holdMs);
    res.once('close', () => {
      if (res.writableEnded) return;
      clearTimeout(timer);
      e.endMs = now();
      e.dropped = true;
    });
  }
}

/** Epoch ms with sub-millisecond resolution, from the monotonic clock. */
function now(): number {
  return performance.timeOrigin + performance.now();
}
