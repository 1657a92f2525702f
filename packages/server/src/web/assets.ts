import { readdir, readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The pages' static files (HTML, ES modules, CSS), shipped as they are: no build step. */
export const ASSETS_DIR = fileURLToPath(new URL('./assets/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
};

export interface Asset {
  body: Buffer;
  type: string;
}

/**
 * Libraries the pages import, served under a name of their own from the installed package (the
 * exact version is pinned in package.json): dagre lays out the graphs (graph.js imports it).
 */
const VENDOR: Record<string, { pkg: string; file: string }> = {
  'dagre.js': { pkg: '@dagrejs/dagre', file: 'dist/dagre.esm.js' },
};

function vendorPath(v: { pkg: string; file: string }): string {
  const manifest = createRequire(import.meta.url).resolve(`${v.pkg}/package.json`);
  return path.join(path.dirname(manifest), v.file);
}

/**
 * Every file of the assets folder and the vendored libraries, read once at start-up. Serving only this fixed set means a
 * request path can never reach outside the folder.
 */
export async function loadAssets(dir = ASSETS_DIR): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    out.set(name, { body: await readFile(path.join(dir, name)), type });
  }
  for (const [name, v] of Object.entries(VENDOR)) out.set(name, { body: await readFile(vendorPath(v)), type: TYPES['.js']! });
  return out;
}
