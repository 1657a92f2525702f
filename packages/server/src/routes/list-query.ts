import type { FastifyRequest } from 'fastify';
import { DateTime } from 'luxon';
import { INITIATOR_KINDS, INSTANCE_STATUSES, LIST_LIMIT_DEFAULT, LIST_LIMIT_MAX, ListFilterError, type InitiatorKind, type InstanceListQuery, type InstanceStatus } from '@baton/engine-core';
import { badRequest } from './workflow-http.js';

/** Query-string schemas and parsing shared by the list routes (`GET /api/v3/instances`, ...). */

const commaList = (names: readonly string[]) => `^(${names.join('|')})(,(${names.join('|')}))*$`;
const repeatable = (item: object, description: string) => ({ type: 'array', items: item, maxItems: 50, description }) as const;

export const statusFilter = repeatable(
  { type: 'string', pattern: commaList(INSTANCE_STATUSES), maxLength: 400 },
  `latest run's status, one of ${INSTANCE_STATUSES.join(', ')}; several by repeating the parameter or separating them with commas`,
);
const initiatorNames = [...INITIATOR_KINDS, ...INITIATOR_KINDS.map((k) => k.toLowerCase())];
export const initiatorFilter = repeatable(
  { type: 'string', pattern: commaList(initiatorNames), maxLength: 200 },
  'who started it: manual, signal, time or subworkflow (initiator.type); several by repeating or with commas',
);
const timeFilter = (what: string) =>
  ({ type: 'string', minLength: 1, maxLength: 64, description: `${what}: an ISO-8601 instant (UTC when it has no offset) or a time ago such as 90s, 15m, 1h, 2d, 1w` }) as const;
export const limitParam = { type: 'integer', minimum: 1, maximum: LIST_LIMIT_MAX, description: `page size, 1 to ${LIST_LIMIT_MAX} (default ${LIST_LIMIT_DEFAULT}); more is a 400` } as const;
export const cursorParam = { type: 'string', minLength: 1, maxLength: 2000, description: '`next_cursor` of the previous page, unchanged' } as const;

/** Filters of every instance list; `GET /api/v3/instances` adds `workflow`. */
export const instanceFilterProperties = {
  status: statusFilter,
  initiator: initiatorFilter,
  since: timeFilter('created at or after'),
  until: timeFilter('created before'),
  tag: { type: 'string', minLength: 1, maxLength: 256, description: "a tag name of the workflow (its properties or the instance's version)" },
  limit: limitParam,
  cursor: cursorParam,
} as const;

export interface InstanceFilterQuerystring {
  status?: string[];
  initiator?: string[];
  since?: string;
  until?: string;
  tag?: string;
  limit?: number;
  cursor?: string;
}

/** Comma-separated or repeated values as one list, without repeats. */
export function listValues(values: readonly string[] | undefined): string[] {
  return [...new Set((values ?? []).flatMap((v) => v.split(',')).filter((v) => v !== ''))];
}

const AGO = /^(\d{1,9})(s|m|h|d|w)$/;
const UNIT_MS = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 } as const;

/** An ISO-8601 instant (UTC when it has no offset) or a time ago (`15m`, `1h`, `2d`) before `now`. */
export function parseInstant(text: string, field: string, now = Date.now()): Date {
  const ago = AGO.exec(text.trim());
  const dt = ago ? undefined : DateTime.fromISO(text.trim(), { zone: 'utc' });
  if (!ago && (!/^\d{4}-\d{2}/.test(text.trim()) || !dt!.isValid)) throw badRequest(field, `"${text}" is neither an ISO-8601 instant (2026-05-01T10:00:00Z) nor a time ago (90s, 15m, 1h, 2d, 1w)`);
  const at = ago ? new Date(now - Number(ago[1]) * UNIT_MS[ago[2] as keyof typeof UNIT_MS]) : dt!.toJSDate();
  // PostgreSQL's timestamps run from 4713 BC; JavaScript's from 271821 BC: keep to years 1..9999.
  if (Number.isNaN(at.getTime()) || at.getUTCFullYear() < 1 || at.getUTCFullYear() > 9999) throw badRequest(field, `"${text}" is outside the years 1 to 9999`);
  return at;
}

/** The engine's list query for the instance filters of a request. */
export function instanceListFilters(q: Omit<InstanceFilterQuerystring, 'cursor'>): InstanceListQuery {
  const since = q.since === undefined ? undefined : parseInstant(q.since, 'querystring.since');
  const until = q.until === undefined ? undefined : parseInstant(q.until, 'querystring.until');
  if (since && until && since >= until) throw badRequest('querystring.until', `must be later than since (${since.toISOString()})`);
  const statuses = listValues(q.status) as InstanceStatus[];
  const initiators = listValues(q.initiator).map((k) => k.toUpperCase() as InitiatorKind);
  return {
    ...(statuses.length ? { statuses } : {}),
    ...(initiators.length ? { initiators } : {}),
    ...(since ? { since } : {}),
    ...(until ? { until } : {}),
    ...(q.tag !== undefined ? { tag: q.tag } : {}),
    ...(q.limit !== undefined ? { limit: q.limit } : {}),
  };
}

/** Runs a list read model; a filter it refuses becomes a 400 naming `querystring.<field>`. */
export async function runList<T>(fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof ListFilterError) throw badRequest(`querystring.${err.field}`, err.message);
    throw err;
  }
}

/**
 * A preValidation hook refusing query parameters the list does not know (fastify would drop them
 * silently, and a misspelt filter would list everything).
 */
export function knownQuery(properties: object): (request: FastifyRequest) => Promise<void> {
  const known = Object.keys(properties);
  return async (request) => {
    for (const [key, value] of Object.entries((request.query ?? {}) as Record<string, unknown>)) {
      if (!known.includes(key)) throw badRequest(`querystring.${key}`, `is not a parameter of this list (known: ${known.join(', ')})`);
      // PostgreSQL text cannot hold NUL: refused here rather than failing in the database.
      if ((Array.isArray(value) ? value : [value]).some((v) => typeof v === 'string' && v.includes('\u0000'))) throw badRequest(`querystring.${key}`, 'must not contain a NUL character');
    }
  };
}
