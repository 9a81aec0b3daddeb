/**
 * The desired CronJob for a workload (DESIGN.md §3), built from the spec and
 * the configuration only: no observed fields (resourceVersion, status, uid),
 * so the same inputs always give the same object and the same spec-hash.
 *
 * Credentials reach the dumper only as secretKeyRef to the mirrored Secret
 * (and S3 keys as secretKeyRef to the configured Secret): no value of either
 * is ever part of this object.
 */
import type {
  V1Container,
  V1CronJob,
  V1EnvVar,
  V1PodSpec,
  V1Volume,
  V1VolumeMount,
} from '@kubernetes/client-node';
import type { BackupSpec } from '../annotations/index.js';
import type { OperatorConfig } from '../config/operator.js';
import { DUMPER_ENV as E, TERMINATION_MESSAGE_PATH } from '../contract/dumper-env.js';
import type { WorkloadRef } from '../workload.js';
import { SOURCE_POD_ANNOTATION, SPEC_HASH_ANNOTATION } from '../labels.js';
import type { EngineType } from '../manifest.js';
import { DEFAULT_COMPRESSION, formatCompression } from '../pipeline/compression.js';
import { specHash } from './hash.js';
import { ownedAnnotations, ownedLabels, ownerReferences } from './labels.js';
import { objectName } from './names.js';

/** The uid/gid of the backup pods: the conventional "nonroot" user of distroless images. */
export const BACKUP_UID = 65532;
export const CONTAINER_NAME = 'dump';

/** Engines whose tool needs a writable /tmp (the MySQL client's 0600 defaults file; elasticdump's temp files). */
const needsTmp: Record<EngineType, boolean> = {
  postgresql: false,
  mysql: true,
  mariadb: true,
  elasticsearch: true,
};

export interface DesiredCronJobInput {
  workload: WorkloadRef;
  spec: BackupSpec;
  target: { host: string; port: number };
  /** Which keys the mirrored Secret has (hasPassword defaults to true). */
  credentials: { hasUsername: boolean; hasPassword?: boolean; hasDatabase: boolean };
  config: OperatorConfig;
  /** The pod the spec was read from, "name" or "namespace/name": Events go there. */
  sourcePod: string;
}

export function desiredCronJob(input: DesiredCronJobInput): V1CronJob {
  const { workload, spec, config } = input;
  const name = objectName(workload);

  const volumes: V1Volume[] = [];
  const mounts: V1VolumeMount[] = [];
  if (needsTmp[spec.type]) {
    volumes.push({ name: 'tmp', emptyDir: { sizeLimit: '256Mi' } });
    mounts.push({ name: 'tmp', mountPath: '/tmp' });
  }

  const resources = spec.resources ?? config.defaultResources;
  return ownedCronJob({
    name,
    labels: ownedLabels(workload, spec.type),
    input,
    schedule: spec.schedule,
    backoffLimit: config.job.backoffLimit,
    activeDeadlineSeconds: config.job.activeDeadlineSeconds,
    podSpec: lockedDownPod(
      config,
      {
        name: CONTAINER_NAME,
        image: config.images[spec.type],
        args: ['dump'],
        env: dumperEnv(input, name),
        resources: { requests: { ...resources.requests }, limits: { ...resources.limits } },
        terminationMessagePolicy: 'FallbackToLogsOnError',
        ...(mounts.length > 0 ? { volumeMounts: mounts } : {}),
      },
      volumes,
    ),
  });
}

/**
 * The pod of every Job snapkeeper runs (DESIGN.md §3): the backup
 * ServiceAccount without a token, uid/gid BACKUP_UID, non-root, seccomp
 * RuntimeDefault, one container with a read-only root filesystem and no
 * capabilities, reporting through TERMINATION_MESSAGE_PATH.
 */
export function lockedDownPod(
  config: OperatorConfig,
  container: V1Container & { terminationMessagePolicy: string },
  volumes: V1Volume[],
): V1PodSpec {
  return {
    serviceAccountName: config.backupServiceAccount,
    automountServiceAccountToken: false,
    restartPolicy: 'Never',
    enableServiceLinks: false,
    securityContext: {
      runAsNonRoot: true,
      runAsUser: BACKUP_UID,
      runAsGroup: BACKUP_UID,
      fsGroup: BACKUP_UID,
      seccompProfile: { type: 'RuntimeDefault' },
    },
    containers: [
      {
        ...container,
        imagePullPolicy: config.imagePullPolicy,
        securityContext: {
          readOnlyRootFilesystem: true,
          allowPrivilegeEscalation: false,
          privileged: false,
          capabilities: { drop: ['ALL'] },
        },
        terminationMessagePath: TERMINATION_MESSAGE_PATH,
      },
    ],
    ...(volumes.length > 0 ? { volumes } : {}),
  };
}

/**
 * A CronJob snapkeeper owns for a workload, in the control namespace, with
 * its owned labels (on the Jobs and pods too), the workload and source-pod
 * annotations, and the spec-hash of the whole object.
 */
export function ownedCronJob(o: {
  name: string;
  labels: Record<string, string>;
  input: { workload: WorkloadRef; spec: BackupSpec; config: OperatorConfig; sourcePod: string };
  schedule: string;
  backoffLimit: number;
  activeDeadlineSeconds: number;
  podSpec: V1PodSpec;
}): V1CronJob {
  const { workload, spec, config } = o.input;
  const sourcePod = o.input.sourcePod.includes('/')
    ? o.input.sourcePod
    : `${workload.namespace}/${o.input.sourcePod}`;
  const cronJob: V1CronJob = {
    apiVersion: 'batch/v1',
    kind: 'CronJob',
    metadata: {
      name: o.name,
      namespace: config.controlNamespace,
      labels: o.labels,
      annotations: { ...ownedAnnotations(workload), [SOURCE_POD_ANNOTATION]: sourcePod },
      ...ownerReferences(config),
    },
    spec: {
      schedule: o.schedule,
      timeZone: spec.timezone,
      concurrencyPolicy: 'Forbid',
      // A suspended workload runs nothing: neither its backup nor its restore test.
      suspend: spec.suspend,
      startingDeadlineSeconds: config.job.startingDeadlineSeconds,
      successfulJobsHistoryLimit: config.job.successfulJobsHistoryLimit,
      failedJobsHistoryLimit: config.job.failedJobsHistoryLimit,
      jobTemplate: {
        metadata: { labels: o.labels },
        spec: {
          backoffLimit: o.backoffLimit,
          activeDeadlineSeconds: o.activeDeadlineSeconds,
          ttlSecondsAfterFinished: config.job.ttlSecondsAfterFinished,
          template: {
            metadata: { labels: o.labels },
            spec: o.podSpec,
          },
        },
      },
    },
  };
  cronJob.metadata!.annotations![SPEC_HASH_ANNOTATION] = specHash(cronJob);
  return cronJob;
}

/** The dumper's environment (docs/architecture.md, "The dumper's environment"; names: src/contract/dumper-env.ts). */
function dumperEnv(input: DesiredCronJobInput, secretName: string): V1EnvVar[] {
  const { workload, spec, target, credentials, config } = input;
  const fromSecret = (envName: string, key: string, secret = secretName): V1EnvVar => ({
    name: envName,
    valueFrom: { secretKeyRef: { name: secret, key } },
  });
  const literal = (envName: string, value: string): V1EnvVar => ({ name: envName, value });

  const env: V1EnvVar[] = [
    literal(E.type, spec.type),
    literal(E.host, target.host),
    literal(E.port, String(target.port)),
  ];
  if (credentials.hasUsername) env.push(fromSecret(E.username, 'username'));
  if (credentials.hasPassword !== false) env.push(fromSecret(E.password, 'password'));
  if (spec.databases !== undefined) {
    env.push(literal(E.databases, spec.databases === '*' ? '*' : spec.databases.join(',')));
  } else if (credentials.hasDatabase) {
    env.push(fromSecret(E.databases, 'database'));
  }
  if (spec.clientVersion !== undefined) env.push(literal(E.clientVersion, spec.clientVersion));
  if (spec.dumpOptions.length > 0)
    env.push(literal(E.dumpOptions, JSON.stringify(spec.dumpOptions)));
  if (spec.type === 'elasticsearch' && spec.esLimit !== undefined) {
    env.push(literal(E.esLimit, String(spec.esLimit)));
  }
  // Only when it is not the dumper's default: CronJobs of workloads that
  // choose nothing keep the spec (and spec-hash) they had before.
  if (
    spec.compression !== undefined &&
    formatCompression(spec.compression) !== formatCompression(DEFAULT_COMPRESSION)
  )
    env.push(literal(E.compression, formatCompression(spec.compression)));
  env.push(literal(E.recipients, spec.recipients.join(',')));
  env.push(literal(E.retention, spec.retention ?? ''));
  env.push(...storageEnv(workload, config));
  env.push(literal(E.terminationMessagePath, TERMINATION_MESSAGE_PATH));
  // Tools that look for a home directory find a writable one (or none, harmlessly).
  env.push(literal('HOME', '/tmp'));
  return env;
}

/**
 * Where the workload's backups are and how to reach them: the same variables
 * for the backup container and the restore-test container (S3 keys only as
 * secretKeyRef to the configured Secret).
 */
export function storageEnv(
  workload: WorkloadRef,
  config: Pick<
    OperatorConfig,
    | 'storage'
    | 'keyTemplate'
    | 's3Endpoint'
    | 's3Region'
    | 's3CredentialsSecret'
    | 's3ForcePathStyle'
  >,
): V1EnvVar[] {
  const literal = (name: string, value: string): V1EnvVar => ({ name, value });
  const fromSecret = (name: string, secret: string): V1EnvVar => ({
    name,
    valueFrom: { secretKeyRef: { name: secret, key: name } },
  });
  const env: V1EnvVar[] = [
    literal(E.storage, config.storage),
    literal(E.keyTemplate, config.keyTemplate),
    literal(E.workloadNamespace, workload.namespace),
    literal(E.workloadKind, workload.kind),
    literal(E.workloadName, workload.name),
  ];
  if (config.s3Endpoint !== undefined) env.push(literal(E.s3Endpoint, config.s3Endpoint));
  if (config.s3Region !== undefined) env.push(literal(E.s3Region, config.s3Region));
  if (config.s3CredentialsSecret !== undefined) {
    env.push(fromSecret(E.s3AccessKeyId, config.s3CredentialsSecret));
    env.push(fromSecret(E.s3SecretAccessKey, config.s3CredentialsSecret));
  }
  if (config.s3ForcePathStyle) env.push(literal(E.s3ForcePathStyle, 'true'));
  return env;
}
