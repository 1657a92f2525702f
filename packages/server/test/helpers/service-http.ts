import { PassThrough } from 'node:stream';
import { main } from '../../src/cli/main.js';
import type { ServiceApp } from './service-app.js';

/** One request to the service in this process; an object payload goes as a JSON body. */
export function sendJson(s: ServiceApp, method: 'POST' | 'PUT' | 'GET' | 'DELETE', url: string, payload?: object) {
  return s.app.inject({ method, url, ...(payload === undefined ? {} : { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(payload) }) });
}

/** Waits until the step of the instance's latest run has status `want`; fails with the status it has. */
export async function waitForStep(s: ServiceApp, wf: string, iid: number, step: string, want: string, ms = 15_000): Promise<void> {
  const deadline = Date.now() + ms;
  for (;;) {
    const run = (await sendJson(s, 'GET', `/api/v3/workflows/${encodeURIComponent(wf)}/instances/${iid}/runs/latest`)).json() as { steps?: { step_id: string; status: string }[] };
    const got = run.steps?.find((x) => x.step_id === step)?.status;
    if (got === want) return;
    if (Date.now() > deadline) throw new Error(`${wf}/${iid} step ${step} is ${got}, not ${want}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** `baton ...args` in this process against the server listening at `url`. */
export async function runCli(url: string, args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  let stdout = '';
  let stderr = '';
  out.on('data', (d: Buffer) => (stdout += d.toString()));
  err.on('data', (d: Buffer) => (stderr += d.toString()));
  const code = await main(args, { stdout: out, stderr: err, env: { BATON_URL: url }, cwd: process.cwd() });
  return { code, stdout, stderr };
}
