import { existsSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cachePath, makeRunDir } from './paths.js';
import { freePort, onPath, run, ServerProcess } from './proc.js';
import { manageProcess, type ManagedServer } from './server.js';

export const MOTO_VERSION = '5.2.5';
const REQUIREMENT = `moto[server]==${MOTO_VERSION}`;

export interface MotoVenv {
  /** The `moto_server` executable inside the virtualenv. */
  motoServer: string;
  /** True when this call created the virtualenv (a cold cache). */
  installed: boolean;
}

async function findPython(): Promise<string> {
  for (const py of ['python3', 'python']) if (await onPath(py)) return py;
  throw new Error('Python 3 is needed for the SNS emulator (moto): install it (apt-get install python3 python3-venv)');
}

/** Creates `.cache/venv` with moto's server installed from PyPI; reused while the pin is unchanged. */
export async function ensureMotoVenv(log: (msg: string) => void = () => {}): Promise<MotoVenv> {
  const venv = cachePath('venv');
  const motoServer = path.join(venv, 'bin', 'moto_server');
  const stamp = path.join(venv, '.baton-requirement');
  if (existsSync(motoServer) && existsSync(stamp) && (await readFile(stamp, 'utf8')).trim() === REQUIREMENT) {
    return { motoServer, installed: false };
  }
  const python = await findPython();
  await rm(venv, { recursive: true, force: true });
  log(`creating virtualenv ${venv}`);
  await run(python, ['-m', 'venv', venv]).catch((err: unknown) => {
    throw new Error(`could not create a Python virtualenv (on Debian: apt-get install python3-venv): ${(err as Error).message}`, { cause: err });
  });
  log(`pip install ${REQUIREMENT}`);
  await run(path.join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', REQUIREMENT]);
  await writeFile(stamp, REQUIREMENT);
  return { motoServer, installed: true };
}

export interface SnsServer extends ManagedServer {
  /** Endpoint URL for AWS SDK clients (`endpoint` option); any credentials are accepted. */
  readonly endpoint: string;
  readonly port: number;
  readonly region: string;
}

export interface StartSnsOptions {
  port?: number;
  log?: (msg: string) => void;
}

async function answers(endpoint: string): Promise<boolean> {
  const res = await fetch(`${endpoint}/moto-api/`, { signal: AbortSignal.timeout(2000) });
  return res.ok;
}

/**
 * Starts moto's server (the AWS API emulator) on 127.0.0.1. Its state lives in memory: a restart
 * forgets topics and subscriptions.
 */
export async function startSns(opts: StartSnsOptions = {}): Promise<SnsServer> {
  const { motoServer } = await ensureMotoVenv(opts.log);
  const runDir = await makeRunDir('sns');
  const port = opts.port ?? (await freePort());
  const endpoint = `http://127.0.0.1:${port}`;
  const server = await manageProcess({
    name: 'moto',
    async launch() {
      const proc = ServerProcess.start({
        name: 'moto (SNS)',
        cmd: motoServer,
        args: ['-H', '127.0.0.1', '-p', String(port)],
        logFile: path.join(runDir, 'moto.log'),
        env: { ...process.env, PYTHONUNBUFFERED: '1' },
      });
      await proc.waitUntilReady(() => answers(endpoint), 60_000);
      return proc;
    },
    cleanSignal: 'SIGTERM',
    killSignal: 'SIGKILL',
    stopGraceMs: 10_000,
    dataDir: runDir,
  });
  return Object.assign(server, { endpoint, port, region: 'us-east-1' });
}
