/** The Python client's virtualenv (clients/python), for its tests and its benchmark. */
import path from 'node:path';
import { cachePath, repoRoot } from './paths.js';
import { run } from './proc.js';
import { ensureVenv, type Venv } from './python.js';

/** What the client needs at run time and what its tests and benchmark need besides. */
export const PYTHON_CLIENT_REQUIREMENTS = ['httpx==0.28.1', 'pytest==9.2.0', 'setuptools==80.9.0'] as const;
export const PYTEST_REPORT = path.join(repoRoot, 'test-artifacts', 'pytest-results.xml');

/** The client's virtualenv with the package (re)installed from the working tree. */
export async function ensurePythonClientVenv(log: (msg: string) => void = () => {}): Promise<Venv> {
  const venv = await ensureVenv({ dir: cachePath('venv-client'), requirements: PYTHON_CLIENT_REQUIREMENTS, purpose: "the Python client's tests", log });
  // Offline and quick: the build backend is in the virtualenv already.
  await run(venv.bin('pip'), ['install', '--quiet', '--disable-pip-version-check', '--no-deps', '--no-build-isolation', '--force-reinstall', path.join(repoRoot, 'clients/python')]);
  return venv;
}
