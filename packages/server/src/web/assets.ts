import { readdir, readFile } from 'node:fs/promises';
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
 * Every file of the assets folder, read once at start-up. Serving only this fixed set means a
 * request path can never reach outside the folder.
 */
export async function loadAssets(dir = ASSETS_DIR): Promise<Map<string, Asset>> {
  const out = new Map<string, Asset>();
  for (const name of await readdir(dir)) {
    const type = TYPES[path.extname(name)];
    if (type === undefined) continue;
    out.set(name, { body: await readFile(path.join(dir, name)), type });
  }
  return out;
}
