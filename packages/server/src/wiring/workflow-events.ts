import { listWorkflowEvents, type Db, type WorkflowLifecycle } from '@baton/engine-core';

export interface FollowOptions {
  pollMs: number;
  onError: (err: unknown) => void;
}

/**
 * Calls `sync(workflowId)` for every workflow whose versions change: this process's changes as
 * they commit (through `lifecycle`), other processes' from the events table every `pollMs`.
 * Follows from the newest event on: what came before is what the caller loads at start-up.
 * Returns `stop`, which resolves once no poll or sync is running any more, so the database can
 * be closed right after it.
 */
export async function followWorkflowEvents(db: Db, lifecycle: WorkflowLifecycle, sync: (workflowId: string) => Promise<void>, opts: FollowOptions): Promise<() => Promise<void>> {
  let seq = 0;
  for (let page = await listWorkflowEvents(db, seq, 1000); page.length > 0; page = await listWorkflowEvents(db, seq, 1000)) seq = page.at(-1)!.seq;
  let stopped = false;
  const running = new Set<Promise<void>>();
  const track = (work: Promise<void>): Promise<void> => {
    running.add(work);
    void work.finally(() => running.delete(work));
    return work;
  };
  const unsubscribe = lifecycle.subscribe((event) => (stopped ? Promise.resolve() : track(sync(event.workflowId))));
  let polling: Promise<void> | undefined;
  const poll = async (): Promise<void> => {
    try {
      for (let page = await listWorkflowEvents(db, seq, 1000); page.length > 0 && !stopped; page = await listWorkflowEvents(db, seq, 1000)) {
        for (const id of new Set(page.map((e) => e.workflowId))) {
          if (stopped) return;
          await sync(id);
        }
        seq = page.at(-1)!.seq;
      }
    } catch (err) {
      opts.onError(err);
    }
  };
  const timer = setInterval(() => {
    polling ??= poll().finally(() => (polling = undefined));
  }, opts.pollMs);
  timer.unref();
  return async () => {
    stopped = true;
    clearInterval(timer);
    unsubscribe();
    await polling;
    await Promise.allSettled([...running]);
  };
}
