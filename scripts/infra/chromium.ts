import { access, constants } from 'node:fs/promises';
import { run } from './proc.js';

/** The browser the web tests drive: Debian's package, never a browser downloaded by Playwright. */
export const CHROMIUM_PATH = '/usr/bin/chromium';

/**
 * Flags for a quiet, self-contained headless run: no sandbox (tests run as root in containers),
 * no GPU, and none of the background traffic (updates, sync, QUIC probes) a desktop browser makes.
 * Each launch adds its own fresh `--user-data-dir`.
 */
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
] as const;

async function executable(file: string): Promise<boolean> {
  try {
    await access(file, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

const APT_ENV = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' };
// Another apt run (a parallel prepare, unattended upgrades) holds the lock for a while; wait for it.
const APT_LOCK = ['-o', 'DPkg::Lock::Timeout=600'];

/**
 * Installs Debian's `chromium` package when /usr/bin/chromium is missing (apt keeps the .deb files
 * cached). Returns whether it installed anything. Needs root, as apt does.
 */
export async function ensureChromium(log: (msg: string) => void = () => {}): Promise<{ installed: boolean; path: string }> {
  if (await executable(CHROMIUM_PATH)) return { installed: false, path: CHROMIUM_PATH };
  if (process.getuid?.() !== 0) {
    throw new Error(`chromium: ${CHROMIUM_PATH} is missing and installing it needs root; run: apt-get install -y chromium`);
  }
  const install = ['install', '-y', '--no-install-recommends', ...APT_LOCK, 'chromium'];
  log('installing the Debian chromium package');
  try {
    await run('apt-get', install, { env: APT_ENV });
  } catch {
    // A fresh container has no package lists yet.
    log('refreshing package lists (apt-get update)');
    await run('apt-get', ['update', ...APT_LOCK], { env: APT_ENV });
    await run('apt-get', install, { env: APT_ENV });
  }
  if (!(await executable(CHROMIUM_PATH))) throw new Error(`chromium: apt-get installed the package but ${CHROMIUM_PATH} is not there`);
  return { installed: true, path: CHROMIUM_PATH };
}
