// The e2e suite's real Kubernetes node (test/env/node.sh) and its images
// (test/env/images.sh), driven from a global setup. The shell scripts own the
// processes and the host-wide state, so that the same stop runs from the
// teardown, from a signal handler, by hand, and as the sweep at the next start
// after a run that was killed.
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdir, readFile, symlink } from 'node:fs/promises';
import { join } from 'node:path';
import { binaries, cacheDir, envDir } from '../paths.js';
import type { KubeInfo } from './kube.js';
import { makeTempDir, removeDir, withCleanup } from './process.js';

/** The node's address on the host (node-env.sh): pods reach host servers here. */
export const NODE_IP = '10.200.0.1';

export interface NodeInfo extends KubeInfo {
  /** the images the chart and the dumpers run (test/env/images.sh) */
  images: {
    repository: string;
    tag: string;
    postgresServer: string;
    mariadbServer: string;
  };
  /** the node's run directory (logs of every component in logs/) */
  runDir: string;
}

/** The script running now (images.sh, node.sh start), for the signal handler. */
let current: ChildProcess | undefined;

/**
 * Runs a script of test/env with its output on our stderr (progress in the
 * run's log), in a process group of its own: a signal handler ends it, and
 * all it started in its group, before the node's stop runs.
 */
function script(name: string, args: string[]): Promise<void> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(join(envDir, name), args, {
      stdio: ['ignore', 'inherit', 'inherit'],
      detached: true,
    });
    current = child;
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      if (current === child) current = undefined;
      if (code === 0) resolveRun();
      else reject(new Error(`test/env/${name} ${args.join(' ')}: exit ${code ?? signal}`));
    });
  });
}

/**
 * Ends the running script, synchronously (a signal handler cannot wait for
 * an event): SIGTERM to its process group, so that images.sh's trap stops the
 * image builder and a half-done node.sh start stops starting things before
 * the stop sweeps them; SIGKILL after 60 s. A child that exited stays a
 * zombie until the event loop reaps it, hence the state check.
 */
function endScriptSync(): void {
  const pid = current?.pid;
  if (pid === undefined || current?.exitCode !== null) return;
  try {
    process.kill(-pid, 'SIGTERM');
  } catch {
    return; // gone already
  }
  spawnSync(
    'bash',
    [
      '-c',
      `for _ in $(seq 600); do grep -qs '^State:[[:space:]]*[^Z]' /proc/${pid}/status || exit 0; sleep 0.1; done; kill -9 -- -${pid}`,
    ],
    { stdio: 'ignore' },
  );
}

/** The node's stop, synchronous: for signal handlers and process exit. */
export function stopNodeSync(): void {
  spawnSync(join(envDir, 'node.sh'), ['stop'], { stdio: ['ignore', 'inherit', 'inherit'] });
}

let signalsHooked = false;
/**
 * A Ctrl-C or a CI's SIGTERM while the node runs: stop it before exiting
 * (a SIGKILL cannot be caught; the next start's sweep handles that).
 */
function stopOnSignals(): void {
  if (signalsHooked) return;
  signalsHooked = true;
  for (const sig of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    process.once(sig, () => {
      console.error(`[testenv] ${sig}: stopping the e2e node`);
      endScriptSync();
      stopNodeSync();
      process.exit(128 + (sig === 'SIGINT' ? 2 : sig === 'SIGTERM' ? 15 : 1));
    });
  }
}

export function startNode(): Promise<NodeInfo & { stop(): Promise<void> }> {
  return withCleanup(async (onStop) => {
    const kubectl = binaries.kubectl();
    const helm = binaries.helm();
    stopOnSignals();
    await script('images.sh', []);
    onStop(() => script('node.sh', ['stop']));
    await script('node.sh', ['start']);

    const runDir = join(cacheDir(), 'node-run');
    const pki = join(runDir, 'pki');
    const caFile = join(pki, 'ca.crt');
    const caData = (await readFile(caFile)).toString('base64');
    const token = (await readFile(join(pki, 'admin.token'), 'utf8')).trim();
    const dir = await makeTempDir('node');
    onStop(() => removeDir(dir));
    const binDir = join(dir, 'bin');
    await mkdir(binDir);
    await symlink(kubectl, join(binDir, 'kubectl'));
    await symlink(helm, join(binDir, 'helm'));
    const version = JSON.parse(
      (await readFile(join(envDir, '..', '..', 'package.json'), 'utf8')) as string,
    ) as { version: string };
    return {
      server: `https://${NODE_IP}:6443`,
      token,
      caFile,
      caData,
      kubeconfig: join(pki, 'admin.kubeconfig'),
      binDir,
      etcd: 'http://127.0.0.1:23790',
      version: 'v1.34.4',
      runDir,
      images: {
        repository: 'snapkeeper.local',
        tag: `${version.version}-e2e`,
        postgresServer: 'snapkeeper.local/postgresql-server:15',
        mariadbServer: 'snapkeeper.local/mariadb-server:10.11',
      },
    };
  });
}
