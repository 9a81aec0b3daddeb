// Global setup of the `kube` project: a control plane without nodes (etcd,
// kube-apiserver, kube-controller-manager) and an S3 server.
import type { TestProject } from 'vitest/node';
import { info, startAll } from './servers/group.js';
import { startScratch } from './servers/process.js';
import { startKube } from './servers/kube.js';
import { startS3 } from './servers/s3.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const { servers, stop } = await startAll({
    scratch: startScratch,
    kube: () => startKube(),
    s3: () => startS3(),
  });
  project.provide('kube', info(servers.kube));
  project.provide('s3', info(servers.s3));
  project.provide('scratchDir', servers.scratch.dir);
  return stop;
}
