import { execFile } from 'node:child_process';
import path from 'node:path';
import { repoRoot } from './paths.js';

/**
 * Makes sure the compiled `baton` and `sel` programs (packages/<pkg>/dist, what the bins run) are
 * at least as new as their sources: runs `node scripts/build.js --if-stale`, which builds only
 * when a source changed since the last build (esbuild needs about a second). Resolves to what it
 * did, one line per program.
 */
export async function ensureBuilt(): Promise<string[]> {
  return new Promise((resolve, reject) =>
    execFile(process.execPath, [path.join(repoRoot, 'scripts/build.js'), '--if-stale'], { cwd: repoRoot, timeout: 120_000 }, (err, stdout, stderr) =>
      err ? reject(new Error(`building the bins failed: ${stderr || err.message}`)) : resolve(stdout.split('\n').filter(Boolean)),
    ),
  );
}
