/** `snapkeeper status` and what `trigger` shares with it: the cluster the flags name, API errors as one line. */
import { BatchV1Api, type KubeConfig } from '@kubernetes/client-node';
import { OperationError, UserError, describeError } from '../errors.js';
import { loadKubeConfig } from '../kube/config.js';
import { MANAGED_SELECTOR } from '../labels.js';
import { formatStatusTable, statusRows } from './status-table.js';
import type { CliContext } from './context.js';
import { DEFAULT_CONTROL_NAMESPACE, type ClusterOptions } from './flags.js';

/** The kubeconfig and the control namespace for a CLI command. */
export function clusterFor(
  opts: ClusterOptions,
  ctx: CliContext,
): { kc: KubeConfig; namespace: string } {
  const kc = loadKubeConfig({ kubeconfig: opts.kubeconfig, env: ctx.env });
  const contextNs = kc.getContextObject(kc.getCurrentContext())?.namespace;
  const namespace =
    opts.namespace ||
    ctx.env.SNAPKEEPER_CONTROL_NAMESPACE ||
    contextNs ||
    DEFAULT_CONTROL_NAMESPACE;
  return { kc, namespace };
}

/** A failed API call as one line: 403 and 404 are the user's to fix. */
export function apiError(err: unknown, what: string): Error {
  const code = (err as { code?: unknown } | null)?.code;
  if (code === 403) return new UserError(`${what}: forbidden (check your RBAC in that namespace)`);
  if (code === 401) return new UserError(`${what}: unauthorized (check your kubeconfig)`);
  return new OperationError(`${what}: ${describeError(err)}`);
}

export interface StatusOptions extends ClusterOptions {
  output: string;
}

/** `snapkeeper status`: every tracked workload of the control namespace. */
export async function status(opts: StatusOptions, ctx: CliContext): Promise<void> {
  if (opts.output !== 'table' && opts.output !== 'json') {
    throw new UserError(`--output must be table or json, got '${opts.output}'`);
  }
  const { kc, namespace } = clusterFor(opts, ctx);
  let items;
  try {
    items = (
      await kc
        .makeApiClient(BatchV1Api)
        .listNamespacedCronJob({ namespace, labelSelector: MANAGED_SELECTOR })
    ).items;
  } catch (err) {
    throw apiError(err, `cannot list CronJobs in namespace ${namespace}`);
  }
  const now = new Date();
  const rows = statusRows(items, now);
  if (opts.output === 'json') {
    ctx.stdout.write(JSON.stringify(rows, null, 2) + '\n');
  } else if (rows.length === 0) {
    ctx.stdout.write(`no tracked workloads in namespace ${namespace}\n`);
  } else {
    ctx.stdout.write(formatStatusTable(rows, now));
  }
}
