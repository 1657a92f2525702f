import path from 'node:path';
import { cachePath, makeRunDir } from './paths.js';
import { freePort, ServerProcess } from './proc.js';
import { ensureVenv } from './python.js';
import { manageProcess, type ManagedServer } from './server.js';

export const MOTO_VERSION = '5.2.5';
const REQUIREMENT = `moto[server]==${MOTO_VERSION}`;

export interface MotoVenv {
  /** The `moto_server` executable inside the virtualenv. */
  motoServer: string;
  /** True when this call created the virtualenv (a cold cache). */
  installed: boolean;
}

/** Creates `.cache/venv` with moto's server installed from PyPI; reused while the pin is unchanged. */
export async function ensureMotoVenv(log: (msg: string) => void = () => {}): Promise<MotoVenv> {
  const venv = await ensureVenv({ dir: cachePath('venv'), requirements: [REQUIREMENT], purpose: 'the SNS emulator (moto)', log, marker: 'moto_server' });
  return { motoServer: venv.bin('moto_server'), installed: venv.installed };
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
