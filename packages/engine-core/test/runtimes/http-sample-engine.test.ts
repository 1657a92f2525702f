import { readFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseWorkflowYaml } from '../../src/definition/yaml-dsl.js';
import { InMemoryDefinitions } from '../../src/runtime/definitions.js';
import type { Engine } from '../../src/runtime/engine.js';
import { registerBuiltinRuntimes } from '../../src/runtimes/builtin.js';
import { openTestDb, type TestDb } from '../runtime/support/databases.js';
import { testEngine } from '../runtime/support/engine.js';
import { samplesDir } from '../runtime/support/samples.js';

/**
 * Maestro's sample-http-wf through the engine: the `http<pmap>` params and `${wf_body}` arrive
 * evaluated, the steps call a local stand-in for Maestro's workflow API, and job.5's state_expr
 * turns the expected 404 into success.
 */
describe('sample-http-wf on the engine', () => {
  let t: TestDb;
  let engine: Engine;
  let errors: unknown[];
  let server: http.Server;
  const calls: { method: string; url: string; user: string | undefined; type: string | undefined; body: string }[] = [];
  let stored: string | undefined;

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString('utf8')));
      req.on('end', () => {
        const user = req.headers.user as string | undefined;
        calls.push({ method: req.method ?? '', url: req.url ?? '', user, type: req.headers['content-type'], body });
        const route = `${req.method} ${req.url}`;
        const json = (status: number, value: unknown): void => {
          res.writeHead(status, { 'content-type': 'application/json' });
          res.end(JSON.stringify(value));
        };
        if (route === 'PUT /api/v3/workflows/actions/validate/yaml') return json(200, { valid: body.includes('sample-wf-2') });
        if (route === 'POST /api/v3/workflows/yaml') {
          stored = body;
          return json(200, { workflow_id: 'sample-wf-2' });
        }
        if (route === 'GET /api/v3/workflows/sample-wf-2/versions/latest') return stored ? json(200, { definition: stored }) : json(404, { error: 'not found' });
        if (route === 'DELETE /api/v3/workflows/sample-wf-2') {
          stored = undefined;
          return json(200, { deleted: true });
        }
        json(400, { error: `unexpected ${route}` });
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    const yaml = readFileSync(path.join(samplesDir, 'yaml/sample-http-wf.yaml'), 'utf8').replaceAll('http://localhost:8080', base);
    const parsed = parseWorkflowYaml(yaml);
    if (!parsed.ok) throw new Error(JSON.stringify(parsed.errors));
    const defs = new InMemoryDefinitions();
    defs.add(parsed.value);
    t = await openTestDb('pglite');
    ({ engine, errors } = testEngine(t.db, defs));
    registerBuiltinRuntimes(engine, { http: { allowedHosts: ['127.0.0.1'] } });
    await engine.start();
  });

  afterAll(async () => {
    await engine?.stop();
    await t?.close();
    server?.closeAllConnections();
    await new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve()));
  });

  it('runs every job against the API and succeeds', async () => {
    const started = await engine.startWorkflow({ workflowId: 'sample-http-wf', requestId: 'http-sample' });
    const status = await engine.waitForInstance('sample-http-wf', started.workflowInstanceId, 30_000);
    const run = await engine.getRun('sample-http-wf', started.workflowInstanceId);
    expect(Object.fromEntries(run!.steps.map((s) => [s.stepId, s.status]))).toEqual({
      'job.1': 'SUCCEEDED',
      'job.2': 'SUCCEEDED',
      'job.3': 'SUCCEEDED',
      'job.4': 'SUCCEEDED',
      'job.5': 'SUCCEEDED',
    });
    expect(status).toBe('SUCCEEDED');
    expect(calls.map((c) => `${c.method} ${c.url}`)).toEqual([
      'PUT /api/v3/workflows/actions/validate/yaml',
      'POST /api/v3/workflows/yaml',
      'GET /api/v3/workflows/sample-wf-2/versions/latest',
      'DELETE /api/v3/workflows/sample-wf-2',
      'GET /api/v3/workflows/sample-wf-2/versions/latest',
    ]);
    expect(calls[0]).toMatchObject({ user: 'tester', type: 'application/yaml' });
    expect(calls[1]!.body).toContain('id: "sample-wf-2"');
    const job3 = await engine.getStepAttempt('sample-http-wf', started.workflowInstanceId, 'job.3');
    expect(job3?.outputs.status_code?.value).toBe(200n);
    expect(JSON.parse(job3?.outputs.response_body?.value as string)).toEqual({ definition: calls[1]!.body });
    const job5 = await engine.getStepAttempt('sample-http-wf', started.workflowInstanceId, 'job.5');
    expect(job5?.outputs.status_code?.value).toBe(404n);
    expect(errors).toEqual([]);
  });
});
