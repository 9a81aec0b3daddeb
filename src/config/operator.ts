/**
 * The operator's configuration, from environment variables set by the chart
 * (docs/architecture.md, "The operator's environment"). Declared once with
 * zod; loadOperatorConfig reports every problem at once, one "VARIABLE: what
 * is wrong" line each, so a bad install is fixed in one round.
 *
 * Why one file of about 380 lines: it is one declaration. The typed
 * config, the zod schema (one entry per variable) and the mapping between
 * them describe the same 36 variables; a new variable is one line in
 * each, read side by side.
 */
import type { V1OwnerReference } from '@kubernetes/client-node';
import { hostname } from 'node:os';
import { z } from 'zod';
import { isAgeRecipient } from '../crypto/age-keys.js';
import { ConfigError } from '../errors.js';
import type { EngineType } from '../manifest.js';
import {
  parseResources,
  RESOURCES_ACCEPTED,
  type DumperResources,
} from '../annotations/resources.js';
import { RETENTION_ACCEPTED, retentionProblem } from '../annotations/retention.js';
import { DEFAULT_KEY_TEMPLATE, checkKeyTemplate } from '../contract/key-template.js';
import { VERSION } from '../version.js';
import {
  COMPRESSION_ACCEPTED,
  parseCompression,
  type Compression,
} from '../pipeline/compression.js';

/** Requests/limits of a restore-test pod where neither the pod nor the chart says otherwise. */
export const DEFAULT_RESTORE_TEST_RESOURCES = 'cpu=500m,memory=1Gi,ephemeral-storage=4Gi';
/** The key of the identity Secret where the chart names none. */
export const DEFAULT_RESTORE_TEST_IDENTITY_KEY = 'identity';

/** Where the chart sets no image: the images `make images` builds, tagged with this version. */
export function defaultImage(type: EngineType): string {
  return `ghcr.io/snapkeeper/dumper-${type}:${VERSION === '0.0.0-dev' ? 'latest' : VERSION}`;
}

export interface OperatorConfig {
  /** Where CronJobs, Secrets, Jobs and the Lease live. */
  controlNamespace: string;
  /** Namespaces whose pods are watched (deduplicated, in the given order). */
  watchNamespaces: string[];
  images: Record<EngineType, string>;
  imagePullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  /** ServiceAccount of the backup pods (no RBAC, token not mounted). */
  backupServiceAccount: string;
  /** `s3://bucket/prefix`. */
  storage: string;
  s3Endpoint?: string;
  s3Region?: string;
  s3ForcePathStyle: boolean;
  /** Secret in the control namespace with AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY; absent for IRSA / Workload Identity. */
  s3CredentialsSecret?: string;
  keyTemplate: string;
  defaultRetention?: string;
  /** Where a pod sets no `snapkeeper.io/compression`; absent: the dumper's gzip:6. */
  defaultCompression?: Compression;
  defaultRecipients: string[];
  defaultEncryption: boolean;
  defaultResources: DumperResources;
  resyncSeconds: number;
  /** `/metrics`, `/healthz`, `/readyz`. */
  http: { host: string; port: number };
  leaderElection: boolean;
  leaseName: string;
  /** Leader identity. */
  podName: string;
  missedBackupGraceSeconds: number;
  /**
   * A backup Job still running when its workload goes: `finish` lets it
   * finish (its CronJob is deleted with orphan propagation, the mirrored
   * Secret kept until it is done); `stop` deletes it with the CronJob.
   */
  cleanupRunningBackups: 'finish' | 'stop';
  /**
   * A ConfigMap in the control namespace (the chart's own) that every
   * CronJob and Secret snapkeeper creates names as its owner, so deleting it
   * (`helm uninstall`) has the garbage collector remove them too.
   */
  ownerConfigMap?: string;
  /** That ConfigMap as an owner reference, with its uid: set by startOperator. */
  ownerReference?: V1OwnerReference;
  /** The scheduled restore test (chart values restoreTest.*). */
  restoreTest: {
    /** Requests/limits where a pod sets no `snapkeeper.io/restore-test-resources`. */
    resources: DumperResources;
    activeDeadlineSeconds: number;
    /**
     * A Secret in the control namespace holding an age identity file (key
     * `key`), mounted into restore-test pods to decrypt encrypted backups.
     */
    identitySecret?: { name: string; key: string };
  };
  /** Limits of the backup Jobs (see docs/architecture.md). */
  job: {
    activeDeadlineSeconds: number;
    backoffLimit: number;
    ttlSecondsAfterFinished: number;
    startingDeadlineSeconds: number;
    successfulJobsHistoryLimit: number;
    failedJobsHistoryLimit: number;
  };
}

const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]{0,251}[a-z0-9])?$/;

const optional = z
  .string()
  .optional()
  .transform((s) => (s === undefined || s.trim() === '' ? undefined : s.trim()));

const namespaceName = z
  .string()
  .trim()
  .regex(
    DNS_LABEL,
    'is not a namespace name (a DNS label: lowercase letters, digits, "-", at most 63)',
  );

const boolean = (fallback: boolean) =>
  optional.pipe(
    z
      .enum(['true', 'false'], { error: 'must be "true" or "false"' })
      .optional()
      .transform((s) => (s === undefined ? fallback : s === 'true')),
  );

const integer = (fallback: number, min: number, max: number) =>
  optional.pipe(
    z
      .string()
      .regex(/^\d+$/, `must be a whole number from ${min} to ${max}`)
      .transform(Number)
      .pipe(z.number().min(min, `must be at least ${min}`).max(max, `must be at most ${max}`))
      .optional()
      .transform((n) => n ?? fallback),
  );

const image = (type: EngineType) =>
  optional.pipe(
    z
      .string()
      .regex(/^[^\s]+$/, 'is not an image reference')
      .optional()
      .transform((s) => s ?? defaultImage(type)),
  );

const schema = z.object({
  SNAPKEEPER_CONTROL_NAMESPACE: namespaceName,
  SNAPKEEPER_WATCH_NAMESPACES: z
    .string({ error: 'is required (comma list of namespaces whose pods are watched)' })
    .transform((s) => [
      ...new Set(
        s
          .split(',')
          .map((n) => n.trim())
          .filter((n) => n !== ''),
      ),
    ])
    .pipe(
      z
        .array(namespaceName)
        .min(1, 'is required (comma list of namespaces whose pods are watched)'),
    ),
  SNAPKEEPER_IMAGE_POSTGRESQL: image('postgresql'),
  SNAPKEEPER_IMAGE_MYSQL: image('mysql'),
  SNAPKEEPER_IMAGE_MARIADB: image('mariadb'),
  SNAPKEEPER_IMAGE_ELASTICSEARCH: image('elasticsearch'),
  SNAPKEEPER_IMAGE_PULL_POLICY: optional.pipe(
    z
      .enum(['Always', 'IfNotPresent', 'Never'], { error: 'must be Always, IfNotPresent or Never' })
      .default('IfNotPresent'),
  ),
  SNAPKEEPER_BACKUP_SERVICE_ACCOUNT: optional.pipe(
    z.string().regex(DNS_SUBDOMAIN, 'is not a ServiceAccount name').default('snapkeeper-backup'),
  ),
  SNAPKEEPER_STORAGE: z
    .string({ error: 'is required (s3://bucket/prefix)' })
    .trim()
    .regex(/^s3:\/\/[a-z0-9][a-z0-9.-]{1,61}[a-z0-9](\/\S*)?$/, 'must be s3://bucket/prefix'),
  SNAPKEEPER_S3_ENDPOINT: optional.pipe(
    z
      .url({ protocol: /^https?$/, error: 'must be an http(s) URL like https://s3.example.com' })
      .optional(),
  ),
  SNAPKEEPER_S3_REGION: optional,
  SNAPKEEPER_S3_FORCE_PATH_STYLE: boolean(false),
  SNAPKEEPER_S3_CREDENTIALS_SECRET: optional.pipe(
    z.string().regex(DNS_SUBDOMAIN, 'is not a Secret name').optional(),
  ),
  // The dumper's own check (src/contract/key-template.ts): a template the operator puts
  // on every CronJob must be one the dumper runs with.
  SNAPKEEPER_KEY_TEMPLATE: optional.pipe(
    z
      .string()
      .superRefine((s, ctx) => {
        const problems = checkKeyTemplate(s);
        if (problems.length > 0) ctx.addIssue({ code: 'custom', message: problems.join('; ') });
      })
      .default(DEFAULT_KEY_TEMPLATE),
  ),
  SNAPKEEPER_DEFAULT_RETENTION: optional.pipe(
    z
      .string()
      .refine(
        (s) => retentionProblem(s) === undefined,
        `is not a retention policy; accepted: ${RETENTION_ACCEPTED}`,
      )
      .optional(),
  ),
  SNAPKEEPER_DEFAULT_COMPRESSION: optional.transform((s, ctx) => {
    if (s === undefined) return undefined;
    const parsed = parseCompression(s);
    if (parsed.ok) return parsed.compression;
    ctx.addIssue({
      code: 'custom',
      message: `${parsed.reason}; accepted: ${COMPRESSION_ACCEPTED}`,
    });
    return z.NEVER;
  }),
  SNAPKEEPER_DEFAULT_RECIPIENTS: optional.pipe(
    z
      .string()
      .transform((s) => s.split(/[\s,]+/).filter((r) => r !== ''))
      .pipe(
        z.array(
          z.string().refine(isAgeRecipient, 'holds a value that is not an age recipient (age1…)'),
        ),
      )
      .optional()
      .transform((r) => r ?? []),
  ),
  SNAPKEEPER_DEFAULT_ENCRYPTION: boolean(false),
  SNAPKEEPER_DEFAULT_RESOURCES: optional.transform((s, ctx) => {
    const parsed = parseResources(s ?? 'cpu=100m,memory=256Mi');
    if (parsed.ok) return parsed.resources;
    ctx.addIssue({ code: 'custom', message: `${parsed.reason}; accepted: ${RESOURCES_ACCEPTED}` });
    return z.NEVER;
  }),
  SNAPKEEPER_RESYNC_SECONDS: integer(300, 10, 86_400),
  SNAPKEEPER_HTTP_ADDRESS: optional.transform((s, ctx) => {
    const m = /^(.*):(\d{1,5})$/.exec(s ?? '0.0.0.0:8080');
    const port = Number(m?.[2]);
    if (!m || port > 65_535) {
      ctx.addIssue({ code: 'custom', message: 'must be host:port, e.g. 0.0.0.0:8080' });
      return z.NEVER;
    }
    return { host: m[1]!.replace(/^\[(.*)\]$/, '$1') || '0.0.0.0', port };
  }),
  SNAPKEEPER_LEADER_ELECTION: boolean(true),
  SNAPKEEPER_LEASE_NAME: optional.pipe(
    z.string().regex(DNS_SUBDOMAIN, 'is not a Lease name').default('snapkeeper-leader'),
  ),
  POD_NAME: optional,
  SNAPKEEPER_MISSED_BACKUP_GRACE_SECONDS: integer(3600, 0, 31 * 86_400),
  SNAPKEEPER_CLEANUP_RUNNING_BACKUPS: optional.pipe(
    z.enum(['finish', 'stop'], { error: 'must be "finish" or "stop"' }).default('finish'),
  ),
  SNAPKEEPER_OWNER_CONFIGMAP: optional.pipe(
    z.string().regex(DNS_SUBDOMAIN, 'is not a ConfigMap name').optional(),
  ),
  SNAPKEEPER_RESTORE_TEST_RESOURCES: optional.transform((s, ctx) => {
    const parsed = parseResources(s ?? DEFAULT_RESTORE_TEST_RESOURCES);
    if (parsed.ok) return parsed.resources;
    ctx.addIssue({ code: 'custom', message: `${parsed.reason}; accepted: ${RESOURCES_ACCEPTED}` });
    return z.NEVER;
  }),
  SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS: integer(3 * 3600, 60, 7 * 86_400),
  SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET: optional.pipe(
    z.string().regex(DNS_SUBDOMAIN, 'is not a Secret name').optional(),
  ),
  SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: optional.pipe(
    z
      .string()
      .regex(
        /^[-._a-zA-Z0-9]{1,253}$/,
        'is not a Secret key (letters, digits, "-", "_", ".", at most 253)',
      )
      .optional(),
  ),
  SNAPKEEPER_JOB_ACTIVE_DEADLINE_SECONDS: integer(6 * 3600, 60, 7 * 86_400),
  SNAPKEEPER_JOB_BACKOFF_LIMIT: integer(1, 0, 10),
  SNAPKEEPER_JOB_TTL_SECONDS_AFTER_FINISHED: integer(7 * 86_400, 300, 90 * 86_400),
  SNAPKEEPER_JOB_STARTING_DEADLINE_SECONDS: integer(3600, 10, 86_400),
  SNAPKEEPER_JOB_HISTORY_LIMIT: integer(3, 1, 100),
});

/**
 * Reads and validates the operator's environment. Throws ConfigError whose
 * `problems` are "VARIABLE: what is wrong", one per problem.
 */
export function loadOperatorConfig(env: NodeJS.ProcessEnv = process.env): OperatorConfig {
  const input = {
    ...env,
    SNAPKEEPER_CONTROL_NAMESPACE:
      nonEmpty(env.SNAPKEEPER_CONTROL_NAMESPACE) ?? nonEmpty(env.POD_NAMESPACE) ?? 'snapkeeper',
  };
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map(
      (i) => `${String(i.path[0] ?? 'environment')}: ${i.message}`,
    );
    throw new ConfigError([...new Set(problems)], 'invalid operator configuration');
  }
  const v = parsed.data;
  const problems: string[] = [];
  if (v.SNAPKEEPER_DEFAULT_ENCRYPTION && v.SNAPKEEPER_DEFAULT_RECIPIENTS.length === 0) {
    problems.push(
      'SNAPKEEPER_DEFAULT_ENCRYPTION: is "true" but SNAPKEEPER_DEFAULT_RECIPIENTS is empty',
    );
  }
  if (v.SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY && !v.SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET) {
    problems.push(
      'SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY: is set but SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET (the Secret it is a key of) is empty',
    );
  }
  if (problems.length > 0) throw new ConfigError(problems, 'invalid operator configuration');

  const config: OperatorConfig = {
    controlNamespace: v.SNAPKEEPER_CONTROL_NAMESPACE,
    watchNamespaces: v.SNAPKEEPER_WATCH_NAMESPACES,
    images: {
      postgresql: v.SNAPKEEPER_IMAGE_POSTGRESQL,
      mysql: v.SNAPKEEPER_IMAGE_MYSQL,
      mariadb: v.SNAPKEEPER_IMAGE_MARIADB,
      elasticsearch: v.SNAPKEEPER_IMAGE_ELASTICSEARCH,
    },
    imagePullPolicy: v.SNAPKEEPER_IMAGE_PULL_POLICY,
    backupServiceAccount: v.SNAPKEEPER_BACKUP_SERVICE_ACCOUNT,
    storage: v.SNAPKEEPER_STORAGE,
    s3ForcePathStyle: v.SNAPKEEPER_S3_FORCE_PATH_STYLE,
    keyTemplate: v.SNAPKEEPER_KEY_TEMPLATE,
    defaultRecipients: v.SNAPKEEPER_DEFAULT_RECIPIENTS,
    defaultEncryption: v.SNAPKEEPER_DEFAULT_ENCRYPTION,
    defaultResources: v.SNAPKEEPER_DEFAULT_RESOURCES,
    resyncSeconds: v.SNAPKEEPER_RESYNC_SECONDS,
    http: v.SNAPKEEPER_HTTP_ADDRESS,
    leaderElection: v.SNAPKEEPER_LEADER_ELECTION,
    leaseName: v.SNAPKEEPER_LEASE_NAME,
    podName: v.POD_NAME ?? hostname(),
    missedBackupGraceSeconds: v.SNAPKEEPER_MISSED_BACKUP_GRACE_SECONDS,
    cleanupRunningBackups: v.SNAPKEEPER_CLEANUP_RUNNING_BACKUPS,
    restoreTest: {
      resources: v.SNAPKEEPER_RESTORE_TEST_RESOURCES,
      activeDeadlineSeconds: v.SNAPKEEPER_RESTORE_TEST_ACTIVE_DEADLINE_SECONDS,
      ...(v.SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET
        ? {
            identitySecret: {
              name: v.SNAPKEEPER_RESTORE_TEST_IDENTITY_SECRET,
              key: v.SNAPKEEPER_RESTORE_TEST_IDENTITY_KEY ?? DEFAULT_RESTORE_TEST_IDENTITY_KEY,
            },
          }
        : {}),
    },
    job: {
      activeDeadlineSeconds: v.SNAPKEEPER_JOB_ACTIVE_DEADLINE_SECONDS,
      backoffLimit: v.SNAPKEEPER_JOB_BACKOFF_LIMIT,
      ttlSecondsAfterFinished: v.SNAPKEEPER_JOB_TTL_SECONDS_AFTER_FINISHED,
      startingDeadlineSeconds: v.SNAPKEEPER_JOB_STARTING_DEADLINE_SECONDS,
      successfulJobsHistoryLimit: v.SNAPKEEPER_JOB_HISTORY_LIMIT,
      failedJobsHistoryLimit: v.SNAPKEEPER_JOB_HISTORY_LIMIT,
    },
  };
  if (v.SNAPKEEPER_S3_ENDPOINT) config.s3Endpoint = v.SNAPKEEPER_S3_ENDPOINT;
  if (v.SNAPKEEPER_S3_REGION) config.s3Region = v.SNAPKEEPER_S3_REGION;
  if (v.SNAPKEEPER_S3_CREDENTIALS_SECRET)
    config.s3CredentialsSecret = v.SNAPKEEPER_S3_CREDENTIALS_SECRET;
  if (v.SNAPKEEPER_OWNER_CONFIGMAP) config.ownerConfigMap = v.SNAPKEEPER_OWNER_CONFIGMAP;
  if (v.SNAPKEEPER_DEFAULT_RETENTION) config.defaultRetention = v.SNAPKEEPER_DEFAULT_RETENTION;
  if (v.SNAPKEEPER_DEFAULT_COMPRESSION)
    config.defaultCompression = v.SNAPKEEPER_DEFAULT_COMPRESSION;
  return config;
}

function nonEmpty(s: string | undefined): string | undefined {
  return s === undefined || s.trim() === '' ? undefined : s.trim();
}
