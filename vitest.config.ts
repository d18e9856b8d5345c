import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      { extends: true, test: { name: 'memory', include: ['test/memory.test.ts', 'test/memory/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/redis.test.ts', 'test/redis/**/*.test.ts'],
          globalSetup: ['test/helpers/redis-global-setup.ts'],
        },
      },
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
  },
});
