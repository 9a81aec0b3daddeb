import type { Command } from 'commander';
import { ConfigError, UserError } from '../errors.js';
import type { CliContext } from './context.js';

export interface OperatorFlags {
  kubeconfig?: string;
}

/**
 * `snapkeeper operator`: configuration from the environment (one line per
 * problem, exit 2), the cluster from --kubeconfig / KUBECONFIG or the
 * in-cluster ServiceAccount; runs until SIGTERM/SIGINT, then stops cleanly
 * (in-flight reconciles finish, the Lease is released).
 *
 * Registered from here, as the images run it; what it runs (the
 * controller, the Kubernetes client) is imported when it starts.
 */
export function register(program: Command, ctx: CliContext): void {
  program
    .command('operator')
    .description('run the controller (in cluster, or out of cluster with a kubeconfig)')
    .option(
      '--kubeconfig <path>',
      'kubeconfig to use out of cluster (default: KUBECONFIG, else in-cluster)',
    )
    .action((flags: OperatorFlags) => runOperatorCommand(flags, ctx));
}

export async function runOperatorCommand(flags: OperatorFlags, ctx: CliContext): Promise<void> {
  const { loadOperatorConfig } = await import('../config/operator.js');
  let config;
  try {
    config = loadOperatorConfig(ctx.env);
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    for (const problem of err.problems) ctx.stderr.write(`snapkeeper: ${problem}\n`);
    throw new UserError(`invalid operator configuration (${err.problems.length} problem(s) above)`);
  }
  // Only a valid configuration loads the cluster client and the controller.
  // Read without client-node's KubeConfig: the operator needs none of its
  // generated API classes, which cost about 70 MiB of RSS to load.
  const { loadKubeAccess } = await import('../kube/access.js');
  const kubeConfig = await loadKubeAccess({ kubeconfig: flags.kubeconfig, env: ctx.env });
  const log = ctx.log.child({ component: 'operator' });
  if (ctx.signal.aborted) return;

  const { startOperator } = await import('../controller/run.js');
  const running = await startOperator({ config, kubeConfig, log, signal: ctx.signal });
  if (!ctx.signal.aborted) {
    await new Promise<void>((resolve) =>
      ctx.signal.addEventListener('abort', () => resolve(), { once: true }),
    );
  }
  log.info('shutting down', { reason: String(ctx.signal.reason ?? 'signal') });
  await running.stop();
}
