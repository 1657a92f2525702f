import { existsSync } from 'node:fs';
import { readFile, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cachePath } from './paths.js';
import { run } from './proc.js';
import { ensureMotoVenv } from './sns.js';

export const SCHEMATHESIS_VERSION = '4.32.5';
const REQUIREMENT = `schemathesis==${SCHEMATHESIS_VERSION}`;

export interface SchemathesisInstall {
  /** The `schemathesis` executable inside the test virtualenv. */
  bin: string;
  /** True when this call installed it (a cold cache). */
  installed: boolean;
}

function paths(): { venv: string; bin: string; stamp: string } {
  const venv = cachePath('venv');
  return { venv, bin: path.join(venv, 'bin', 'schemathesis'), stamp: path.join(venv, '.baton-schemathesis') };
}

async function pinnedVersionInstalled(): Promise<boolean> {
  const { bin, stamp } = paths();
  return existsSync(bin) && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === REQUIREMENT;
}

/**
 * Installs schemathesis (the OpenAPI fuzzer the hostile-input tests run) into the test
 * virtualenv `.cache/venv`, next to moto. The virtualenv is recreated when moto's pin changes,
 * which drops this stamp too, so the next call installs it again.
 */
export async function ensureSchemathesis(log: (msg: string) => void = () => {}): Promise<SchemathesisInstall> {
  await ensureMotoVenv(log);
  const { venv, bin, stamp } = paths();
  if (await pinnedVersionInstalled()) return { bin, installed: false };
  log(`pip install ${REQUIREMENT}`);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', REQUIREMENT]);
  await writeFile(stamp, REQUIREMENT);
  return { bin, installed: true };
}

/** The installed schemathesis, or a failure saying how to install it (tests download nothing themselves). */
export async function findSchemathesis(): Promise<string> {
  const { venv, bin } = paths();
  if (await pinnedVersionInstalled()) return bin;
  throw new Error(`${REQUIREMENT} is not installed in ${venv}: run \`npx tsx scripts/infra/prepare.ts sns\` (scripts/test.sh does)`);
}
