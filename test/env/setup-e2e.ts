// Global setup of the `e2e` project: the images built (test/env/images.sh),
// a real single-node Kubernetes started (test/env/node.sh), then an S3 server
// on the node's IP (pods cannot reach the host's 127.0.0.1; the address
// exists once the node is up), and OpenSearch: the one the `opensearch`
// project started when both run (one JVM), else its own, started while the
// node comes up; pods reach it through a forwarder on the node's IP.
// Everything is stopped and the node's host-wide state removed at teardown,
// pass or fail.
import type { TestProject } from 'vitest/node';
import { forwardTcp } from './servers/forward.js';
import { info, startAll } from './servers/group.js';
import { NODE_IP, startNode } from './servers/node.js';
import { sharedOpensearch } from './servers/opensearch.js';
import { startScratch } from './servers/process.js';
import { startS3 } from './servers/s3.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const opensearch = sharedOpensearch();
  opensearch.catch(() => {}); // awaited below; a failure is reported there
  let node;
  try {
    node = await startNode();
  } catch (err) {
    await opensearch.then((os) => os.stop()).catch(() => {});
    throw err;
  }
  let servers;
  try {
    servers = await startAll({
      scratch: startScratch,
      s3: () => startS3({ host: NODE_IP }),
      opensearch: () => opensearch,
      forward: async () => {
        const upstream = new URL((await opensearch).url);
        return forwardTcp(NODE_IP, { host: upstream.hostname, port: Number(upstream.port) });
      },
    });
  } catch (err) {
    await node.stop().catch(() => {});
    throw err;
  }
  const { images, runDir, ...kube } = info(node);
  const s = servers.servers;
  project.provide('kube', kube);
  project.provide('node', { images, runDir });
  project.provide('s3', info(s.s3));
  project.provide('opensearch', {
    ...info(s.opensearch),
    nodeUrl: `http://${s.forward.host}:${s.forward.port}`,
  });
  project.provide('scratchDir', s.scratch.dir);
  return async () => {
    try {
      await servers.stop();
    } finally {
      await node.stop();
    }
  };
}
