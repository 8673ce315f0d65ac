import { defineConfig } from 'vitest/config';

/**
 * Fault tests not yet reliable enough for `npm test` (see each file's header), run by
 * `npm run test:faults` against the same services as the cluster tests.
 */
export default defineConfig({
  test: {
    include: ['test/**/*.fault.ts'],
    testTimeout: 60_000,
    hookTimeout: 20_000,
    fileParallelism: false,
  },
});
