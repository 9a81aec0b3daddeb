import { defineConfig } from 'vitest/config';

// Five projects. `unit` needs nothing; the others start real servers in their
// global setup (test/env/setup-*.ts) from binaries that `make testenv` built.
export default defineConfig({
  test: {
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
