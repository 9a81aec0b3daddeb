// Global setup of the `opensearch` project: one OpenSearch node (a JVM over
// the Maven Central jars; slow to start, so only this project and the e2e one
// start it, and one JVM serves both when they run together) and an S3 server.
import type { TestProject } from 'vitest/node';
import { info, startAll } from './servers/group.js';
import { startScratch } from './servers/process.js';
import { sharedOpensearch } from './servers/opensearch.js';
import { startS3 } from './servers/s3.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { servers, stop } = await startAll({
    scratch: startScratch,
    opensearch: () => sharedOpensearch(),
    s3: () => startS3(),
  });
  project.provide('opensearch', info(servers.opensearch));
  project.provide('s3', info(servers.s3));
  project.provide('scratchDir', servers.scratch.dir);
  return stop;
}
