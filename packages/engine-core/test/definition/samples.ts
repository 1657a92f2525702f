import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** `../shared/maestro-samples/` next to the repository: the read-only compatibility suite. */
export const SAMPLES_DIR = path.resolve(fileURLToPath(new URL('../../../..', import.meta.url)), '../shared/maestro-samples');

export function sampleFiles(sub: string, ext: string): string[] {
  return readdirSync(path.join(SAMPLES_DIR, sub))
    .filter((f) => f.endsWith(ext))
    .sort()
    .map((f) => path.join(SAMPLES_DIR, sub, f));
}

export function readSample(file: string): string {
  return readFileSync(file, 'utf8');
}
