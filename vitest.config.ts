import { configDefaults, defineConfig } from 'vitest/config';

/**
 * Tests that run three Parley processes against the shared PostgreSQL and Redis, with leases of a
 * second, and one that stops PostgreSQL: they run after everything else, one file at a time, so
 * no other test shares the machine or the database with them.
 */
const CLUSTER_PROCESS_TESTS = [
  'test/cluster.test.ts',
  'test/cluster-faults.test.ts',
  'test/cluster-fencing.test.ts',
  'test/cluster-storm.test.ts',
  'test/cluster-owner-pause.test.ts',
  'test/cluster-redis-pause.test.ts',
  'test/cluster-members.test.ts',
];

export default defineConfig({
  test: {
    testTimeout: 20_000,
    hookTimeout: 20_000,
    projects: [
      {
        extends: true,
        test: {
          name: 'parley',
          include: [
            'src/**/*.test.ts',
            'actors/**/*.test.ts',
            'streams/**/*.test.ts',
            'test/**/*.test.ts',
          ],
          exclude: [...configDefaults.exclude, ...CLUSTER_PROCESS_TESTS],
          sequence: { groupOrder: 0 },
        },
      },
      {
        extends: true,
        test: {
          name: 'cluster',
          include: CLUSTER_PROCESS_TESTS,
          fileParallelism: false,
          sequence: { groupOrder: 1 },
        },
      },
    ],
  },
});
