import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Rebuilds dist/ (the worker and CLI the tests run) when src/ is newer: see the file.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    // The CLI's stderr is JSON lines when it is not a terminal; the suites read the text form
    // (test/logs.test.ts checks both, and the default).
    env: { SHELFCAST_LOG_FORMAT: 'text' },
  },
});
