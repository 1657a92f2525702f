// `npm run build` (also run by `npm ci`/`npm install` through `prepare`): bundles the `baton` and
// `sel` command lines into packages/<pkg>/dist/ with esbuild, so the bins run plain JavaScript
// instead of compiling TypeScript with tsx at every start.
//
//   node scripts/build.js            build
//   node scripts/build.js --if-stale build only when a source is newer than the last build
//   node scripts/build.js --check    exit 1 (saying why) when the build is missing or stale
//
// Plain JavaScript on purpose: `prepare` runs before any TypeScript tooling can be assumed.
import { mkdir, readFile, readdir, rename, stat, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';

const root = fileURLToPath(new URL('..', import.meta.url));

/** What is built: one entry (the bin's program) per package, its chunks beside it. */
export const TARGETS = [
  { name: 'baton', entry: 'packages/server/src/cli/bin.ts', outdir: 'packages/server/dist', extra: { 'sel-worker': 'packages/engine-core/src/sel-pool/sel-worker.ts' } },
  { name: 'sel', entry: 'packages/sel/src/cli/bin.ts', outdir: 'packages/sel/dist' },
];

/** Written last into each outdir: the build's time and the files it was made from. */
const STAMP = 'build-inputs.json';
/** Chunks a newer build no longer uses are removed once they are this old (a running process may still import them). */
const OLD_CHUNK_MS = 10 * 60_000;

/**
 * Pure-JavaScript packages that are bundled: they are made of many small modules (lodash-es alone
 * is hundreds of files), and opening each one costs more at start-up than the code itself.
 */
const BUNDLED = [/^chevrotain$/, /^@chevrotain\//, /^lodash-es(\/|$)/];

/**
 * Other third-party packages stay imports of node_modules (they load what they need at run time:
 * PGlite its wasm, pino its workers, the swagger UI its static files); Baton's own TypeScript,
 * including the @baton/* workspaces, is bundled.
 */
export const externalPackages = {
  name: 'external-packages',
  setup(build) {
    build.onResolve({ filter: /^[^./]/ }, (args) => {
      if (args.kind === 'entry-point' || args.path.startsWith('@baton/') || BUNDLED.some((re) => re.test(args.path))) return undefined;
      return { path: args.path, external: true };
    });
  },
};

/**
 * `import.meta.url` keeps naming the source file it is written in (migrations and web assets are
 * found relative to it): every output file lands in the one outdir, so the source's path relative
 * to that directory is the same from every chunk.
 */
function sourceRelativeMetaUrl(outdir) {
  return {
    name: 'source-relative-import-meta-url',
    setup(build) {
      build.onLoad({ filter: /\.ts$/ }, async (args) => {
        const text = await readFile(args.path, 'utf8');
        if (!text.includes('import.meta.url')) return undefined;
        const rel = path.relative(outdir, args.path).split(path.sep).join('/');
        return { contents: text.replaceAll('import.meta.url', `new URL(${JSON.stringify(rel)}, import.meta.url).href`), loader: 'ts' };
      });
    },
  };
}

/** Replaces a file in one step, so a process starting meanwhile reads the old or the new file, never half of one. */
async function writeAtomically(file, contents) {
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, contents);
  await rename(tmp, file);
}

async function buildTarget(target) {
  const outdir = path.join(root, target.outdir);
  await mkdir(outdir, { recursive: true });
  // Stamped with the time it started: a source saved while esbuild reads makes the next check rebuild.
  const startedAt = Date.now();
  const result = await esbuild.build({
    absWorkingDir: root,
    entryPoints: { [target.name]: path.join(root, target.entry), ...Object.fromEntries(Object.entries(target.extra ?? {}).map(([n, e]) => [n, path.join(root, e)])) },
    outdir,
    entryNames: '[name]',
    chunkNames: 'chunk-[hash]',
    bundle: true,
    splitting: true,
    format: 'esm',
    platform: 'node',
    target: 'node20',
    sourcemap: 'linked',
    legalComments: 'none',
    metafile: true,
    write: false,
    logLevel: 'warning',
    plugins: [externalPackages, sourceRelativeMetaUrl(outdir)],
  });
  // Chunks first, then maps, the entry last: whoever loads the new entry finds its chunks.
  const files = [...result.outputFiles].sort((a, b) => rank(a.path, target) - rank(b.path, target));
  for (const f of files) await writeAtomically(f.path, f.contents);
  const written = new Set(files.map((f) => path.basename(f.path)));
  const now = Date.now();
  for (const name of await readdir(outdir)) {
    if (written.has(name) || name === STAMP || !name.startsWith('chunk-')) continue;
    const file = path.join(outdir, name);
    const s = await stat(file).catch(() => undefined);
    if (s && now - s.mtimeMs > OLD_CHUNK_MS) await unlink(file).catch(() => {});
  }
  const inputs = Object.keys(result.metafile.inputs).filter((p) => !p.startsWith('node_modules/')).map((p) => path.relative(root, path.resolve(root, p)));
  await writeAtomically(path.join(outdir, STAMP), `${JSON.stringify({ builtAt: new Date(startedAt).toISOString(), inputs }, null, 1)}\n`);
  return { files: files.length, bytes: files.reduce((n, f) => n + (f.path.endsWith('.js') ? f.contents.length : 0), 0) };
}

function rank(file, target) {
  const base = path.basename(file);
  if (base === `${target.name}.js`) return 2;
  return base.endsWith('.map') ? 1 : 0;
}

/** Why a target must be rebuilt, or undefined when its build is newer than everything it was made from. */
export async function staleReason(target) {
  const outdir = path.join(root, target.outdir);
  let stamp;
  try {
    stamp = JSON.parse(await readFile(path.join(outdir, STAMP), 'utf8'));
  } catch {
    return `${target.outdir} has not been built`;
  }
  const builtAt = Date.parse(stamp.builtAt);
  // The package manifests (exports, workspaces) and this script shape the build as much as the sources do.
  const manifests = (await readdir(path.join(root, 'packages'))).map((p) => `packages/${p}/package.json`);
  const extra = ['package.json', 'package-lock.json', 'scripts/build.js', 'tsconfig.json', ...manifests];
  for (const rel of [...stamp.inputs, ...extra]) {
    const s = await stat(path.join(root, rel)).catch(() => undefined);
    if (!s) return `${rel} is gone since the last build`;
    if (s.mtimeMs > builtAt) return `${rel} changed after the last build`;
  }
  return undefined;
}

/** Builds every target (or only the stale ones with `ifStale`); resolves to what was done, one line per target. */
export async function build({ ifStale = false } = {}) {
  const lines = [];
  for (const target of TARGETS) {
    const reason = ifStale ? await staleReason(target) : 'asked to';
    if (!reason) {
      lines.push(`${target.name}: up to date`);
      continue;
    }
    const t0 = performance.now();
    const r = await buildTarget(target);
    lines.push(`${target.name}: built ${target.outdir} (${r.files} files, ${(r.bytes / 1024).toFixed(0)} KiB of JavaScript) in ${Math.round(performance.now() - t0)} ms${ifStale ? `; ${reason}` : ''}`);
  }
  return lines;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const args = process.argv.slice(2);
  if (args.includes('--check')) {
    const reasons = (await Promise.all(TARGETS.map(staleReason))).filter(Boolean);
    for (const r of reasons) console.error(`build is stale: ${r}; run "npm run build"`);
    process.exitCode = reasons.length ? 1 : 0;
  } else {
    for (const line of await build({ ifStale: args.includes('--if-stale') })) console.log(line);
  }
}
