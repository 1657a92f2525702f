/** Counting the SQL a Db runs: the work of a benchmark's phase, whatever the machine's load. */
import type { Db, Queryable } from '@baton/engine-core';

/** Told of each statement (its SQL text) and each transaction, as they start. */
export interface DbObserver {
  statement(sql: string): void;
  transaction(): void;
}

/** Wraps a Db to count the statements and transactions the engine runs through it (and tell `observer` of each). */
export function counting(db: Db, observer?: DbObserver): { db: Db; counts: { statements: number; transactions: number } } {
  const counts = { statements: 0, transactions: 0 };
  const wrap = (q: Queryable): Queryable => ({
    query: (sql, params) => {
      counts.statements++;
      observer?.statement(sql);
      return q.query(sql, params);
    },
  });
  // A proxy, so what else the engine reads off the Db (the pg pool for LISTEN) is the real one.
  const counted = new Proxy(db, {
    get(target, prop) {
      if (prop === 'query') return wrap(target).query;
      if (prop === 'tx') {
        return (fn: (tx: Queryable) => Promise<unknown>) => {
          counts.transactions++;
          observer?.transaction();
          return target.tx((tx) => fn(wrap(tx)));
        };
      }
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === 'function' ? (v as (...a: unknown[]) => unknown).bind(target) : v;
    },
  });
  return { db: counted, counts };
}
