// Two projects: `unit` needs nothing but Node; `integration` talks to the real Docker daemon and to
// HTTP servers the tests start on 127.0.0.1. Run one with `--project unit` or `--project integration`.
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        extends: true,
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        extends: true,
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/integration/global-setup.ts'],
          testTimeout: 180_000,
          hookTimeout: 300_000,
          // Docker work is heavy on a 2-core machine: files run one at a time, tests inside a file in order.
          fileParallelism: false,
        },
      },
    ],
  },
  root: new URL('..', import.meta.url).pathname,
});
