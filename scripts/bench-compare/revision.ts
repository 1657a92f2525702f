/**
 * A comparison side given as a git revision instead of a worktree: checked out (detached) under
 * .cache/bench-compare/<commit>, reused by later runs, with a node_modules of links to this
 * worktree's packages except Baton's own workspaces, which link to the checkout's packages.
 * Remove one with `git worktree remove .cache/bench-compare/<commit>`.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, statSync, symlinkSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** `spec` itself when it is a directory; else the worktree of git revision `spec`, made on first use. */
export function worktreeFor(spec: string, log: (s: string) => void): string {
  if (existsSync(spec) && statSync(spec).isDirectory()) return path.resolve(spec);
  const git = (...args: string[]) => execFileSync('git', args, { cwd: root, encoding: 'utf8' }).trim();
  let commit: string;
  try {
    commit = git('rev-parse', '--verify', `${spec}^{commit}`);
  } catch {
    throw new Error(`${spec}: neither a directory nor a git revision`);
  }
  const dir = path.join(root, '.cache/bench-compare', commit);
  if (!existsSync(path.join(dir, 'package.json'))) {
    log(`checking out ${spec} (${commit.slice(0, 10)}) into ${path.relative(root, dir)}`);
    mkdirSync(path.dirname(dir), { recursive: true });
    git('worktree', 'add', '--detach', dir, commit);
  }
  const modules = path.join(dir, 'node_modules');
  if (!existsSync(modules)) {
    mkdirSync(path.join(modules, '@baton'), { recursive: true });
    for (const name of readdirSync(path.join(root, 'node_modules'))) {
      if (name !== '@baton') symlinkSync(path.join(root, 'node_modules', name), path.join(modules, name));
    }
    for (const pkg of readdirSync(path.join(dir, 'packages'))) {
      const manifest = path.join(dir, 'packages', pkg, 'package.json');
      if (!existsSync(manifest)) continue;
      const name = (JSON.parse(readFileSync(manifest, 'utf8')) as { name: string }).name;
      if (name.startsWith('@baton/')) symlinkSync(path.join('..', '..', 'packages', pkg), path.join(modules, name));
    }
  }
  if (readFileSync(path.join(dir, 'package-lock.json'), 'utf8') !== readFileSync(path.join(root, 'package-lock.json'), 'utf8')) {
    log(`warning: ${spec}'s package-lock.json differs from this worktree's; its third-party packages are this worktree's`);
  }
  return dir;
}
