import { describe, expect, it } from 'vitest';
import { tmpdir } from 'node:os';
import { loadServiceSettings } from '../src/service-config.js';
import { serviceAppPerSuite, type ServiceApp } from './helpers/service-app.js';

const definition = {
  properties: { owner: 'tester' },
  workflow: { id: 'pct', params: { pct: { value: 50, type: 'LONG', validator: 'param > 0 && param < 100' } }, steps: [{ step: { id: 's', type: 'NoOp' } }] },
};

async function pushAndStart(s: ServiceApp, pct: number) {
  const pushed = await s.app.inject({ method: 'POST', url: '/api/v3/workflows', headers: { 'content-type': 'application/json' }, payload: JSON.stringify(definition) });
  expect(pushed.statusCode, pushed.body).toBe(200);
  return s.app.inject({
    method: 'POST',
    url: '/api/v3/workflows/pct/versions/active/actions/start',
    headers: { 'content-type': 'application/json' },
    payload: JSON.stringify({ run_params: { pct: { value: pct, type: 'LONG' } } }),
  });
}

describe('BATON_PARAM_VALIDATORS', () => {
  it('is enforce by default, takes ignore, and refuses anything else naming the setting', () => {
    expect(loadServiceSettings({}, tmpdir()).paramValidators).toBe('enforce');
    expect(loadServiceSettings({ BATON_PARAM_VALIDATORS: 'IGNORE' }, tmpdir()).paramValidators).toBe('ignore');
    expect(() => loadServiceSettings({ BATON_PARAM_VALIDATORS: 'off' }, tmpdir())).toThrow('must be enforce or ignore, got "off"');
  });

  describe('enforced', () => {
    const s = serviceAppPerSuite({});
    it('refuses a start whose run param fails its validator with 400 naming param, value and validator', async () => {
      const r = await pushAndStart(s(), 150);
      expect(r.statusCode).toBe(400);
      expect(r.body).toContain('param pct: value 150 fails validator \\"param > 0 && param < 100\\"');
    });
  });

  describe('ignored, as Maestro does', () => {
    const s = serviceAppPerSuite({ BATON_PARAM_VALIDATORS: 'ignore' });
    it('starts the same request', async () => {
      const r = await pushAndStart(s(), 150);
      expect(r.statusCode, r.body).toBe(200);
    });
  });
});
