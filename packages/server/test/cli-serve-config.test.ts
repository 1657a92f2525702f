import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawnBaton, tempDir } from './helpers/baton-process.js';

let dir: { path: string; remove(): Promise<void> };

beforeAll(async () => {
  dir = await tempDir('baton-serve-config-');
});
afterAll(async () => {
  await dir?.remove();
});

/** `baton serve` with one wrong service setting: exit 1 and one line naming the setting, before anything opens. */
async function failsWith(env: Record<string, string>): Promise<string> {
  const p = spawnBaton({ PORT: '0', BATON_DATA_DIR: path.join(dir.path, 'data'), ...env });
  const { code } = await p.exited;
  expect(code).toBe(1);
  const lines = p.stderr().trim().split('\n');
  expect(lines).toHaveLength(1);
  return lines[0]!;
}

describe('baton serve validates the service settings at start', () => {
  it('names the setting and the field of a bad BATON_CONFIG file', async () => {
    const file = path.join(dir.path, 'baton.yaml');
    await writeFile(file, 'kafka:\n  brokers: [localhost:9092]\n  subscriptions:\n    - signal: orders\n');
    const line = await failsWith({ BATON_CONFIG: file });
    expect(line).toMatch(/^baton: BATON_CONFIG: .*baton\.yaml: kafka\.subscriptions\[0\]\.signal: unknown setting/);
    expect(line).toContain('kafka.subscriptions[0].topic: is required');
  }, 60_000);

  it('names a missing BATON_CONFIG file', async () => {
    expect(await failsWith({ BATON_CONFIG: path.join(dir.path, 'nope.yaml') })).toMatch(/^baton: BATON_CONFIG: .*cannot read/);
  }, 60_000);

  it('rejects a bad time scale, shell flag and allow-list', async () => {
    const [scale, shell, hosts] = await Promise.all([
      failsWith({ BATON_TIME_SCALE: 'fast' }),
      failsWith({ BATON_SHELL_STEPS: 'maybe' }),
      failsWith({ BATON_HTTP_ALLOWED_HOSTS: 'https://example.com/path' }),
    ]);
    expect(scale).toBe('baton: BATON_TIME_SCALE: must be a number above 0 and at most 1000, got "fast"');
    expect(shell).toBe('baton: BATON_SHELL_STEPS: must be 1 or 0, got "maybe"');
    expect(hosts).toMatch(/^baton: BATON_HTTP_ALLOWED_HOSTS: bad allow-list entry "https:\/\/example\.com\/path"/);
  }, 60_000);
});
