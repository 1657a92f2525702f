import type { Queryable } from '../db/db.js';
import type { JobSpec, Outbox } from '../queue/queue.js';
import { writeInstanceTimeline, writeStepTimeline, type InstanceCompletedEvent, type InstanceCompletionHook, type Named, type StepCompletedEvent, type StepCompletionHook } from './context.js';
import { errorText, isTransientError } from './transient.js';

/** A hook that threw an error that is not a passing platform problem. */
export interface HookFailure {
  name: string;
  message: string;
}

export function hookFailureText(kind: 'step completion' | 'instance completion', f: HookFailure): string {
  return `${kind} hook "${f.name}" failed: ${f.message}`;
}

/**
 * Runs hooks inside the caller's transaction under a savepoint, so a hook that fails (its output
 * expression throws, it writes a value the database refuses, ...) undoes only its own writes and
 * is reported, instead of rolling the state change back and having its job retried forever.
 * Jobs the hooks add are held back and handed to the real outbox only when every hook succeeded.
 * Passing platform problems (lost connection, deadlock, ...) are rethrown: the transaction is
 * retried with backoff by the queue, which is bounded. The engine's own (trusted) hooks run first,
 * without a savepoint, so an engine with no hooks from outside pays nothing for this.
 */
async function runHooks<E>(tx: Queryable, outbox: Outbox, hooks: readonly Named<(tx: Queryable, outbox: Outbox, e: E) => Promise<void>>[], event: E): Promise<HookFailure | undefined> {
  for (const { hook, trusted } of hooks) if (trusted) await hook(tx, outbox, event);
  const untrusted = hooks.filter((h) => !h.trusted);
  if (untrusted.length === 0) return undefined;
  const jobs: JobSpec[] = [];
  const after: (() => void)[] = [];
  const held: Outbox = {
    add: async (job) => void jobs.push(job),
    addMany: async (many) => void jobs.push(...many),
    afterCommit: (fn) => void after.push(fn),
  };
  await tx.query('SAVEPOINT baton_hooks');
  for (const { name, hook } of untrusted) {
    try {
      await hook(tx, held, event);
    } catch (e) {
      if (isTransientError(e)) throw e;
      await tx.query('ROLLBACK TO SAVEPOINT baton_hooks');
      await tx.query('RELEASE SAVEPOINT baton_hooks');
      return { name, message: errorText(e) };
    }
  }
  await tx.query('RELEASE SAVEPOINT baton_hooks');
  if (jobs.length > 0) await outbox.addMany(jobs);
  for (const fn of after) outbox.afterCommit(fn);
  return undefined;
}

export function runStepHooks(tx: Queryable, outbox: Outbox, hooks: readonly Named<StepCompletionHook>[], event: StepCompletedEvent): Promise<HookFailure | undefined> {
  return runHooks(tx, outbox, hooks, event);
}

export function runInstanceHooks(tx: Queryable, outbox: Outbox, hooks: readonly Named<InstanceCompletionHook>[], event: InstanceCompletedEvent): Promise<HookFailure | undefined> {
  return runHooks(tx, outbox, hooks, event);
}

/**
 * For endings that stand whatever the hooks do (stop, kill, skip, an instance that ended): a
 * failing step hook is added to the attempt's reason and timeline.
 */
export async function stepHooksNoting(tx: Queryable, outbox: Outbox, hooks: readonly Named<StepCompletionHook>[], event: StepCompletedEvent): Promise<void> {
  const failed = await runStepHooks(tx, outbox, hooks, event);
  if (!failed) return;
  const text = hookFailureText('step completion', failed);
  await tx.query(`UPDATE baton_step_attempts SET reason = CASE WHEN reason IS NULL THEN $2 ELSE reason || '; ' || $2 END WHERE id = $1`, [event.attemptPk, text]);
  await writeStepTimeline(tx, [{ attemptPk: event.attemptPk, from: event.status, to: event.status, message: text }]);
}

/** A failing instance hook is added to the instance's reason and timeline; the ending stands. */
export async function instanceHooksNoting(tx: Queryable, outbox: Outbox, hooks: readonly Named<InstanceCompletionHook>[], event: InstanceCompletedEvent): Promise<void> {
  const failed = await runInstanceHooks(tx, outbox, hooks, event);
  if (!failed) return;
  const text = hookFailureText('instance completion', failed);
  await tx.query(`UPDATE baton_workflow_instances SET reason = CASE WHEN reason IS NULL THEN $2 ELSE reason || '; ' || $2 END WHERE id = $1`, [event.instancePk, text]);
  await writeInstanceTimeline(tx, event.instancePk, event.status, event.status, text);
}
