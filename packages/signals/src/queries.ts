import type { Queryable } from '@baton/engine-core';
import { SignalNotFoundError, SignalValidationError } from './errors.js';
import { parseJson, stringifyJson } from './json.js';
import type { SignalInstance, SignalParams } from './model.js';
import { nameProblem, validateParams } from './validate.js';

const INT64_MAX = 2n ** 63n - 1n;

/** The columns rowToInstance reads, optionally qualified by a table alias. */
export function instanceColumns(a = ''): string {
  const p = a ? `${a}.` : '';
  return `${p}name, ${p}seq_id, ${p}instance_id, ${p}request_id, ${p}params::text AS params, ${p}payload::text AS payload,
  ${p}request_time, ${p}source::text AS source, (extract(epoch FROM ${p}create_time) * 1000)::bigint AS create_ms`;
}
const INSTANCE_COLUMNS = instanceColumns();

export interface InstanceRow {
  name: string;
  seq_id: number | bigint;
  instance_id: string;
  request_id: string | null;
  params: string;
  payload: string | null;
  request_time: number | bigint | null;
  source: string | null;
  create_ms: number | bigint;
}

export function rowToInstance(r: InstanceRow): SignalInstance {
  const out: SignalInstance = {
    name: r.name,
    seq_id: r.seq_id,
    instance_id: r.instance_id,
    params: parseJson(r.params) as SignalParams,
    payload: r.payload === null ? null : parseJson(r.payload),
    create_time: Number(r.create_ms),
  };
  if (r.request_id !== null) out.request_id = r.request_id;
  if (r.request_time !== null) out.request_time = r.request_time;
  if (r.source !== null) out.source = parseJson(r.source);
  return out;
}

function checkName(name: string): void {
  const problem = nameProblem(name);
  if (problem) throw new SignalValidationError([{ field: 'name', message: problem }]);
}

/** One instance by seq id or the latest one; throws SignalNotFoundError when there is none. */
export async function getInstance(q: Queryable, name: string, seq: number | bigint | 'latest'): Promise<SignalInstance> {
  checkName(name);
  if (seq !== 'latest' && (BigInt(seq) < 1n || BigInt(seq) > INT64_MAX)) throw new SignalNotFoundError(`signal ${name} has no instance with seq_id ${seq}`);
  const res =
    seq === 'latest'
      ? await q.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM signal_instances WHERE name = $1 ORDER BY seq_id DESC LIMIT 1`, [name])
      : await q.query<InstanceRow>(`SELECT ${INSTANCE_COLUMNS} FROM signal_instances WHERE name = $1 AND seq_id = $2`, [name, seq.toString()]);
  const row = res.rows[0];
  if (!row) throw new SignalNotFoundError(seq === 'latest' ? `signal ${name} has no instances` : `signal ${name} has no instance with seq_id ${seq}`);
  return rowToInstance(row);
}

export interface ListQuery {
  /** Equality filters on params. */
  params?: SignalParams;
  /** Inclusive lower and exclusive upper bound on create_time. */
  from?: Date;
  to?: Date;
  /** Page size, 1..1000 (default 100). */
  limit?: number;
  /** The `next_cursor` of the previous page. */
  cursor?: string;
}

export interface InstancePage {
  instances: SignalInstance[];
  /** Present when more instances may follow; pass it back as `cursor`. */
  next_cursor?: string;
}

/** Instances of a name, newest first, filtered by param equality and time, cursor-paginated. */
export async function listInstances(q: Queryable, name: string, query: ListQuery = {}): Promise<InstancePage> {
  checkName(name);
  const errors: { field: string; message: string }[] = [];
  const filter = validateParams(query.params ?? {}, 'params', errors);
  const limit = query.limit ?? 100;
  if (!Number.isInteger(limit) || limit < 1 || limit > 1000) errors.push({ field: 'limit', message: 'must be an integer from 1 to 1000' });
  if (query.cursor !== undefined && (!/^\d{1,19}$/.test(query.cursor) || BigInt(query.cursor) > INT64_MAX)) errors.push({ field: 'cursor', message: 'is not a cursor returned by this API' });
  for (const f of ['from', 'to'] as const) {
    const d = query[f];
    if (d !== undefined && Number.isNaN(d.getTime())) errors.push({ field: f, message: 'must be a valid time' });
  }
  if (errors.length > 0) throw new SignalValidationError(errors);

  const where = ['name = $1'];
  const args: unknown[] = [name];
  if (Object.keys(filter).length > 0) {
    args.push(stringifyJson(filter));
    where.push(`params @> $${args.length}::jsonb`);
  }
  if (query.from) {
    args.push(query.from.toISOString());
    where.push(`create_time >= $${args.length}::timestamptz`);
  }
  if (query.to) {
    args.push(query.to.toISOString());
    where.push(`create_time < $${args.length}::timestamptz`);
  }
  if (query.cursor !== undefined) {
    args.push(query.cursor);
    where.push(`seq_id < $${args.length}::bigint`);
  }
  args.push(limit + 1);
  const res = await q.query<InstanceRow>(
    `SELECT ${INSTANCE_COLUMNS} FROM signal_instances WHERE ${where.join(' AND ')} ORDER BY seq_id DESC LIMIT $${args.length}`,
    args,
  );
  const rows = res.rows.slice(0, limit);
  const page: InstancePage = { instances: rows.map(rowToInstance) };
  if (res.rows.length > limit) page.next_cursor = rows[rows.length - 1]!.seq_id.toString();
  return page;
}
