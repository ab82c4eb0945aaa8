import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: { name: 'unit', include: ['test/unit/**/*.test.ts'], pool: 'forks' },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts', 'test/e2e/**/*.test.ts'],
          pool: 'forks',
          // One file at a time: each starts its own dev server and trains models on 2 cores.
          poolOptions: { forks: { singleFork: true } },
          testTimeout: 600_000,
          hookTimeout: 300_000,
        },
      },
    ],
  },
});
