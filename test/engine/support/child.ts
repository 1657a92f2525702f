import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { spawnTsx, type TsxChild } from '../../support/tsx-process.js';

const script = path.join(path.dirname(fileURLToPath(import.meta.url)), 'engine-process.ts');

export type EngineChild = TsxChild;

/** Starts `engine-process.ts` under tsx as a separate OS process. */
export function spawnEngine(args: string[]): EngineChild {
  return spawnTsx(script, args);
}
