import { defineConfig } from 'vitest/config';

// The fault suite (test/faults/, `npm run test:faults`) starts its own redis-servers and worker
// processes and runs for tens of seconds (FAULTS_SCALE=full: many minutes), so it is not part of
// `npm test`: the `faults` project exists only when asked for (`--project faults` or FAULTS=1).
const argv = process.argv.slice(2);
const wantFaults =
  process.env.FAULTS === '1' ||
  argv.some((a, i) => a === '--project=faults' || (a === '--project' && argv[i + 1] === 'faults'));

export default defineConfig({
  test: {
    projects: [
      { extends: true, test: { name: 'unit', include: ['test/unit/**/*.test.ts'] } },
      {
        extends: true,
        test: { name: 'memory', include: ['test/memory.test.ts', 'test/memory/**/*.test.ts'] },
      },
      { extends: true, test: { name: 'http', include: ['test/http/**/*.test.ts'] } },
      {
        extends: true,
        test: {
          name: 'cli',
          include: ['test/cli/**/*.test.ts'],
          // The tests spawn the built binary (dist/cli/main.js): build once before they run.
          globalSetup: ['test/cli/global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'browser',
          include: ['test/browser/**/*.test.ts'],
          // The tests load the built dashboard: build it first when missing or out of date. One
          // suite also runs on Redis (the redis project's setup starts a throwaway redis-server).
          globalSetup: ['test/browser/global-setup.ts', 'test/helpers/redis-global-setup.ts'],
          testTimeout: 60_000,
        },
      },
      {
        extends: true,
        test: {
          name: 'redis',
          include: ['test/redis.test.ts', 'test/redis/**/*.test.ts'],
          globalSetup: ['test/helpers/redis-global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'archive',
          include: ['test/archive/**/*.test.ts'],
          // A throw-away PostgreSQL database for the run (DATABASE_URL or the local server), and a
          // throwaway redis-server: the archive runs on both backends.
          globalSetup: ['test/helpers/redis-global-setup.ts', 'test/helpers/pg-global-setup.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: ['test/cluster/**/*.test.ts'],
          // A real local Redis Cluster (3 masters, 3 replicas), started once for the project.
          globalSetup: ['test/helpers/redis-cluster-global-setup.ts'],
          hookTimeout: 60_000,
        },
      },
      ...(wantFaults
        ? [
            {
              extends: true as const,
              test: {
                name: 'faults',
                include: ['test/faults/**/*.test.ts'],
                // One scenario at a time: each runs its own redis-server and worker processes, and
                // their timings are what is measured.
                fileParallelism: false,
                testTimeout: 30 * 60_000,
                hookTimeout: 60_000,
              },
            },
          ]
        : []),
    ],
    testTimeout: 20_000,
    hookTimeout: 30_000,
    // `expect.poll` waits up to 10 s (vitest's default is 1 s): a poll fails only when its condition
    // never holds, and on a loaded 2-core CI machine a worker, a Redis round trip or a page render
    // can take longer than a second to get there.
    expect: { poll: { timeout: 10_000 } },
  },
});
