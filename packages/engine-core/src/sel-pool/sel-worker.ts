/**
 * A SEL worker thread: evaluates programs the pool sends, one at a time, and answers with plain
 * data. `params.<name>(...)` calls go to the main thread, which answers from data it already
 * loaded (the worker blocks on a shared Int32 meanwhile, so the program stays synchronous).
 * The pool terminates the thread when an evaluation passes its hard deadline.
 */
import { parentPort, receiveMessageOnPort, workerData, type MessagePort } from 'node:worker_threads';
import { compile, SelError, type ExtensionFunction, type Value } from '@baton/sel';
import { selToPlain } from './plain.js';
import { isTimeLimitError, type CallReply, type EvalRequest, type WorkerInit, type WorkerMessage } from './protocol.js';

const init = workerData as WorkerInit;
const signal = new Int32Array(init.signal);
const replies: MessagePort = init.replies;
const port = parentPort!;

function post(msg: WorkerMessage): void {
  port.postMessage(msg);
}

function callHost(id: number, name: string, args: readonly unknown[]): unknown {
  Atomics.store(signal, 0, 0);
  post({ type: 'call', id, name, args: args.map((a) => selToPlain(a as Value)) });
  Atomics.wait(signal, 0, 0);
  const got = receiveMessageOnPort(replies);
  if (!got) throw new Error(`params.${name}: no answer from the host`);
  const reply = got.message as CallReply;
  if (!reply.ok) throw new Error(reply.message);
  return reply.value;
}

function evaluate(req: EvalRequest): void {
  const paramMethods: Record<string, ExtensionFunction> = {};
  for (const name of req.methods) paramMethods[name] = (args) => callHost(req.id, name, args);
  try {
    const program = compile(req.source, { maestro: req.maestro });
    const value = program.evaluateOrThrow(req.vars, { extensions: { paramMethods }, limits: { timeoutMs: req.timeoutMs } });
    post({ type: 'done', id: req.id, value: selToPlain(value) });
  } catch (e) {
    if (isTimeLimitError(e)) {
      post({ type: 'timeout', id: req.id });
      return;
    }
    const err = e instanceof SelError ? e : new SelError('runtime', (e as Error)?.message ?? String(e), 1, 1);
    post({ type: 'failed', id: req.id, error: { kind: err.kind, message: err.message, line: err.line, column: err.column } });
  }
}

port.on('message', (msg: EvalRequest) => {
  if (msg.type === 'eval') evaluate(msg);
});
post({ type: 'ready' });
