import type { Command } from 'commander';
import { OperationError, SnapkeeperError, UserError } from '../errors.js';
import { jobResult } from '../status/result.js';
import { formatBytes, formatDuration } from '../status/format.js';
import { kubeTriggerApi, parseWorkloadRef, triggerBackup, waitForJob } from '../status/trigger.js';
import type { CliContext } from './context.js';
import { addClusterOptions, apiError, clusterFor, type ClusterOptions } from './status.js';

interface TriggerOptions extends ClusterOptions {
  wait?: boolean;
  timeout?: string;
}

export function register(program: Command, ctx: CliContext): void {
  addClusterOptions(
    program
      .command('trigger')
      .description('run a workload backup now, as a Job made from its CronJob')
      .argument('<workload>', '<namespace>/<workload>')
      .option('-w, --wait', 'follow the Job to its end; exit 0 on success, 1 on failure')
      .option('--timeout <seconds>', 'with --wait: give up after this many seconds'),
  ).action(async (ref: string, opts: TriggerOptions) => {
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
      throw new OperationError(
        `backup failed: ${result?.reason ?? 'unknown reason'} (job ${name})`,
      );
    }
    const details = [
      result.bytes !== undefined ? formatBytes(result.bytes) : undefined,
      result.durationSeconds !== undefined
        ? `in ${formatDuration(result.durationSeconds)}`
        : undefined,
      result.key,
    ].filter(Boolean);
    ctx.stdout.write(`succeeded${details.length ? `: ${details.join(' ')}` : ''}\n`);
  });
}
