import type { FastifyPluginAsync, FastifyRequest } from 'fastify';
import {
  DefinitionError,
  StartError,
  WorkflowNotFoundError,
  activate,
  checkWorkflowDefinition,
  deactivate,
  getVersion,
  propertiesToJson,
  pushWorkflow,
  workflowToJson,
  type Db,
  type Engine,
  type StepTypeCatalog,
  type DefinitionIssue,
  type StoredVersion,
  type WorkflowLifecycle,
  type WorkflowRequest,
} from '@baton/engine-core';
import { compileTrigger, previewFireTimes, toTriggerDefinition, TriggerError } from '@baton/scheduler';
import {
  badRequest,
  doc,
  invalidDefinition,
  issueErrors,
  notFound,
  problemSchema,
  rawBody,
  useExactJson,
  versionParam,
  versionedRunKeyProperties,
  versionSelector,
  workflowIdParam,
} from './workflow-http.js';

export interface WorkflowRoutesOptions {
  db: Db;
  engine: Engine;
  /** The lifecycle the process's subscribers (signal triggers, scheduler) follow. */
  lifecycle: WorkflowLifecycle;
  /** Time triggers firing closer together than this are refused (default: the scheduler's 1 minute). */
  minTriggerIntervalMs?: number;
  /** Refuse a workflow's first version without `properties.owner`, as Maestro does (default true; false is BATON_REQUIRE_OWNER=0). */
  requireOwner?: boolean;
}

const YAML_TYPES = ['application/yaml', 'text/yaml', 'application/x-yaml'];
/** Definitions are bounded by the step limit; 4 MiB leaves room for large foreach bodies. */
const DEFINITION_BODY_LIMIT = 4 * 1024 * 1024;
const MAX_PREVIEW = 1000;

const createRequest = {
  type: 'object',
  description: "Maestro's create request: {properties, workflow, is_active} (or a bare workflow object). Numbers are read exactly (64-bit).",
  properties: {
    properties: { type: 'object', description: 'owner, run_strategy, step_concurrency, signal_trigger_disabled, time_trigger_disabled, tags' },
    workflow: { type: 'object', description: 'id, name, description, params, time_triggers, signal_triggers, steps, ...' },
    is_active: { description: 'false keeps the active version as it is (default true)' },
  },
} as const;
const yamlBody = { type: 'string', description: "Maestro's YAML DSL (content-type application/yaml, text/yaml or application/x-yaml)" } as const;
const definitionSchema = {
  type: 'object',
  description: 'the stored definition as JSON: {properties, workflow}',
  properties: { properties: { type: 'object', additionalProperties: true }, workflow: { type: 'object', additionalProperties: true } },
} as const;
const versionSchema = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    workflow_version_id: { type: 'integer' },
    created: { type: 'boolean', description: 'false when the definition equals the latest version (nothing new was stored)' },
    active_version_id: { type: ['integer', 'null'] },
    is_active: { type: 'boolean' },
    create_time: { type: 'string', format: 'date-time' },
    definition: definitionSchema,
  },
  required: ['workflow_id', 'workflow_version_id', 'active_version_id', 'definition'],
} as const;
const validationSchema = {
  type: 'object',
  properties: {
    valid: { type: 'boolean' },
    workflow_id: { type: 'string' },
    errors: { type: 'array', items: { type: 'object', properties: { field: { type: 'string' }, message: { type: 'string' } }, required: ['field', 'message'] } },
  },
  required: ['valid', 'errors'],
} as const;
const startBody = {
  type: 'object',
  properties: {
    request_id: { type: 'string', minLength: 1, maxLength: 512, description: 'the same id never starts a second instance; default a random id' },
    run_params: { type: 'object', description: 'run params by name: a plain value or {value, type}' },
    initiator: { type: 'object', description: 'who started it; default {"type": "MANUAL"}' },
  },
} as const;
const startResponse = {
  type: 'object',
  properties: {
    ...versionedRunKeyProperties,
    status: { type: 'string' },
    request_id: { type: 'string' },
    duplicate: { type: 'boolean', description: 'true: the request id had started this instance before; nothing new was started' },
  },
  required: ['workflow_id', 'workflow_version_id', 'workflow_instance_id', 'workflow_run_id', 'status', 'duplicate'],
} as const;
const activeResponse = {
  type: 'object',
  properties: { workflow_id: { type: 'string' }, active_version_id: { type: ['integer', 'null'] } },
  required: ['workflow_id', 'active_version_id'],
} as const;
const previewResponse = {
  type: 'object',
  properties: {
    workflow_id: { type: 'string' },
    workflow_version_id: { type: 'integer' },
    time_triggers: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          index: { type: 'integer' },
          trigger: { type: 'object', additionalProperties: true },
          fire_times: { type: 'array', items: { type: 'object', properties: { fire_time: { type: 'string' }, epoch_ms: { type: 'integer' } } } },
          error: { type: 'string', description: 'why this trigger cannot fire' },
        },
      },
    },
  },
  required: ['workflow_id', 'workflow_version_id', 'time_triggers'],
} as const;

type Format = 'json' | 'yaml';

/**
 * Workflow definitions, versions, activation and starts (Maestro's /api/v3/workflows paths).
 * Bodies are parsed exactly; an invalid definition is a 400 problem listing every field at fault,
 * and nothing is stored.
 */
export const workflowRoutes: FastifyPluginAsync<WorkflowRoutesOptions> = async (app, opts) => {
  const { db, engine, lifecycle } = opts;
  useExactJson(app);
  app.addContentTypeParser(YAML_TYPES, { parseAs: 'string', bodyLimit: DEFINITION_BODY_LIMIT }, (_req, body, done) => done(null, body));

  const formatOf = (request: FastifyRequest): Format => (YAML_TYPES.includes(String(request.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase()) ? 'yaml' : 'json');
  const textOf = (request: FastifyRequest): string => {
    const text = typeof request.body === 'string' ? request.body : rawBody(request);
    if (text === undefined || text.trim() === '') throw badRequest('body', 'is required: a workflow definition');
    return text;
  };

  /** Parse, validate, and (when that passes) Maestro's dry run of the params. */
  const check = async (request: FastifyRequest, format: Format): Promise<ReturnType<typeof checkWorkflowDefinition>> => {
    const checked = checkDefinition(textOf(request), format, opts.minTriggerIntervalMs, engine.stepTypes);
    if (!checked.ok) return checked;
    const errors = [...(await ownerIssues(db, checked.value, opts.requireOwner !== false, format)), ...(await engine.dryRun(checked.value))];
    return errors.length > 0 ? { ok: false, errors } : checked;
  };

  const create = async (request: FastifyRequest, format: Format) => {
    const checked = await check(request, format);
    if (!checked.ok) throw invalidDefinition(checked.errors);
    let pushed;
    try {
      pushed = await pushWorkflow(db, checked.value, { events: lifecycle });
    } catch (err) {
      if (err instanceof DefinitionError) throw invalidDefinition(err.issues);
      throw err;
    }
    const stored = await getVersion(db, pushed.workflowId, pushed.version);
    if (!stored) throw new Error(`version ${pushed.version} of ${pushed.workflowId} vanished after the push`);
    return { ...versionJson(stored, pushed.activeVersion ?? null), created: pushed.created };
  };
  const validate = async (request: FastifyRequest, format: Format) => {
    const checked = await check(request, format);
    return checked.ok ? { valid: true, workflow_id: checked.value.workflow.id, errors: [] } : { valid: false, errors: issueErrors(checked.errors) };
  };

  const createSchema = (body: object, summary: string) =>
    doc({ summary, tags: ['workflows'], body, response: { 200: versionSchema, 400: problemSchema, 415: problemSchema } });
  app.post('/api/v3/workflows', { bodyLimit: DEFINITION_BODY_LIMIT, schema: createSchema(createRequest, 'Create a workflow or a new version of it (JSON)') }, (request) => create(request, formatOf(request)));
  app.post('/api/v3/workflows/yaml', { bodyLimit: DEFINITION_BODY_LIMIT, schema: createSchema(yamlBody, "Create a workflow or a new version of it (Maestro's YAML DSL)") }, (request) => create(request, 'yaml'));

  const validateSchema = (body: object, summary: string) =>
    doc({ summary, description: 'Parses and checks a definition without storing it; `errors` lists every problem.', tags: ['workflows'], body, response: { 200: validationSchema, 400: problemSchema } });
  app.post('/api/v3/workflows/validate', { config: { access: 'read' }, bodyLimit: DEFINITION_BODY_LIMIT, schema: validateSchema(createRequest, 'Validate a definition (JSON)') }, async (request) => validate(request, formatOf(request)));
  app.post('/api/v3/workflows/validate/yaml', { config: { access: 'read' }, bodyLimit: DEFINITION_BODY_LIMIT, schema: validateSchema(yamlBody, 'Validate a definition (YAML)') }, async (request) => validate(request, 'yaml'));
  // Maestro's own paths for the same checks. Validating stores nothing, so readers may do it.
  app.put('/api/v3/workflows/actions/validate', { config: { access: 'read' }, bodyLimit: DEFINITION_BODY_LIMIT, schema: validateSchema(createRequest, "Validate a definition (JSON, Maestro's path)") }, async (request) => validate(request, formatOf(request)));
  app.put('/api/v3/workflows/actions/validate/yaml', { config: { access: 'read' }, bodyLimit: DEFINITION_BODY_LIMIT, schema: validateSchema(yamlBody, "Validate a definition (YAML, Maestro's path)") }, async (request) => validate(request, 'yaml'));

  app.get<{ Params: { id: string; version: string } }>(
    '/api/v3/workflows/:id/versions/:version',
    {
      schema: doc({
        summary: 'One version of a workflow',
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam, version: versionParam }, required: ['id', 'version'] },
        response: { 200: versionSchema, 400: problemSchema, 404: problemSchema },
      }),
    },
    async (request) => {
      const { id, version } = request.params;
      const stored = await getVersion(db, id, versionSelector(version));
      if (!stored) throw notFound(new WorkflowNotFoundError(id, versionSelector(version)).message);
      const active = stored.active ? stored : await getVersion(db, id, 'active');
      return versionJson(stored, active?.version ?? null);
    },
  );

  app.put<{ Params: { id: string; version: string } }>(
    '/api/v3/workflows/:id/versions/:version/actions/activate',
    {
      schema: doc({
        summary: 'Make a version the active one',
        description: 'Signal and time triggers of the active version start runs; the previous active version stops doing so.',
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam, version: versionParam }, required: ['id', 'version'] },
        response: { 200: activeResponse, 400: problemSchema, 404: problemSchema },
      }),
    },
    async (request) => {
      const { id, version } = request.params;
      const stored = await getVersion(db, id, versionSelector(version));
      if (!stored) throw notFound(new WorkflowNotFoundError(id, versionSelector(version)).message);
      await activate(db, id, stored.version, { events: lifecycle });
      return { workflow_id: id, active_version_id: stored.version };
    },
  );

  app.put<{ Params: { id: string } }>(
    '/api/v3/workflows/:id/actions/deactivate',
    {
      schema: doc({
        summary: 'Deactivate a workflow',
        description: 'No version is active afterwards: triggers stop starting it; running instances go on. Idempotent.',
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        response: { 200: activeResponse, 404: problemSchema },
      }),
    },
    async (request) => {
      try {
        await deactivate(db, request.params.id, { events: lifecycle });
      } catch (err) {
        if (err instanceof WorkflowNotFoundError) throw notFound(err.message);
        throw err;
      }
      return { workflow_id: request.params.id, active_version_id: null };
    },
  );

  app.post<{ Params: { id: string; version: string }; Body: { request_id?: string; run_params?: Record<string, unknown>; initiator?: Record<string, unknown> } | undefined }>(
    '/api/v3/workflows/:id/versions/:version/actions/start',
    {
      schema: doc({
        summary: 'Start a workflow instance',
        description: 'Exactly once per request_id: repeating a request (or racing it from several clients) returns the first instance with duplicate: true.',
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam, version: versionParam }, required: ['id', 'version'] },
        body: startBody,
        response: { 200: startResponse, 400: problemSchema, 404: problemSchema },
      }),
    },
    async (request) => {
      const { id, version } = request.params;
      const body = request.body ?? {};
      rejectUnknown(body, Object.keys(startBody.properties));
      try {
        const r = await engine.startWorkflow({
          workflowId: id,
          version: versionSelector(version),
          ...(body.run_params ? { params: body.run_params } : {}),
          ...(body.request_id ? { requestId: body.request_id } : {}),
          initiator: body.initiator ?? { type: 'MANUAL' },
        });
        return {
          workflow_id: r.workflowId,
          workflow_version_id: r.version,
          workflow_instance_id: r.workflowInstanceId,
          workflow_run_id: r.runId,
          status: r.status,
          request_id: r.requestId,
          duplicate: r.duplicate,
        };
      } catch (err) {
        if (err instanceof StartError) {
          if (err.code === 'not_found') throw notFound(err.message);
          throw badRequest(err.code === 'invalid_params' ? 'run_params' : 'body', err.message);
        }
        throw err;
      }
    },
  );

  app.get<{ Params: { id: string }; Querystring: { count?: number; from?: string } }>(
    '/api/v3/workflows/:id/time-triggers/preview',
    {
      schema: doc({
        summary: "The next fire times of the active version's time triggers",
        tags: ['workflows'],
        params: { type: 'object', properties: { id: workflowIdParam }, required: ['id'] },
        querystring: {
          type: 'object',
          properties: {
            count: { type: 'integer', minimum: 1, maximum: MAX_PREVIEW, description: `fire times per trigger, 1..${MAX_PREVIEW} (default 10)` },
            from: { type: 'string', format: 'date-time', description: 'list fire times strictly after this instant (default now)' },
          },
          additionalProperties: false,
        },
        response: { 200: previewResponse, 400: problemSchema, 404: problemSchema },
      }),
    },
    async (request) => {
      const { id } = request.params;
      const active = await getVersion(db, id, 'active');
      if (!active) throw notFound(new WorkflowNotFoundError(id, 'active').message);
      const from = request.query.from ? new Date(request.query.from) : new Date();
      const count = request.query.count ?? 10;
      const time_triggers = active.workflow.timeTriggers.map((t, index) => {
        const trigger = toTriggerDefinition(t);
        try {
          return { index, trigger, fire_times: previewFireTimes(trigger, { from, count, ...(opts.minTriggerIntervalMs === undefined ? {} : { minIntervalMs: opts.minTriggerIntervalMs }) }) };
        } catch (err) {
          if (err instanceof TriggerError) return { index, trigger, fire_times: [], error: err.message };
          throw err;
        }
      });
      return { workflow_id: id, workflow_version_id: active.version, time_triggers };
    },
  );
};

/**
 * The definitions package's checks plus the scheduler's for time triggers (cron syntax, time zone,
 * a schedule that can fire at all, e.g. not `0 0 30 2 *`): engine-core cannot ask the scheduler,
 * so a trigger that would never fire or be refused later is caught here, before anything is stored.
 */
function checkDefinition(text: string, format: Format, minIntervalMs: number | undefined, stepTypes: StepTypeCatalog): ReturnType<typeof checkWorkflowDefinition> {
  const checked = checkWorkflowDefinition(text, { format, stepTypes });
  if (!checked.ok) return checked;
  const errors = checked.value.workflow.timeTriggers.flatMap((t, i) => {
    if (t.type === 'INTERVAL') return [];
    try {
      compileTrigger(toTriggerDefinition(t), minIntervalMs === undefined ? {} : { minIntervalMs });
      return [];
    } catch (err) {
      if (err instanceof TriggerError) return [{ field: `workflow.time_triggers[${i}].${err.property}`, message: err.message }];
      throw err;
    }
  });
  return errors.length > 0 ? { ok: false, errors } : checked;
}

/**
 * Maestro's rule (`MaestroWorkflowDao`): the first version of a workflow must come with properties
 * naming its owner. Any owner Maestro's `User` reads counts (a name, even an empty one, or `{name, …}`);
 * later versions may leave properties out and keep the stored ones.
 */
async function ownerIssues(db: Db, request: WorkflowRequest, required: boolean, format: Format): Promise<DefinitionIssue[]> {
  if (!required || request.properties?.owner !== undefined) return [];
  if (await getVersion(db, request.workflow.id, 'latest')) return [];
  const id = request.workflow.id;
  const fix = format === 'yaml' ? 'add `owner: <name>` to the workflow (next to its `id`)' : 'add "properties": {"owner": "<name>"} next to "workflow" in the request';
  return [{ field: 'properties.owner', message: `is required for the first version of workflow ${id}: ${fix} (Maestro refuses a workflow created without properties and an owner; later versions may leave it out)` }];
}

/** Fastify's validator drops unknown properties silently; a misspelt option should be an error instead. */
export function rejectUnknown(body: object, allowed: readonly string[]): void {
  const extra = Object.keys(body).filter((k) => !allowed.includes(k));
  if (extra.length > 0) throw badRequest(`body.${extra[0]}`, `is not an allowed property (allowed: ${allowed.join(', ')})`);
}

function versionJson(v: StoredVersion, activeVersion: number | null) {
  return {
    workflow_id: v.workflowId,
    workflow_version_id: v.version,
    active_version_id: activeVersion,
    is_active: activeVersion === v.version,
    create_time: v.createdAt,
    definition: { properties: propertiesToJson(v.properties), workflow: workflowToJson(v.workflow) },
  };
}
