import { OperationError, SnapkeeperError, UserError } from '../errors.js';
import { jobResult } from '../status/result.js';
import { formatBytes } from '../pipeline/progress.js';
import { formatDuration } from '../status/format.js';
import { kubeTriggerApi, parseWorkloadRef, triggerBackup, waitForJob } from './trigger-job.js';
import type { CliContext } from './context.js';
import type { ClusterOptions } from './flags.js';
import { apiError, clusterFor } from './status.js';

export interface TriggerOptions extends ClusterOptions {
  wait?: boolean;
  timeout?: string;
}

/** `snapkeeper trigger <namespace>/<workload>`: a Job from its CronJob, followed with --wait. */
export async function trigger(ref: string, opts: TriggerOptions, ctx: CliContext): Promise<void> {
  const workload = parseWorkloadRef(ref);
  let timeoutMs: number | undefined;
  if (opts.timeout !== undefined) {
    const n = Number(opts.timeout);
    if (!Number.isFinite(n) || n <= 0) {
      throw new UserError(`--timeout must be a positive number of seconds`);
    }
    timeoutMs = n * 1000;
  }
  const { kc, namespace } = clusterFor(opts, ctx);
  const api = kubeTriggerApi(kc);
  let job;
  try {
    job = await triggerBackup(api, namespace, workload, new Date());
  } catch (err) {
    if (err instanceof SnapkeeperError) throw err;
    throw apiError(err, `cannot trigger ${ref}`);
  }
  const name = job.metadata?.name ?? '';
  ctx.stdout.write(`${name}\n`);
  if (!opts.wait) return;

  const signals = [ctx.signal];
  if (timeoutMs !== undefined) signals.push(AbortSignal.timeout(timeoutMs));
  let finished;
  try {
    finished = await waitForJob(api, namespace, name, AbortSignal.any(signals));
  } catch (err) {
    if (err instanceof SnapkeeperError) {
      throw new OperationError(`job ${name}: ${err.message}${timeoutMs ? ' (timeout)' : ''}`);
    }
    throw apiError(err, `cannot follow job ${name}`);
  }
  const result = jobResult(finished, await api.listPods(finished).catch(() => []));
  if (!result?.ok) {
    throw new OperationError(`backup failed: ${result?.reason ?? 'unknown reason'} (job ${name})`);
  }
  const details = [
    result.bytes !== undefined ? formatBytes(result.bytes) : undefined,
    result.durationSeconds !== undefined
      ? `in ${formatDuration(result.durationSeconds)}`
      : undefined,
    result.key,
  ].filter(Boolean);
  ctx.stdout.write(`succeeded${details.length ? `: ${details.join(' ')}` : ''}\n`);
}
