import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Integration and e2e files start their own local stack on ephemeral ports, so files may run in
    // parallel; two cores is the machine size, so keep the pool small.
    pool: 'forks',
    maxWorkers: 2,
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // The second file is the suite-wide leak scanner (test/support/leaks/setup.ts): every file's logs,
    // response bodies and audit writes are scanned for secrets after the file.
    setupFiles: ['test/support/setup.ts', 'test/support/leaks/setup.ts'],
    // Builds dist/cli/ (the `vend` bin) when its sources changed since the last build.
    globalSetup: ['test/support/build-cli.ts'],
  },
});
