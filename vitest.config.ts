import { availableParallelism } from 'node:os';
import { defineConfig } from 'vitest/config';

// Five projects. `unit` needs nothing; the others start real servers in their
// global setup (test/env/setup-*.ts) from binaries that `make testenv` built.
export default defineConfig({
  test: {
    // Most of a test file's time is spent waiting on servers (the
    // kube-apiserver, the CronJob controller, PostgreSQL, S3), not on the CPU,
    // so files run at least three at a time even on a 2-core machine (vitest's
    // default there is one). The e2e project runs its files one at a time,
    // after the others, on the machine to itself.
    maxWorkers: Math.max(3, availableParallelism()),
    projects: [
      {
        test: {
          name: 'unit',
          include: ['test/unit/**/*.test.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/env/setup-integration.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'kube',
          include: ['test/kube/**/*.test.ts'],
          globalSetup: ['test/env/setup-kube.ts'],
          testTimeout: 180_000,
          hookTimeout: 180_000,
        },
      },
      {
        test: {
          name: 'opensearch',
          include: ['test/opensearch/**/*.test.ts'],
          globalSetup: ['test/env/setup-opensearch.ts'],
          testTimeout: 300_000,
          hookTimeout: 300_000,
        },
      },
      {
        // A real single-node Kubernetes (test/env/node.sh): the images, the
        // chart, backups run by the CronJob controller and the kubelet. Files
        // run one at a time (one node, one chart release per file).
        test: {
          name: 'e2e',
          include: ['test/e2e/**/*.test.ts'],
          globalSetup: ['test/env/setup-e2e.ts'],
          fileParallelism: false,
          testTimeout: 300_000,
          hookTimeout: 600_000,
        },
      },
    ],
  },
});
