import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Integration tests start their own brokers and databases on free ports; two workers suit a 2-core box.
    maxWorkers: 2,
  },
});
