import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { chromium, type BrowserContext } from 'playwright-core';
import { CHROMIUM_ARGS, CHROMIUM_PATH } from '../../../scripts/infra/chromium.js';

export interface TestBrowser {
  context: BrowserContext;
  close(): Promise<void>;
}

/**
 * Debian's headless Chromium (installed by `scripts/infra/prepare.ts chromium`) with a fresh
 * profile folder that is removed on close. Never a browser Playwright downloads. `timezoneId`:
 * the zone the pages see as the viewer's (default the machine's).
 */
export async function launchBrowser(opts: { timezoneId?: string } = {}): Promise<TestBrowser> {
  const profile = await mkdtemp(path.join(tmpdir(), 'baton-chromium-'));
  let context: BrowserContext;
  try {
    // Playwright passes the profile on as --user-data-dir.
    context = await chromium.launchPersistentContext(profile, { executablePath: CHROMIUM_PATH, args: [...CHROMIUM_ARGS], headless: true, viewport: { width: 1400, height: 900 }, timeout: 60_000, ...(opts.timezoneId ? { timezoneId: opts.timezoneId } : {}) });
  } catch (err) {
    await rm(profile, { recursive: true, force: true });
    throw new Error(`could not start ${CHROMIUM_PATH} (install it with: npx tsx scripts/infra/prepare.ts chromium): ${(err as Error).message}`, { cause: err });
  }
  return {
    context,
    async close() {
      await context.close();
      await rm(profile, { recursive: true, force: true });
    },
  };
}
