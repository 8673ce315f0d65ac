import { defineConfig } from 'vitest/config';

/** Fault tests not yet reliable enough for `npm test` (see each file's header): `npm run test:faults`. */
export default defineConfig({
  test: {
    include: ['test/faults/**/*.fault.ts'],
    testTimeout: 60_000,
    hookTimeout: 20_000,
    fileParallelism: false,
  },
});
