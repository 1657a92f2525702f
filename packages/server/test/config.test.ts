import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { loadConfig, redactUrl } from '../src/config.js';
import { StartupError } from '../src/startup-error.js';

function failure(env: Record<string, string>): StartupError {
  try {
    loadConfig(env, '/srv/baton');
  } catch (err) {
    if (err instanceof StartupError) return err;
    throw err;
  }
  throw new Error(`configuration ${JSON.stringify(env)} was accepted`);
}

describe('loadConfig', () => {
  it('uses the defaults when nothing is set', () => {
    expect(loadConfig({}, '/srv/baton')).toEqual({
      port: 8080,
      host: '127.0.0.1',
      databaseUrl: undefined,
      dataDir: path.resolve('/srv/baton', '.baton-data'),
      logLevel: 'info',
      requestLogLevel: 'debug',
      logFormat: undefined,
      tokens: [],
      publishRateLimit: 1200,
      publishRateWindowSeconds: 60,
    });
  });

  it('reads every setting and treats empty values as unset', () => {
    expect(
      loadConfig(
        { PORT: ' 0 ', HOST: '0.0.0.0', DATABASE_URL: 'postgresql://u:p@db.internal:6543/baton', BATON_DATA_DIR: 'data', LOG_LEVEL: 'DEBUG', REQUEST_LOG_LEVEL: 'Info', LOG_FORMAT: 'pretty', BATON_PUBLISH_RATE_WINDOW: '15' },
        '/srv/baton',
      ),
    ).toEqual({ port: 0, host: '0.0.0.0', databaseUrl: 'postgresql://u:p@db.internal:6543/baton', dataDir: '/srv/baton/data', logLevel: 'debug', requestLogLevel: 'info', logFormat: 'pretty', tokens: [], publishRateLimit: 1200, publishRateWindowSeconds: 15 });
    expect(loadConfig({ PORT: '', DATABASE_URL: '  ', LOG_LEVEL: '' }, '/x')).toMatchObject({ port: 8080, databaseUrl: undefined, logLevel: 'info' });
  });

  it('accepts a socket folder in place of a host', () => {
    expect(loadConfig({ DATABASE_URL: 'postgres:///baton?host=/var/run/postgresql' }).databaseUrl).toBe('postgres:///baton?host=/var/run/postgresql');
  });

  it.each([
    [{ PORT: 'http' }, 'PORT', 'must be a whole number from 0 to 65535, got "http"'],
    [{ PORT: '-1' }, 'PORT', 'must be a whole number from 0 to 65535, got "-1"'],
    [{ PORT: '8080.5' }, 'PORT', 'must be a whole number from 0 to 65535, got "8080.5"'],
    [{ PORT: '65536' }, 'PORT', 'must be a whole number from 0 to 65535, got "65536"'],
    [{ HOST: 'http://x' }, 'HOST', 'must be a host name or IP address, got "http://x"'],
    [{ LOG_LEVEL: 'verbose' }, 'LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [{ REQUEST_LOG_LEVEL: 'all' }, 'REQUEST_LOG_LEVEL', 'must be one of fatal, error, warn, info, debug, trace, silent, got "all"'],
    [{ LOG_FORMAT: 'text' }, 'LOG_FORMAT', 'must be json or pretty, got "text"'],
  ])('rejects %j naming %s', (env, setting, message) => {
    const err = failure(env);
    expect(err.setting).toBe(setting);
    expect(err.message).toBe(message);
    expect(err.describe()).toBe(`${setting}: ${message}`);
  });

  it.each([
    ['localhost:5432/baton', /is not a valid URL|unsupported scheme/],
    ['http://db/baton', /unsupported scheme "http:"/],
    ['postgres://', /has no host/],
    ['postgres://db:99999/baton', /is not a valid URL|invalid port/],
  ])('rejects DATABASE_URL %s', (url, message) => {
    const err = failure({ DATABASE_URL: url });
    expect(err.setting).toBe('DATABASE_URL');
    expect(err.message).toMatch(message);
    expect(err.message).toContain('expected postgres://user:password@host:5432/database');
  });

  it('never repeats a password in its messages', () => {
    const err = failure({ DATABASE_URL: 'mysql://admin:hunter2@db/baton' });
    expect(err.message).not.toContain('hunter2');
    expect(err.message).toContain('mysql://admin:***@db/baton');
  });
});

describe('redactUrl', () => {
  it('hides the password of parseable and unparseable URLs', () => {
    expect(redactUrl('postgres://u:pw@h:5432/d')).toBe('postgres://u:***@h:5432/d');
    expect(redactUrl('postgres://u@h/d')).toBe('postgres://u@h/d');
    expect(redactUrl('postgres://u:p w@h /d')).not.toContain('p w');
  });
});

describe('StartupError', () => {
  it('describes itself in one line even when the cause spans several', () => {
    const err = new StartupError('BATON_DATA_DIR', 'cannot open the embedded database in "/d": bad header\n  at page 0\n');
    expect(err.describe()).toBe('BATON_DATA_DIR: cannot open the embedded database in "/d": bad header at page 0');
  });
});
