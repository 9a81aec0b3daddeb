/**
 * The flags several commands share, declared without loading what the
 * commands do (src/cli/commands/*.ts register every command at start; the
 * implementations load when one runs).
 */
import type { Command } from 'commander';

/** Where the backups are. */
export interface FromFlags {
  from?: string;
  endpoint?: string;
  region?: string;
  forcePathStyle?: boolean;
}

export function addFromFlags(cmd: Command): Command {
  return cmd
    .option('--from <location>', 'directory or s3://bucket/prefix (default SNAPKEEPER_STORAGE)')
    .option('--endpoint <url>', 'S3 endpoint (default AWS_ENDPOINT_URL_S3)')
    .option('--region <region>', 'S3 region (default AWS_REGION)')
    .option('--force-path-style', 'path-style S3 addressing (MinIO and the like)');
}

/** Which backup: restore, verify, restore-test. */
export interface SelectFlags extends FromFlags {
  workload?: string;
  at?: string;
  key?: string;
}

export function addSelectFlags(cmd: Command): Command {
  return cmd
    .option(
      '--workload <namespace/name>',
      'whose backup; not needed when the location holds backups of one workload',
    )
    .option(
      '--at <time>',
      'the newest backup at or before this time (UTC ISO 8601, e.g. 2026-11-20T03:00Z, ' +
        'as list prints it), latest, or now',
    )
    .option(
      '--key <key>',
      'this backup: its manifest key, its directory (or its last segment), or one of its objects; ' +
        'or its full location as backup prints it (s3://… or a path), which implies --from',
    );
}

/** A backup named by an argument: keep, unkeep, delete. */
export interface NamedFlags extends FromFlags {
  workload?: string;
}

export const BACKUP_ARGUMENT =
  'a TIME or key as list prints it (or its last segment), latest, ' +
  'or the full location backup prints after "manifest:"';

export function addNamedFlags(cmd: Command): Command {
  return addFromFlags(cmd).option(
    '--workload <namespace/name>',
    'whose backup; not needed when the location holds backups of one workload',
  );
}

/** The cluster: status, trigger. */
export interface ClusterOptions {
  kubeconfig?: string;
  namespace?: string;
}

export const DEFAULT_CONTROL_NAMESPACE = 'snapkeeper';

export function addClusterOptions(cmd: Command): Command {
  return cmd
    .option(
      '--kubeconfig <file>',
      'kubeconfig file (default: KUBECONFIG, in-cluster, ~/.kube/config)',
    )
    .option(
      '-n, --namespace <namespace>',
      `snapkeeper's control namespace (default: SNAPKEEPER_CONTROL_NAMESPACE, the kubeconfig context's namespace, or ${DEFAULT_CONTROL_NAMESPACE})`,
    );
}

export const collect = (v: string, all: string[]) => [...all, v];
