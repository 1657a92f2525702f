import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/setup/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    pool: 'forks',
    // expect.poll waits for something the code does in its own time (an engine job, a process's
    // log line): on a loaded 2-core machine 1 s (vitest's default) is too short to be sure of.
    expect: { poll: { timeout: 10_000 } },
  },
});
