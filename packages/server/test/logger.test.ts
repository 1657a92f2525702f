import { mkdtemp, open, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { createLogger, prettyDestination } from '../src/logger.js';

const dir = await mkdtemp(path.join(tmpdir(), 'baton-logger-'));
afterAll(() => rm(dir, { recursive: true, force: true }));

describe('pretty logs', () => {
  it('are one readable line per event with an ISO time, the level and the fields, and redact secrets', async () => {
    const file = path.join(dir, 'pretty.log');
    const fh = await open(file, 'w');
    try {
      const logger = createLogger('info', await prettyDestination(fh.fd));
      logger.info({ url: 'http://127.0.0.1:8080' }, 'server ready');
      logger.debug('not at info');
      logger.warn({ req: { headers: { authorization: 'Bearer secret-token' } } }, 'careful');
      logger.flush();
    } finally {
      await fh.close();
    }
    // eslint-disable-next-line no-control-regex
    const lines = (await readFile(file, 'utf8')).replace(/\u001b\[[0-9;]*m/g, '').trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z\] INFO: server ready \{"url":"http:\/\/127\.0\.0\.1:8080"\}$/);
    expect(lines[1]).toMatch(/^\[[^\]]+\] WARN: careful .*"authorization":"\*\*\*"/);
    expect(lines.join('\n')).not.toContain('secret-token');
  });
});
