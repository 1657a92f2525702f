import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { cachePath, repoRoot } from '../../scripts/infra/paths.js';

/**
 * The data folder of a fresh PGlite cluster, as `dumpDataDir()` makes it, for tests that open many
 * in-memory databases: `PGliteDb.open({ loadDataDir: await freshPgliteCluster() })` is the same
 * empty cluster as `PGliteDb.open()` at about a quarter of initdb's CPU time. Made once per PGlite
 * version and kept under .cache/pglite-template (written whole, then renamed, so concurrent test
 * files never read half a file); each test process reads it once. Only initdb's output is kept:
 * migrations still run on every database.
 */
export function freshPgliteCluster(): Promise<Blob> {
  template ??= loadOrMake();
  return template;
}

let template: Promise<Blob> | undefined;

async function loadOrMake(): Promise<Blob> {
  const manifest = await readFile(path.join(repoRoot, 'node_modules/@electric-sql/pglite/package.json'), 'utf8');
  const version = (JSON.parse(manifest) as { version: string }).version;
  const file = cachePath('pglite-template', `fresh-cluster-${version}.tar`);
  try {
    return new Blob([await readFile(file)]);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
  }
  const pg = await PGlite.create();
  const dump = await pg.dumpDataDir('none');
  await pg.close();
  await mkdir(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, Buffer.from(await dump.arrayBuffer()));
  await rename(tmp, file);
  return dump;
}
