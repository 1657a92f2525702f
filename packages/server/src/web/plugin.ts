import type { FastifyPluginAsync, FastifyReply, FastifySchema } from 'fastify';
import type { Db } from '@baton/engine-core';
import { listSchedules, nextFireMs, compileTrigger, formatInZone } from '@baton/scheduler';
import { SignalNotFoundError, SignalValidationError, stringifyJson } from '@baton/signals';
import { ALLOWED_ROLES, type Access } from '../http/auth.js';
import { ProblemError, ProblemTypes } from '../http/problem.js';
import { loadAssets } from './assets.js';
import { PAGES, renderShell } from './shell.js';
import { listSignalNames, listWorkflows } from './queries.js';
import { instanceView, lineageView, type LineageCenter, type RunReads } from './views.js';

export interface WebRoutesOptions {
  db: Db;
  /** The engine's run queries (pass the process's `Engine`). */
  runs: RunReads;
}

/**
 * Pages never build markup from data (the scripts set text content), and this policy makes sure
 * nothing inline or from elsewhere can run even if one did.
 */
const CSP = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

/**
 * Page shells and their scripts and styles hold no data, so a browser may load them without a
 * token; everything they show comes from the JSON routes, which keep the usual `read` access.
 */
const OPEN: { access: Access } = { access: 'open' };

const UPCOMING_FIRES = 3;
const LIST_LIMIT = 500;

const idPattern = '^[^\\u0000-\\u001f]{1,512}$';
const instanceParams = {
  type: 'object',
  properties: {
    workflowId: { type: 'string', pattern: idPattern },
    instanceId: { type: 'string', pattern: '^[1-9][0-9]{0,14}$', description: 'workflow instance id' },
  },
  required: ['workflowId', 'instanceId'],
} as const;

const runQuery = {
  type: 'object',
  properties: { run: { type: 'string', pattern: '^[1-9][0-9]{0,8}$', description: 'a run of the instance (default the latest)' } },
  additionalProperties: false,
} as const;
const runOf = (q: { run?: string }): number | undefined => (q.run === undefined ? undefined : Number(q.run));

function doc(schema: FastifySchema & { summary?: string; description?: string; hide?: boolean }): FastifySchema {
  return schema;
}

/**
 * The web pages (`/ui/...`, `/` redirects to `/ui`) and the JSON views they read under
 * `/api/v3/ui/...`: summaries and laid-out graphs no other API gives. Register without a prefix.
 */
export const webRoutes: FastifyPluginAsync<WebRoutesOptions> = async (app, opts) => {
  const { db, runs } = opts;
  const assets = await loadAssets();
  // bigint params (64-bit signal values) stay exact numbers in the JSON the pages read.
  app.setReplySerializer((payload) => stringifyJson(payload));

  const withHeaders = (reply: FastifyReply): FastifyReply =>
    reply.header('content-security-policy', CSP).header('x-content-type-options', 'nosniff').header('cache-control', 'no-cache');
  const sendAsset = (reply: FastifyReply, name: string): FastifyReply => {
    const asset = assets.get(name);
    if (!asset) throw new ProblemError(404, 'Not Found', `no asset named "${name}"`, { type: ProblemTypes.notFound });
    return withHeaders(reply).header('content-type', asset.type).send(asset.body);
  };

  app.get('/', { config: OPEN, schema: doc({ tags: ['web pages'], summary: 'Redirects to the web pages at /ui' }) }, async (_request, reply) => reply.redirect('/ui'));
  const template = assets.get('page.html')!.body.toString('utf8');
  for (const [url, page] of Object.entries(PAGES)) {
    const html = Buffer.from(renderShell(template, page));
    app.get(url, { config: OPEN, schema: doc({ tags: ['web pages'], summary: `Web page ${url} (HTML)`, produces: ['text/html'] } as FastifySchema) }, async (_request, reply) =>
      withHeaders(reply).header('content-type', 'text/html; charset=utf-8').send(html),
    );
  }
  app.get<{ Params: { file: string } }>(
    '/ui/assets/:file',
    { config: OPEN, schema: doc({ tags: ['web pages'], summary: 'A static file of the web pages (script, style sheet)', params: { type: 'object', properties: { file: { type: 'string', pattern: '^[\\w.-]{1,100}$' } }, required: ['file'] } }) },
    async (request, reply) => sendAsset(reply, request.params.file),
  );

  app.get(
    '/api/v3/ui/session',
    {
      schema: doc({
        summary: 'Who the caller is (for the web pages): token name and role, and whether it may act',
        description: '`may_act` is true when the token may call actions (role admin) or when the service runs without tokens. The pages hide action buttons otherwise; the action routes refuse such tokens anyway (403).',
        response: {
          200: {
            type: 'object',
            properties: { auth: { type: 'boolean' }, token_name: { type: ['string', 'null'] }, role: { type: ['string', 'null'] }, may_act: { type: 'boolean' } },
            required: ['auth', 'token_name', 'role', 'may_act'],
          },
        },
      }),
    },
    async (request) => {
      const token = request.apiToken;
      return { auth: token !== undefined, token_name: token?.name ?? null, role: token?.role ?? null, may_act: token === undefined || ALLOWED_ROLES.admin.includes(token.role) };
    },
  );

  app.get<{ Querystring: { prefix?: string } }>(
    '/api/v3/ui/signal-names',
    {
      schema: doc({
        summary: 'Signal names with their instance counts and when one was last seen (for the web pages)',
        querystring: { type: 'object', properties: { prefix: { type: 'string', maxLength: 512 } }, additionalProperties: false },
      }),
    },
    async (request) => ({ names: await listSignalNames(db, { prefix: request.query.prefix || undefined, limit: LIST_LIMIT }) }),
  );

  app.get('/api/v3/ui/workflows', { schema: doc({ summary: 'Workflows with their newest instances (for the web pages)' }) }, async () => {
    const workflows = await listWorkflows(db, LIST_LIMIT);
    return {
      workflows: await Promise.all(
        workflows.map(async (w) => {
          const page = await runs.listInstances(w.workflow_id, { limit: 5 });
          return { ...w, recent: page.items.map((i) => ({ instance_id: i.instanceId, status: i.status, created_at: i.createdAt.toISOString() })) };
        }),
      ),
    };
  });

  app.get<{ Params: { workflowId: string; instanceId: string }; Querystring: { run?: string } }>(
    '/api/v3/ui/workflows/:workflowId/instances/:instanceId',
    {
      schema: doc({
        summary: 'A workflow run with its step DAG laid out and step statuses (for the web pages)',
        description: 'The latest run unless `run` names an earlier one.',
        params: instanceParams,
        querystring: runQuery,
      }),
    },
    async (request) => {
      const { workflowId, instanceId } = request.params;
      const run = runOf(request.query);
      const view = await instanceView(db, runs, workflowId, Number(instanceId), run);
      if (!view) throw new ProblemError(404, 'Not Found', `workflow "${workflowId}" has no instance ${instanceId}${run === undefined ? '' : ` run ${run}`}`, { type: ProblemTypes.notFound });
      return view;
    },
  );

  app.get<{ Params: { workflowId: string; instanceId: string; stepId: string }; Querystring: { attempt?: string; run?: string } }>(
    '/api/v3/ui/workflows/:workflowId/instances/:instanceId/steps/:stepId',
    {
      schema: doc({
        summary: 'One step attempt with its timeline (the latest attempt unless `attempt` is given)',
        params: { ...instanceParams, properties: { ...instanceParams.properties, stepId: { type: 'string', pattern: idPattern } }, required: ['workflowId', 'instanceId', 'stepId'] },
        querystring: { type: 'object', properties: { attempt: { type: 'string', pattern: '^[1-9][0-9]{0,8}$' }, ...runQuery.properties }, additionalProperties: false },
      }),
    },
    async (request) => {
      const { workflowId, instanceId, stepId } = request.params;
      const attempt = request.query.attempt === undefined ? undefined : Number(request.query.attempt);
      const run = runOf(request.query);
      const a = await runs.getStepAttempt(workflowId, Number(instanceId), stepId, { ...(attempt === undefined ? {} : { attemptId: attempt }), ...(run === undefined ? {} : { runId: run }) });
      if (!a) throw new ProblemError(404, 'Not Found', `step "${stepId}" of ${workflowId} #${instanceId} has no ${attempt === undefined ? 'attempt' : `attempt ${attempt}`}`, { type: ProblemTypes.notFound });
      return {
        step_id: a.stepId,
        attempt_id: a.attemptId,
        run_id: a.runId,
        step_type: a.stepType,
        status: a.status,
        reason: a.reason,
        params: a.params,
        outputs: a.outputs,
        created_at: a.createdAt.toISOString(),
        started_at: a.startedAt?.toISOString() ?? null,
        ended_at: a.endedAt?.toISOString() ?? null,
        timeline: a.timeline.map((t) => ({ at: t.at.toISOString(), from: t.from, to: t.to, message: t.message })),
      };
    },
  );

  app.get<{ Querystring: { signal?: string; seq?: string; workflow?: string; instance?: string } }>(
    '/api/v3/ui/lineage',
    {
      schema: doc({
        summary: 'The lineage around a signal instance or a workflow run, laid out (for the web pages)',
        description: 'Either `signal` (+ `seq`, a seq id or `latest`, default latest) or `workflow` + `instance`.',
        querystring: {
          type: 'object',
          properties: {
            signal: { type: 'string', minLength: 1, maxLength: 512 },
            seq: { type: 'string', pattern: '^(latest|[0-9]{1,19})$' },
            workflow: { type: 'string', pattern: idPattern },
            instance: { type: 'string', pattern: '^[1-9][0-9]{0,14}$' },
          },
          additionalProperties: false,
        },
      }),
    },
    async (request) => {
      const q = request.query;
      let center: LineageCenter;
      if (q.signal !== undefined && q.workflow === undefined) {
        center = { signal: q.signal, seq: q.seq === undefined || q.seq === 'latest' ? 'latest' : seqOf(q.seq) };
      } else if (q.workflow !== undefined && q.instance !== undefined && q.signal === undefined) {
        center = { workflow: q.workflow, instance: Number(q.instance) };
      } else {
        throw new ProblemError(400, 'Invalid request', 'give either signal (and seq) or workflow and instance', {
          type: ProblemTypes.validation,
          errors: [{ field: 'querystring', message: 'needs signal, or workflow and instance' }],
        });
      }
      try {
        return await lineageView(db, runs, center);
      } catch (err) {
        if (err instanceof SignalNotFoundError) throw new ProblemError(404, 'Not Found', err.message, { type: ProblemTypes.notFound });
        // A signal name the domain refuses (control characters, empty segments) is the caller's error.
        if (err instanceof SignalValidationError) {
          throw new ProblemError(400, 'Invalid request', err.message, { type: ProblemTypes.validation, errors: err.errors.map((e) => ({ ...e, field: `querystring.signal${e.field === 'name' ? '' : `.${e.field}`}` })) });
        }
        throw err;
      }
    },
  );

  app.get('/api/v3/ui/schedules', { schema: doc({ summary: 'Time triggers with their next fire times (for the web pages)' }) }, async () => {
    const now = Date.now();
    // The schedule list's read model: the next fire is never in the past while active, none while paused.
    const { items } = await listSchedules(db, { limit: 10_000, now });
    return {
      now,
      schedules: items.map((r) => {
        let upcoming: { epoch_ms: number; fire_time: string }[] = [];
        try {
          const trigger = compileTrigger({ type: r.type, cron: r.expression, expression: r.expression, timezone: r.timezone }, { minIntervalMs: 0 });
          if (r.next_fire) upcoming = nextFireMs(trigger, r.next_fire.epoch_ms - 1, UPCOMING_FIRES).map((ms) => ({ epoch_ms: ms, fire_time: formatInZone(ms, trigger.timezone) }));
        } catch {
          // The row's own last_error says why the trigger does not compile.
        }
        return {
          workflow_id: r.workflow_id,
          trigger_key: r.trigger_id,
          workflow_version: r.workflow_version,
          expression: r.expression,
          timezone: r.timezone,
          enabled: r.status !== 'DISABLED',
          status: r.status,
          paused: r.paused,
          next_fire_ms: r.next_fire?.epoch_ms ?? null,
          due_fire_ms: r.due_fire?.epoch_ms ?? null,
          upcoming,
          started_count: r.started_count,
          catch_up_count: r.catch_up_count,
          skipped_count: r.skipped_count,
          last_error: r.last_error,
        };
      }),
    };
  });
};

function seqOf(text: string): number | bigint {
  const n = BigInt(text);
  return n <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(n) : n;
}
