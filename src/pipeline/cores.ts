/**
 * How many cores the process may use: the machine's (os.availableParallelism,
 * which honours CPU affinity) capped by the cgroup's CPU quota, which is what
 * a pod's `resources.limits.cpu` becomes (cgroup v2 `cpu.max`, v1
 * `cpu.cfs_quota_us` / `cpu.cfs_period_us`). A quota of 1.5 cores gives 2:
 * the second thread still gets half a core.
 */
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';

export function availableCores(
  read: (path: string) => string | undefined = readText,
  machine: number = availableParallelism(),
): number {
  const quota = cgroupQuota(read);
  const cores = quota === undefined ? machine : Math.min(machine, Math.ceil(quota));
  return Math.max(1, cores);
}

/** The CPU quota in cores, undefined when there is none. */
export function cgroupQuota(read: (path: string) => string | undefined): number | undefined {
  const v2 = read('/sys/fs/cgroup/cpu.max')?.trim().split(/\s+/);
  if (v2 && v2.length === 2) {
    if (v2[0] === 'max') return undefined;
    const q = Number(v2[0]);
    const p = Number(v2[1]);
    return q > 0 && p > 0 ? q / p : undefined;
  }
  const q = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_quota_us')?.trim());
  const p = Number(read('/sys/fs/cgroup/cpu/cpu.cfs_period_us')?.trim());
  return q > 0 && p > 0 ? q / p : undefined;
}

function readText(path: string): string | undefined {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
}
