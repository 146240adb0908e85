import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // Workers and the CLI run the esbuild bundle; build it once before the suites.
    globalSetup: ['test/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // 2 cores: one fork per core keeps the emulator and trainer tests from starving each other.
    pool: 'forks',
    maxWorkers: 2,
  },
});
